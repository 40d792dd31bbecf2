"""The exercises: solutions/ is the source, exercises/ is generated and current, the check
cells give full marks to the solutions, 0 (without raising) to the stubs, and a useful report
to wrong answers; the problem generator is seeded and its key comes from the simulator."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import gostack as gs
import gostack.problems as pb
from gostack import exercises as ex
from gostack.grade import authoring, catalog

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutants  # noqa: E402


def _namespace(path: Path) -> dict:
    """Run a notebook's code cells except its check cells, as the learner's kernel would."""
    ns: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and "check" not in cell.metadata.get("tags", []):
            exec(compile(cell.source, str(path), "exec"), ns)
    return ns


def _check(path: Path, capsys) -> tuple[ex.Score, str]:
    exercise = catalog.BY_ID[path.stem]
    ns = _namespace(path)
    score = ex.check(exercise.id, **{n: ns[n] for n in exercise.names})
    return score, capsys.readouterr().out


def test_one_notebook_per_exercise():
    assert [p.stem for p in SOLUTIONS] == [e.id for e in catalog.EXERCISES]
    assert [p.name for p in EXERCISES] == [p.name for p in SOLUTIONS]


def test_exercises_are_generated_from_the_current_solutions():
    assert authoring.stale(ROOT / "solutions", ROOT / "exercises") == [], \
        "exercises/ is stale: run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_get_full_marks(path, capsys):
    score, out = _check(path, capsys)
    assert score.points == score.max_points == 10, out
    assert "✘" not in out


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_unsolved_exercises_get_zero_without_raising(path, capsys):
    score, out = _check(path, capsys)
    assert score.points == 0
    assert "not implemented yet" in out and "Score: 0/10" in out


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_notebook_anatomy(path):
    exercise = catalog.BY_ID[path.stem]
    for nb_path in (path, ROOT / "exercises" / path.name):
        nb = nbformat.read(nb_path, as_version=4)
        first = nb.cells[0].source
        assert first.startswith(f"# Exercise {path.stem[:2]} · ")
        assert "**You will learn**" in first and "**Before this:**" in first
        assert f"../notebooks/{exercise.lesson}.ipynb" in first
        assert nb.cells[-1].source.startswith("## Summary")
        checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
        assert len(checks) == 1 and "ex.check" in checks[0].source
        assert checks[0].outputs, "committed executed: the check cell shows its report"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_learner_version_keeps_signatures_and_docstrings(path):
    exercise = catalog.BY_ID[path.stem]
    source = "\n".join(c.source for c in nbformat.read(ROOT / "exercises" / path.name,
                                                       as_version=4).cells
                       if c.cell_type == "code")
    assert authoring.BEGIN not in source and authoring.END not in source
    tree = ast.parse(source)
    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for name, params in exercise.functions:
        fn = defs[name]
        assert tuple(a.arg for a in fn.args.args) == params
        assert ast.get_docstring(fn)
        body = fn.body[1:]
        assert isinstance(body[-1], ast.Raise), f"{name}: the stub raises"


def test_strip_solutions():
    src = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return x\n"
           "    ### END SOLUTION\n\nY = 1\n### BEGIN SOLUTION\nZ = 2\n### END SOLUTION")
    assert authoring.strip_solutions(src) == (
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
        "\nY = 1\n# YOUR CODE HERE\nraise NotImplementedError()")
    for bad in ("### BEGIN SOLUTION\nx", "### END SOLUTION",
                "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(authoring.MarkerError):
            authoring.strip_solutions(bad)


def test_stale_detects_an_edited_solution(tmp_path):
    sol, exe = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    exe.mkdir()
    src = SOLUTIONS[1]
    nb = nbformat.read(src, as_version=4)
    nbformat.write(nb, sol / src.name)
    nbformat.write(authoring.learner_version(nb), exe / src.name)
    assert authoring.stale(sol, exe) == []
    nb.cells[0].source += "\nOne more sentence."
    nbformat.write(nb, sol / src.name)
    assert authoring.stale(sol, exe) == [f"{src.name}: out of date with solutions/{src.name}"]
    (exe / "99-orphan.ipynb").write_text((exe / src.name).read_text())
    assert any("has no solutions/" in line for line in authoring.stale(sol, exe))


# --- the check cells on wrong answers ---------------------------------------------------

@pytest.mark.parametrize("exercise, fn", [
    ("01-prologue", mutants.strict_less),
    ("02-newstack", mutants.single_doubling),
    ("04-adjust", mutants.adjust_uintptrs),
    ("07-shrink", mutants.shrink_half_rule),
])
def test_check_catches_the_mutants(exercise, fn, capsys):
    """tests/mutants.py's broken stages that are written out (not those built on a call of
    the reference, which the check refuses as such; each exercise's zoo has their kind)."""
    e = catalog.BY_ID[exercise]
    score = ex.check(exercise, **{e.names[0]: fn})
    out = capsys.readouterr().out
    assert score.points < score.max_points
    assert "tried:" in out and "expected:" in out and "got:" in out


