#!/usr/bin/env python3
"""Record distributions from real Go for stage 2 of the scheduler model (several Ps,
blocking system calls): each configuration of gostack/sched/statprobe.py's program is
run N times and every run's counters are kept.

    python scripts/record_sched_stats.py              # every configuration, --runs each
    python scripts/record_sched_stats.py --runs 10
    python scripts/record_sched_stats.py --config spin_p4_w20000

Writes gostack/data/sched_stats_recorded.json: the Go version, the date, the machine's
CPU count and load average at the start, and per configuration (mode, n, work,
GOMAXPROCS) the list of runs. tests/test_sched_stats.py compares the model's
distributions with these (gostack/sched/stats.py states the claims).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import _recording

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack.sched import statprobe  # noqa: E402
from gostack.sched.stats import CONFIGS, STATS_PATH  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = _recording.parser(__doc__, runs=20)
    ap.add_argument("--config", action="append", help="only these (keep the others)")
    args = ap.parse_args(argv)
    go, binary, load = _recording.prepare(statprobe.build)
    old = json.loads(STATS_PATH.read_text()) if STATS_PATH.exists() else {"configs": {}}
    configs = dict(old.get("configs", {}))
    for name, c in CONFIGS.items():
        if args.config and name not in args.config:
            continue
        runs = _recording.timed_runs(
            name, args.runs, lambda c=c: statprobe.run_once(
                binary, c.mode, c.n, c.work, c.gomaxprocs, godebug=c.godebug).as_dict())
        configs[name] = {"mode": c.mode, "n": c.n, "work": c.work,
                         "gomaxprocs": c.gomaxprocs, "godebug": c.godebug,
                         "recorded": _recording.now("%H:%M:%SZ"),
                         "loadavg": round(os.getloadavg()[0], 2), "runs": runs}
    _recording.write(STATS_PATH, go, load, "per configuration",
                     "one run = one process of gostack/sched/statprobe.py's GO_SOURCE; the "
                     "machine is shared (2 CPUs, load ~8), so the OS decides when each M runs",
                     dict(sorted(configs.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
