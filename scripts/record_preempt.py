#!/usr/bin/env python3
"""Record lesson 12's real preemption runs: each configuration of
gostack/sched/preemptprobe.py's program (a loop without calls, with leaf calls, with
calls that have a prologue; with and without GODEBUG=asyncpreemptoff=1) run N times.

    python scripts/record_preempt.py              # every configuration, --runs each
    python scripts/record_preempt.py --runs 10

Writes gostack/data/sched_preempt_recorded.json: the Go version, the date, the machine's
CPU count and load average, and per configuration the list of runs.
tests/test_l12_stealing_preemption.py counts the claims on them.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import _recording

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack.sched import preemptprobe  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _recording.parser(__doc__, runs=20).parse_args(argv)
    go, binary, load = _recording.prepare(preemptprobe.build)
    configs = {}
    for name, c in preemptprobe.CONFIGS.items():
        runs = [asdict(preemptprobe.run_once(binary, c)) for _ in range(args.runs)]
        configs[name] = {"kind": c.kind, "n": c.n, "ms": c.ms, "godebug": c.godebug,
                         "gomaxprocs": 1, "runs": runs}
        print(f"{name}: {sum(preemptprobe.Run(**r).cut for r in runs)}/{args.runs} cut",
              flush=True)
    _recording.write(preemptprobe.PATH, go, load, "1",
                     "one run = one process of gostack/sched/preemptprobe.py's GO_SOURCE",
                     configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
