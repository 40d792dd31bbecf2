"""CONTRIBUTING's "Adding an exercise", walked through in a copy of the kit.

A tiny exercise (99-guard: g.stackguard0 for a stack starting at lo) is added exactly as the
steps say: its module in gostack/grade/exercises/, its solution notebook, `make exercises`.
Then the kit's own tests and the grader take it in with nothing else edited: no list to
extend, no total to change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent

MODULE = '''"""Exercise 99 · the stack guard (lesson 03): a walk-through exercise."""

from __future__ import annotations

from ...arch import STACK_GUARD
from ..spec import Aspect, Exercise, Right, Wrong, as_int, same, stack_base


def stack_guard(lo: int) -> int:
    """The reference: g.stackguard0 of a stack starting at lo."""
    return lo + STACK_GUARD


def _cases(rng, visible):
    los = [stack_base(rng) for _ in range(3 if visible else 6)]
    return [{"tags": ["guard"], "args": [lo], "size": 1} for lo in los]


def _run(fns, case):
    return as_int(fns["stackguard0"](*case["args"]), "stackguard0's result")


WRONG = ("lo + 800", "lo + 936", "lo + 920", "lo + 128", "lo - 928", "lo * 928",
         "float(lo + 928)", "str(lo + 928)")
RIGHT = ("lo + 928", "lo + 800 + 0 + 128", "lo + gs.STACK_GUARD", "int(np.int64(lo) + 928)")

EXERCISE = Exercise(
    id="99-guard",
    title="The stack guard",
    lesson="03-prologue",
    functions=(("stackguard0", ("lo",)),),
    reference={"stackguard0": "gostack.grade.exercises.e99_guard.stack_guard"},
    aspects=(Aspect("guard", "the guard sits 928 bytes above lo", 10, same),),
    _cases=_cases,
    _run=_run,
    call_text=lambda c: f"stackguard0({c['args'][0]:#x})",
    visible_seed=801,
    zoo=tuple(Wrong(f"w{i}", ("guard",), f"def stackguard0(lo):\\n    return {e}\\n")
              for i, e in enumerate(WRONG)),
    right=tuple(Right(f"r{i}", "import numpy as np\\n\\n\\ndef stackguard0(lo):\\n"
                      f"    return {e}\\n") for i, e in enumerate(RIGHT)),
)
'''

SOLUTION = [
    ("markdown", "# Exercise 99 · The stack guard\n\nA walk-through exercise.\n\n"
     "**You will learn**\n\n- where the guard sits\n\n"
     "**Before this:** lesson [03 · The prologue](../notebooks/03-prologue.ipynb).", []),
    ("code", "import gostack as gs\nfrom gostack import exercises as ex", []),
    ("code", 'def stackguard0(lo: int) -> int:\n    """g.stackguard0 for a stack at lo."""\n'
     "    ### BEGIN SOLUTION\n    return lo + gs.STACK_GUARD\n    ### END SOLUTION",
     ["solution"]),
    ("code", 'ex.check("99-guard", stackguard0=stackguard0)', ["check"]),
    ("markdown", "## Summary\n\n- The guard sits 928 bytes above lo.", []),
]


def _copy_of_the_kit(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if not src.is_file():
            continue  # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes())
        target.chmod(src.stat().st_mode & 0o777)
    # The venv is the test's own and up to date: make must not reinstall into it.
    os.utime(dest / "pyproject.toml", (0, 0))
    return dest


@pytest.mark.slow
def test_adding_an_exercise_takes_one_module_and_one_notebook(tmp_path):
    if not (VENV / ".stamp-test").exists():
        pytest.skip("needs the kit's venv (make test creates it)")
    kit = _copy_of_the_kit(tmp_path / "kit")
    env = {**os.environ, "PYTHONPATH": str(kit), "PYTHONDONTWRITEBYTECODE": "1"}

    # 1. The exercise's module.
    (kit / "gostack/grade/exercises/e99_guard.py").write_text(MODULE, encoding="utf-8")
    # 2. Its solution notebook.
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in SOLUTION:
        cell = (nbformat.v4.new_code_cell if kind == "code" else
                nbformat.v4.new_markdown_cell)(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, kit / "solutions/99-guard.ipynb")
    # 3. make exercises: the learner version, both executed, the lesson links.
    made = subprocess.run(["make", "exercises", f"VENV={VENV}"], cwd=kit, env=env,
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    executed = nbformat.read(kit / "solutions/99-guard.ipynb", as_version=4)
    check = next(c for c in executed.cells if "check" in c.metadata.get("tags", []))
    assert "Score: 10/10" in "".join(o.get("text", "") for o in check.outputs)
    assert "99-guard" in (kit / "notebooks/03-prologue.ipynb").read_text(encoding="utf-8")

    # 4. The kit's tests take it in: the zoo, the notebooks' anatomy, the links.
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_exercises.py", "tests/test_zoo.py", "-k",
         "99 or one_notebook or generated or every_exercise or every_aspect_can"],
        cwd=kit, env=env, capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "99-guard" in tests.stdout or "passed" in tests.stdout
    links = subprocess.run([sys.executable, "-m", "gostack.course", "--check"], cwd=kit,
                           env=env, capture_output=True, text=True, timeout=120)
    assert links.returncode == 0, links.stdout + links.stderr

    # 5. The grader: full marks for the solution, 0 for the learner's stub; the class total
    # grew by the new exercise's 10 points without anyone writing it down.
    subs = tmp_path / "subs"
    for student, folder in (("sol", "solutions"), ("stub", "exercises")):
        (subs / student).mkdir(parents=True)
        (subs / student / "99-guard.ipynb").write_bytes(
            (kit / folder / "99-guard.ipynb").read_bytes())
    out = tmp_path / "out"
    graded = subprocess.run([sys.executable, "-m", "gostack", "grade", str(subs), "--out",
                             str(out)], cwd=kit, env=env, capture_output=True, text=True,
                            timeout=300)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    score = {s: json.loads((out / "students" / s / "results.json").read_text())["score"]
             for s in ("sol", "stub")}
    assert score == {"sol": 10, "stub": 0}
