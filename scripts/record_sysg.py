#!/usr/bin/env python3
"""Record lesson 12's real census of the runtime's own goroutines: each configuration of
gostack/sched/sysgprobe.py's program (GOMAXPROCS 1, 2, 4, and 4 then 2 then 8, one
runtime.GC() after each) run N times.

    python scripts/record_sysg.py              # every configuration, --runs each
    python scripts/record_sysg.py --runs 5

Writes gostack/data/sched_sysg_recorded.json: the Go version, the date, the machine's
CPU count and load average, and per configuration the list of runs (one census per
number of GCs). tests/test_sysgprobe.py checks them against the Go source.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import _recording

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack.sched import sysgprobe  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _recording.parser(__doc__, runs=10).parse_args(argv)
    go, binary, load = _recording.prepare(sysgprobe.build)
    configs = {}
    for name, procs in sysgprobe.CONFIGS.items():
        runs = _recording.timed_runs(
            name, args.runs,
            lambda name=name: [asdict(c) for c in sysgprobe.run_once(binary, name)])
        configs[name] = {"gomaxprocs": list(procs), "runs": runs}
        seen = {tuple(c["created_by"].get(sysgprobe.WORKER_CREATOR, 0) for c in r) for r in runs}
        print(f"{name}: workers after 0, 1, ... GCs: {sorted(seen)}", flush=True)
    _recording.write(sysgprobe.PATH, go, load, "per configuration",
                     "one run = one process of gostack/sched/sysgprobe.py's GO_SOURCE (and "
                     "its children, which panic)", configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
