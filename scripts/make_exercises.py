"""Generate exercises/ from solutions/ (the single source), then execute both.

    python scripts/make_exercises.py             # regenerate what changed, execute it, clean it
    python scripts/make_exercises.py --check     # exit 1 if exercises/ is stale (no writing)
    python scripts/make_exercises.py --force     # regenerate and execute every exercise

Each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes ``raise
NotImplementedError()``; everything else is kept (see gostack.grade.authoring). The learner
versions are executed like the lessons (gostack.nbtools), so their check cells show the
0-point report that a learner sees first; a solution whose exercise was rewritten, or that
was never executed, is executed too (its check cell shows full marks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from gostack import nbtools
from gostack.grade import authoring

ROOT = Path(__file__).resolve().parents[1]


def _executed(path: Path) -> bool:
    """Every code cell that ran shows an output: a notebook written but never run has none."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return any(c.get("outputs") for c in cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale exercises")
    parser.add_argument("--force", action="store_true", help="regenerate every exercise")
    parser.add_argument("--no-execute", action="store_true", help="write without executing")
    args = parser.parse_args(argv)
    solutions, exercises = ROOT / "solutions", ROOT / "exercises"
    stale = authoring.stale(solutions, exercises)
    if args.check:
        for line in stale:
            print(f"stale: {line}", file=sys.stderr)
        if stale:
            print("run `make exercises`", file=sys.stderr)
        return 1 if stale else 0
    exercises.mkdir(exist_ok=True)
    written = []
    sources = []
    for src in sorted(solutions.glob("[0-9][0-9]-*.ipynb")):
        if not _executed(src) or not nbtools.is_clean(src):
            sources.append(src)
        target = exercises / src.name
        nb = nbformat.read(src, as_version=4)
        if not authoring.has_solutions(nb):
            print(f"warning: {src.name} has no {authoring.BEGIN} region", file=sys.stderr)
        current = not any(line.startswith(target.name + ":") for line in stale)
        if current and not args.force and nbtools.is_clean(target) and _executed(target):
            continue
        nbtools.write_atomic(nbtools.clean(authoring.learner_version(nb)), target)
        written.append(target)
        if src not in sources:
            sources.append(src)
    for orphan in (line.split(":")[0] for line in stale if "has no solutions/" in line):
        print(f"warning: exercises/{orphan} has no solution notebook", file=sys.stderr)
    if (written or sources) and not args.no_execute:
        nbtools.run([*sources, *written])
    for path in [*sources, *written]:
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
