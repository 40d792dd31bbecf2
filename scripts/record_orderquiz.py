#!/usr/bin/env python3
"""Record exercise 09's programs with real Go: the simulator's answers, checked.

    python scripts/record_orderquiz.py            # the visible programs and 3 more a category
    python scripts/record_orderquiz.py --runs 9

Writes gostack/data/orderquiz_recorded.json: the Go version, the environment
(realrun.RUN_ENV: one P, GC off), and per program (``category:seed``) the fingerprint
of its Go source, the tokens most runs printed and how many runs printed them, and every
other output with its count (sysmon's first look can preempt the runtime's init: one
schedtick more, which moves the 61-tick check by one G).
tests/test_exercise_09.py checks the simulator's answers against it without Go.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack import realgo  # noqa: E402
from gostack.grade.exercises.e09_predict_order import POOLS, VISIBLE  # noqa: E402
from gostack.sched import orderquiz as oq  # noqa: E402
from gostack.sched.realrun import observe, recorded_header  # noqa: E402
from gostack.sched.render import fingerprint  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "gostack" / "data" / "orderquiz_recorded.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    a = realgo.require()
    data = recorded_header(a)
    data["how"] = ("scripts/record_orderquiz.py: each program rendered to Go once "
                   "(Program.render_go), built, run `runs` times")
    data["programs"] = {}
    for cat in oq.CATEGORIES:
        rest = [s for s in POOLS[cat] if s not in VISIBLE[cat]][:3]
        for seed in [*VISIBLE[cat], *rest]:
            probe = oq.generate(seed, cat).to_probe()
            seen = observe(probe, runs=args.runs)
            data["programs"][f"{cat}:{seed}"] = {
                "fingerprint": fingerprint(probe), "runs": seen.runs,
                "agreeing": seen.agreeing, "output": list(seen.output),
                "others": [[list(o), n] for o, n in seen.outputs[1:]]}
            print(f"{cat}:{seed}: {seen.agreeing}/{seen.runs} runs agree", flush=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(OUT.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