def test_check_growth_path_catches_a_broken_stage(capsys):
    ns = _namespace(ROOT / "solutions" / "05-growth-path.ipynb")
    stages = {n: ns[n] for n in catalog.BY_ID["05-growth-path"].names}
    assert ex.check("05-growth-path", **stages).points == 10
    broken = ex.check("05-growth-path", **{**stages, "adjustframe": mutants.adjust_uintptrs})
    assert broken.points < 10
    assert "✘ pointers follow every move" in capsys.readouterr().out


def test_check_reports_the_smallest_failing_input(capsys):
    def new_size(old_size, used, frame, max_stack):
        return 2 * old_size

    ex.check_newstack(new_size)
    out = capsys.readouterr().out
    assert ("tried:    new_size(old_size=2048, used=1144, frame=10280, "
            "max_stack=1000000000)") in out
    assert "expected: 16,384" in out and "got:      4,096" in out
    assert "smallest failing visible input (of" in out


def test_check_refuses_the_reference_and_wrong_signatures(capsys):
    assert ex.check_newstack(gs.newstack.new_size).points == 0
    assert "the reference this exercise asks you to write" in capsys.readouterr().out
    assert ex.check_shrink(lambda size: None).points == 0
    assert "cannot be called as shrink_size(size, used)" in capsys.readouterr().out


def test_check_survives_endless_loops_and_odd_results(capsys):
    def forever(sp, frame, stackguard0):
        while True:
            pass

    start = time.monotonic()
    assert ex.check_prologue(forever).points == 0
    assert time.monotonic() - start < 5
    assert "no answer after 1 s" in capsys.readouterr().out

    class Anything:
        def __eq__(self, other):
            return True

    assert ex.check_newstack(lambda *a: Anything()).points == 0
    assert "is an Anything, not an int" in capsys.readouterr().out


def test_score_repr():
    assert repr(ex.Score("02-newstack", 7.0, 10.0)) == "Score(02-newstack: 7/10 points)"


def test_a_check_cells_score_is_not_echoed_in_jupyter():
    """The check cell printed "Score: 7/10 points." already: its value, the Score, shows
    nothing more as the cell's output (IPython's formatter yields no data for it)."""
    from IPython.core.formatters import DisplayFormatter

    score = ex.Score("02-newstack", 7.0, 10.0)
    assert DisplayFormatter().format(score) == ({}, {})
    assert score.points == 7.0  # the value is still there for code that uses it


# --- the catalogue --------------------------------------------------------------------

@pytest.mark.parametrize("exercise", catalog.EXERCISES, ids=[e.id for e in catalog.EXERCISES])
def test_every_aspect_has_visible_and_hidden_cases(exercise):
    visible, hidden = exercise.visible_cases(), exercise.hidden_cases()
    assert visible == exercise.visible_cases(), "visible cases are fixed"
    assert sum(a.points for a in exercise.aspects) == 10
    for aspect in exercise.aspects:
        assert any(aspect.tag in c["tags"] for c in visible), aspect.tag
        assert any(aspect.tag in c["tags"] for c in hidden), aspect.tag
    expected = catalog.reference_outputs(exercise, hidden)
    outputs = [{"ok": e} for e in expected]
    assert all(r.passed for r in catalog.judge(exercise, hidden, outputs, expected))


