"""Grading throughput: `gostack grade --jobs 2` against executing the notebooks in a kernel.

The submissions are the seven exercise notebooks per student, in three kinds: solved
(solutions/), unsolved (exercises/) and solved with a bug. The baseline executes every
notebook of every submission through a Jupyter kernel with nbclient, as nbgrader's
autograde does (its check cells run the visible tests), first one kernel at a time (nbgrader
is serial), then two at a time. The grader runs the same submissions end to end, command-line
start and worker self-test included, with the visible and hidden cases. Printed as seconds
per submission and ratios, from one run; not a test.

Run: python benchmarks/bench_grade.py [--students N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gostack import nbtools

ROOT = Path(__file__).resolve().parents[1]
BUG = ("size = old_size * 2", "size = old_size * 4")  # in solutions/02-newstack


def make_submissions(folder: Path, students: int) -> list[Path]:
    kinds = ("solved", "unsolved", "buggy")
    out = []
    for i in range(students):
        kind = kinds[i % len(kinds)]
        sub = folder / f"s{i:03d}-{kind}"
        sub.mkdir(parents=True)
        src = ROOT / ("exercises" if kind == "unsolved" else "solutions")
        for nb in sorted(src.glob("*.ipynb")):
            text = nb.read_text(encoding="utf-8")
            if kind == "buggy" and nb.name.startswith("02-"):
                assert BUG[0] in text, "the benchmark's bug no longer applies"
                text = text.replace(*BUG)
            (sub / nb.name).write_text(text, encoding="utf-8")
        out.append(sub)
    return out


def baseline(submissions: list[Path], kernels: int) -> float:
    notebooks = [nb for sub in submissions for nb in sorted(sub.glob("*.ipynb"))]

    def run(path: Path) -> None:
        nbtools.execute(path, timeout=120)  # nbclient, a fresh python3 kernel per notebook

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=kernels) as pool:
        list(pool.map(run, notebooks))
    return time.perf_counter() - start


def grader(folder: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gostack", "grade", str(folder), "--out", str(out),
                    "--jobs", str(jobs), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6, help="submissions (default 6)")
    args = parser.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        subs = make_submissions(Path(tmp) / "subs", n)
        nbs = sum(len(list(s.glob("*.ipynb"))) for s in subs)
        graded = grader(Path(tmp) / "subs", Path(tmp) / "out", jobs=2) / n
        one = baseline(subs, kernels=1) / n
        two = baseline(subs, kernels=2) / n
        shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
    print(f"{n} submissions of {nbs // n} notebooks ({nbs} notebooks), {os.cpu_count()} cores, "
          "one run")
    print(f"  nbclient, one kernel at a time  : {one:6.2f} s per submission")
    print(f"  nbclient, two kernels at a time : {two:6.2f} s per submission")
    print(f"  gostack grade --jobs 2          : {graded:6.2f} s per submission   "
          f"{one / graded:5.1f}x and {two / graded:5.1f}x faster   (aim: 10x)")


if __name__ == "__main__":
    main()
