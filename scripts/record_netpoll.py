#!/usr/bin/env python3
"""Record lesson 11's real runs: N goroutines reading pipes through os.File (the
netpoller) or through syscall.Read (a blocking system call), each configuration of
gostack/sched/netprobe.py's program run several times, every run kept.

    python scripts/record_netpoll.py              # every configuration, --runs each
    python scripts/record_netpoll.py --runs 5

Writes gostack/data/sched_netpoll_recorded.json: the Go version, the date, the CPU
count and load average, and per configuration (mode, n, GOMAXPROCS) the list of runs.
tests/test_l11_blocking.py reads it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import _recording

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack.sched import netprobe  # noqa: E402

PATH = Path(__file__).resolve().parent.parent / "gostack" / "data" / \
    "sched_netpoll_recorded.json"
#: name -> (mode, n, GOMAXPROCS)
CONFIGS = {f"{m}_p1_n{n}": (m, n, 1) for m in netprobe.MODES for n in (20, 100)}


def main(argv: list[str] | None = None) -> int:
    args = _recording.parser(__doc__, runs=10).parse_args(argv)
    go, binary, load = _recording.prepare(netprobe.build)
    configs = {}
    for name, cfg in CONFIGS.items():
        runs = _recording.timed_runs(
            name, args.runs, lambda cfg=cfg: netprobe.run_once(binary, *cfg).as_dict())
        mode, n, procs = cfg
        configs[name] = {"mode": mode, "n": n, "gomaxprocs": procs,
                         "loadavg": round(os.getloadavg()[0], 2), "runs": runs}
    _recording.write(PATH, go, load, "per configuration",
                     "one run = one process of gostack/sched/netprobe.py's GO_SOURCE", configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
