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

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack import realgo  # noqa: E402
from gostack.sched import netprobe  # noqa: E402

PATH = Path(__file__).resolve().parent.parent / "gostack" / "data" / \
    "sched_netpoll_recorded.json"
#: name -> (mode, n, GOMAXPROCS)
CONFIGS = {f"{m}_p1_n{n}": (m, n, 1) for m in netprobe.MODES for n in (20, 100)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    a = realgo.require()
    binary = netprobe.build(print)
    load = os.getloadavg()
    configs = {}
    for name, (mode, n, procs) in CONFIGS.items():
        t0 = time.monotonic()
        runs = [netprobe.run_once(binary, mode, n, procs).as_dict()
                for _ in range(args.runs)]
        configs[name] = {"mode": mode, "n": n, "gomaxprocs": procs,
                         "loadavg": round(os.getloadavg()[0], 2), "runs": runs}
        print(f"{name}: {args.runs} runs in {time.monotonic() - t0:.1f} s", flush=True)
    data = {
        "go": a.version,
        "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "env": {"GOGC": "off", "GOMAXPROCS": "per configuration"},
        "note": "one run = one process of gostack/sched/netprobe.py's GO_SOURCE",
        "configs": configs,
    }
    PATH.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
