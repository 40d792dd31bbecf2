"""The score spread over student ids, for every answer of every exercise's bug zoo.

    python benchmarks/fairness.py                 # 10 ids, per-student cases on
    python benchmarks/fairness.py --ids 50 --jobs 2

Each zoo entry (wrong answers and correct variants, gostack/grade/exercises/eNN_slug.py) is
graded by the real grader (a worker process per exercise, as `gostack grade` runs it) under
every id, with `--vary-per-student` on (the only mode in which the id can matter; without it
every student gets the very same cases). It prints, per entry, the scores seen and the
spread (max - min), which must be 0, and exits 1 if any is not.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gostack.grade import catalog  # noqa: E402
from gostack.grade.grader import Grader, Student  # noqa: E402
from gostack.grade.sandbox import Limits  # noqa: E402

SECRET = b"fairness-benchmark-secret-0123456789"


def notebook(exercise, code: str, folder: Path, name: str) -> Path:
    nb = nbformat.read(ROOT / "solutions" / f"{exercise.id}.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "check" in c.metadata.get("tags", []))
    nb.cells.insert(at, nbformat.v4.new_code_cell(code))
    path = folder / name / f"{exercise.id}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ids", type=int, default=10, help="student ids per entry (default 10)")
    p.add_argument("--jobs", type=int, default=2, help="grading slots (default 2)")
    args = p.parse_args(argv)
    start = time.monotonic()
    worst = 0.0
    slots: queue.SimpleQueue[int] = queue.SimpleQueue()
    for slot in range(args.jobs):
        slots.put(slot)
    with tempfile.TemporaryDirectory() as tmp:
        for exercise in catalog.EXERCISES:
            grader = Grader([exercise], SECRET, Limits(), vary=True)
            try:
                for entry in (*exercise.zoo, *exercise.right):
                    path = notebook(exercise, entry.code, Path(tmp),
                                    f"{exercise.id}-{entry.name}")
                    ids = [f"student{n}@example.edu" for n in range(args.ids)]

                    def one(n: int, path=path, ids=ids, grader=grader) -> float:
                        slot = slots.get()  # a slot grades one student at a time
                        try:
                            return grader.grade(Student(ids[n], [path]), slot=slot).points
                        finally:
                            slots.put(slot)

                    with ThreadPoolExecutor(args.jobs) as pool:
                        scores = list(pool.map(one, range(args.ids)))
                    spread = max(scores) - min(scores)
                    worst = max(worst, spread)
                    kind = "wrong" if hasattr(entry, "breaks") else "right"
                    print(f"{exercise.id:<22} {kind:<5} {entry.name:<32} scores "
                          f"{sorted(set(scores))}  spread {spread:g}")
            finally:
                grader.close()
    print(f"largest spread: {worst:g} over {args.ids} ids per entry "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if worst else 0


if __name__ == "__main__":
    raise SystemExit(main())