@pytest.mark.parametrize("exercise", [catalog.BY_ID["01-prologue"], catalog.BY_ID["07-shrink"]],
                         ids=["01", "07"])
def test_no_constant_answer_passes_an_aspect(exercise):
    for seed in range(5):
        cases = exercise.varied_cases(seed)
        expected = catalog.reference_outputs(exercise, cases)
        for aspect in exercise.aspects:
            answers = {repr(e) for c, e in zip(cases, expected, strict=True)
                       if aspect.tag in c["tags"]}
            assert len(answers) > 1, (exercise.id, aspect.tag, seed)


# --- predict the trace ------------------------------------------------------------------

def test_problems_are_seeded():
    assert pb.generate(7) == pb.generate(7)
    assert pb.generate(7) != pb.generate(8)
    for kind in pb.KINDS:
        p = pb.generate(3, kind)
        assert pb.Problem.from_dict(p.to_dict()) == p


def test_answer_key_is_the_simulator_and_matches_go():
    """A 168-byte recursion from a 56-byte entry: the growth calls measured on go1.27.3."""
    rec = gs.Func("main.recA", frame=168)
    problem = pb.Problem(0, "predict", "recursion", gs.Func("main.worker", frame=56),
                         (pb.Step("call", rec),) * 400)
    assert problem.answer() == [(7, 4096), (19, 8192), (42, 16384), (88, 32768),
                                (182, 65536), (368, 131072)]
    assert problem.answer() == problem.run().growth_points()


def test_show_answers_switch(capsys):
    pb.show(7)
    question = capsys.readouterr().out
    assert "ARG seed 7" in question and "  ?" in question and "call    5" not in question
    pb.show(7, show_answers=True)
    answered = capsys.readouterr().out
    assert answered.startswith(question.split("At which")[0])
    for call, size in pb.generate(7).answer():
        assert f"call {call:>4}:" in answered and f"{size:,}" in answered


def test_problems_command_line():
    run = subprocess.run([sys.executable, "-m", "gostack.problems", "-s", "7", "-c"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "call    5:" in run.stdout


def test_the_check_switches_the_references_off_as_the_grader_does(capsys):
    """Code that calls gostack's own version gets 0 in the grader; the check cell says so
    first, whether the call is caught or not, and the references work again afterwards."""
    def calls(old_size, used, frame, max_stack):
        return gs.newstack.new_size(old_size, used, frame, max_stack)

    def quietly(old_size, used, frame, max_stack):
        try:
            return gs.REFERENCE.newsize(old_size, used, frame, max_stack)
        except Exception:
            return 2 * old_size

    for fn in (calls, quietly):
        assert ex.check_newstack(fn).points == 0
        out = capsys.readouterr().out
        assert "calls gostack's reference implementation (gostack.newstack.new_size)" in out
    assert ex.check_predict(lambda problem: problem.answer()).points == 0
    assert "gostack.problems.Problem.answer" in capsys.readouterr().out
    assert gs.newstack.new_size(2048, 1144, 168, 10**9) == 4096  # restored
    assert gs.runtime.INLINE_REFERENCE_PROLOGUE


def test_largest_finds_the_boundary_an_experiment_looks_for():
    """Against a plain scan over every multiple of 8, for boundaries on, between and at the
    ends of the range; it refuses a condition that does not hold at the lower end."""
    for lo, hi in ((-128, 200), (0, 4096), (8, 8)):
        for edge in range(lo, hi + 1, 8):
            calls = []

            def holds(x, edge=edge, calls=calls):
                calls.append(x)
                return x <= edge

            scan = max(x for x in range(lo, hi + 1, 8) if x <= edge)
            assert ex.largest(holds, lo, hi) == scan == edge
            assert len(calls) <= 2 + (hi - lo).bit_length()  # a bisection, not a scan
    with pytest.raises(ValueError, match="does not hold at the lower end"):
        ex.largest(lambda x: False, 0, 64)
