#!/usr/bin/env python3
"""Record lesson 11's real runs of locked goroutines: each configuration of
gostack/sched/lockprobe.py's program (n = 1, 5, 10 goroutines waiting on a channel, with
and without runtime.LockOSThread, GOMAXPROCS=1) run N times.

    python scripts/record_lock.py              # every configuration, --runs each
    python scripts/record_lock.py --runs 5

Writes gostack/data/sched_lock_recorded.json: the Go version, the date, the machine's
CPU count and load average, and per configuration the list of runs.
tests/test_lockprobe.py checks them against the Go source and the model.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import _recording

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack.sched import lockprobe  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _recording.parser(__doc__, runs=20).parse_args(argv)
    go, binary, load = _recording.prepare(lockprobe.build)
    configs = {}
    for name, (lock, n) in lockprobe.CONFIGS.items():
        runs = _recording.timed_runs(
            name, args.runs, lambda name=name: asdict(lockprobe.run_once(binary, name)))
        configs[name] = {"lock": lock, "n": n, "gomaxprocs": 1, "runs": runs}
        added = Counter(lockprobe.Run(**r).added for r in runs)
        print(f"{name}: threads added while waiting {dict(sorted(added.items()))}", flush=True)
    _recording.write(lockprobe.PATH, go, load, "1",
                     "one run = one process of gostack/sched/lockprobe.py's GO_SOURCE", configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
