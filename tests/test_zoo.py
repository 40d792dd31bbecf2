"""Each exercise's bug zoo (``Wrong``/``Right`` in gostack/grade/exercises/eNN_slug.py).

* every wrong answer fails the visible check, on exactly the aspects it names (so the learner
  hears of the bug, under the rule it broke, before submitting), and the grader takes exactly
  those aspects' points, for every student;
* every correct variant gets full marks in the check cell and in the grader;
* with ``--vary-per-student`` the extra cases change no zoo entry's score (50 student ids);
* every failing case prints a line that reproduces it: the same calls with the same arguments.

A zoo entry's code runs after the solution notebook's cells, so it may redefine one function
(exercise 05: one stage) and keep the others.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import gostack as gs
import gostack.problems as pb
from gostack import exercises as ex
from gostack.grade import catalog, gradescope, spec
from gostack.grade.grader import Grader, derive_seed
from gostack.grade.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SECRET = b"zoo-secret-not-for-real-use-0123456789"
MIN_WRONG, MIN_RIGHT = 8, 4

ENTRIES = [(e, w) for e in catalog.EXERCISES for w in e.zoo]
RIGHTS = [(e, r) for e in catalog.EXERCISES for r in e.right]


def _id(entry) -> str:
    return f"{entry[0].id[:2]}-{entry[1].name}"


def _solution_cells(exercise: spec.Exercise) -> list[str]:
    nb = nbformat.read(ROOT / "solutions" / f"{exercise.id}.ipynb", as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and "check" not in c.metadata.get("tags", [])]


def namespace(exercise: spec.Exercise, code: str) -> dict:
    """The learner's kernel after running the notebook with ``code`` in a cell of its own."""
    ns: dict = {}
    for source in [*_solution_cells(exercise), code]:
        exec(compile(source, f"<{exercise.id}>", "exec"), ns)
    return ns


def functions(exercise: spec.Exercise, code: str) -> dict:
    ns = namespace(exercise, code)
    return {n: ns[n] for n in exercise.names}


def failed(score: ex.Score) -> set[str]:
    return {a.tag for a in score.aspects if not a.passed}


def test_every_exercise_has_a_zoo():
    for e in catalog.EXERCISES:
        assert len(e.zoo) >= MIN_WRONG, f"{e.id}: {len(e.zoo)} wrong answers"
        assert len(e.right) >= MIN_RIGHT, f"{e.id}: {len(e.right)} correct variants"
        names = [z.name for z in (*e.zoo, *e.right)]
        assert len(set(names)) == len(names), f"{e.id}: two zoo entries share a name"
        tags = {a.tag for a in e.aspects}
        for w in e.zoo:
            assert w.breaks and set(w.breaks) <= tags, (e.id, w.name, w.breaks)


def test_every_aspect_can_fail():
    """A rule no zoo entry breaks is not a graded aspect."""
    for e in catalog.EXERCISES:
        broken = {t for w in e.zoo for t in w.breaks}
        assert broken == {a.tag for a in e.aspects}, f"{e.id}: no wrong answer breaks " \
            f"{sorted({a.tag for a in e.aspects} - broken)}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[_id(x) for x in ENTRIES])
def test_wrong_answers_fail_the_check_under_their_own_rule(entry, capsys):
    exercise, wrong = entry
    score = ex.check(exercise.id, **functions(exercise, wrong.code))
    out = capsys.readouterr().out
    assert failed(score) == set(wrong.breaks), out
    lost = sum(a.points for a in exercise.aspects if a.tag in wrong.breaks)
    assert score.points == exercise.max_points - lost, out
    for a in exercise.aspects:
        assert (f"✘ {a.title}" in out) == (a.tag in wrong.breaks), out
    assert "…" not in out and "..." not in out.replace("... and", ""), "nothing is cut off"


@pytest.mark.parametrize("entry", RIGHTS, ids=[_id(x) for x in RIGHTS])
def test_correct_variants_get_full_marks_in_the_check(entry, capsys):
    exercise, right = entry
    score = ex.check(exercise.id, **functions(exercise, right.code))
    out = capsys.readouterr().out
    assert score.points == score.max_points, out


def _in_process_points(exercise: spec.Exercise, fns: dict, cases: list[dict],
                       memo: dict) -> float:
    outputs = []
    for case in cases:
        key = json.dumps(case["args"], sort_keys=True)
        if key not in memo:
            memo[key] = ex._run_cases(exercise, fns, [case])
        out = memo[key]
        outputs.append(out[0] if isinstance(out, list) else {"error": {"type": str(out)}})
    expected = catalog.reference_outputs(exercise, cases)
    return sum(r.points for r in catalog.judge(exercise, cases, outputs, expected))


@pytest.mark.parametrize("exercise", catalog.EXERCISES, ids=[e.id for e in catalog.EXERCISES])
def test_per_student_cases_change_no_zoo_score(exercise, capsys):
    """--vary-per-student may only add cases that cannot change a known answer's score:
    each zoo entry and correct variant, under 50 student ids, gets one score, the one it
    gets on the cases every student has."""
    fixed = exercise.visible_cases() + exercise.hidden_cases()
    ids = [f"student{n}@example.edu" for n in range(50)]
    for entry in (*exercise.zoo, *exercise.right):
        fns = functions(exercise, entry.code)
        memo: dict = {}
        base = _in_process_points(exercise, fns, fixed, memo)
        for sid in ids:
            extra = exercise.varied_cases(derive_seed(SECRET, sid, exercise.id))
            assert _in_process_points(exercise, fns, fixed + extra, memo) == base, \
                (entry.name, sid)
    capsys.readouterr()


# --- the same answers through `gostack grade` -----------------------------------------------

_SUBS: list[Path] = []


def graded_notebook(sid: str, exercise_id: str) -> Path:
    return _SUBS[-1] / sid / f"{exercise_id}.ipynb"


def _notebook(exercise: spec.Exercise, code: str, path: Path) -> None:
    nb = nbformat.read(ROOT / "solutions" / f"{exercise.id}.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "check" in c.metadata.get("tags", []))
    nb.cells.insert(at, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every zoo entry as a student of its own, graded in one run, twice over: as itself and
    under another id (the same code, another student: the same score)."""
    base = tmp_path_factory.mktemp("zoo")
    subs = base / "subs"
    expected = {}
    for exercise in catalog.EXERCISES:
        for entry in (*exercise.zoo, *exercise.right):
            lost = sum(a.points for a in exercise.aspects
                       if a.tag in getattr(entry, "breaks", ()))
            for twin in ("a", "b"):
                sid = f"{exercise.id[:2]}-{entry.name}-{twin}"
                (subs / sid).mkdir(parents=True)
                _notebook(exercise, entry.code, subs / sid / f"{exercise.id}.ipynb")
                expected[sid] = (exercise.id, exercise.max_points - lost)
    _SUBS.append(subs)
    out = base / "out"
    run = subprocess.run([sys.executable, "-m", "gostack", "grade", str(subs), "--out",
                          str(out), "--jobs", "2", "--exercises",
                          ",".join(e.id[:2] for e in catalog.EXERCISES)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return expected, rows, out


def test_the_grader_takes_exactly_the_broken_rules_points(graded):
    expected, rows, out = graded
    wrong = []
    for sid, (exercise_id, points) in expected.items():
        got = float(rows[sid][exercise_id])
        if got != points:
            feedback = (out / "students" / sid / "feedback.md").read_text(encoding="utf-8")
            wrong.append(f"{sid}: {got:g} points, expected {points:g}\n{feedback}")
    assert not wrong, "\n".join(wrong[:3])


def test_every_student_gets_the_same_cases():
    """By default the cases depend on the exercise alone: 50 ids, one set of cases."""
    grader = Grader(list(catalog.EXERCISES), SECRET, Limits())
    for exercise in catalog.EXERCISES:
        first = grader.cases(exercise, "student0")
        for n in range(1, 50):
            assert grader.cases(exercise, f"student{n}@example.edu") == first


def test_gradescope_gives_the_local_score(graded, tmp_path, monkeypatch):
    """The same notebook graded in Gradescope's layout (the id is an e-mail there, a folder
    name locally) gets the score the local run gave it."""
    expected, rows, _ = graded
    bundle = tmp_path / "autograder.zip"
    built = subprocess.run([sys.executable, "-m", "gostack", "grade", "--gradescope-bundle",
                            str(bundle), "--exercises",
                            ",".join(e.id[:2] for e in catalog.EXERCISES)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    monkeypatch.setenv(gradescope.ROOT_ENV, str(root))
    differ = []
    for n, (sid, (exercise_id, _)) in enumerate(sorted(expected.items())):
        if not sid.endswith("-a"):
            continue
        shutil.rmtree(root / "submission", ignore_errors=True)
        shutil.rmtree(root / "results", ignore_errors=True)
        (root / "submission").mkdir()
        (root / "results").mkdir()
        (root / "submission_metadata.json").write_text(json.dumps(
            {"id": n, "users": [{"email": f"learner{n}@example.edu"}]}))
        shutil.copy(graded_notebook(sid, exercise_id), root / "submission")
        gradescope.run_in_container()
        data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        if data["score"] != float(rows[sid]["total"]):
            differ.append((sid, data["score"], rows[sid]["total"]))
    assert not differ


# --- reproducing a failing case from its printed line ---------------------------------------

class _Recorder:
    def __init__(self, fns: dict) -> None:
        self.calls: list = []
        self.wrapped = {name: self._wrap(name, fn) for name, fn in fns.items()}

    def _wrap(self, name, fn):
        def call(*args, **kwargs):
            self.calls.append((name, copy.deepcopy(args), copy.deepcopy(kwargs)))
            return fn(*args, **kwargs)
        return call

    def normalised(self, params: dict) -> list:
        """Each call as (name, positional arguments), keywords put in place, every argument
        as plain values (a gs.Stack compares by identity)."""
        out = []
        for name, args, kwargs in self.calls:
            names = params[name]
            full = list(args) + [kwargs[p] for p in names[len(args):] if p in kwargs]
            out.append((name, [_value(a) for a in full]))
        return out


def _value(x):
    """An argument as plain data: objects by their class and fields, recursively."""
    if isinstance(x, dict):
        return {k: _value(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_value(v) for v in x]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, {f.name: _value(getattr(x, f.name))
                                   for f in dataclasses.fields(x)})
    return x


@pytest.mark.parametrize("entry", ENTRIES, ids=[_id(x) for x in ENTRIES])
def test_every_failing_case_is_reproduced_by_its_printed_line(entry, capsys):
    """The line the report prints after "tried:" (or after "reproduce:", where the first is
    a summary) is pasted into the learner's notebook: it calls the learner's functions with
    exactly the arguments the failing case used."""
    exercise, wrong = entry
    fns = functions(exercise, wrong.code)
    score = ex.check(exercise.id, **fns)
    out = capsys.readouterr().out
    params = dict(exercise.functions)
    cases = {c["id"]: c for c in exercise.visible_cases()}
    for result in score.aspects:
        if result.passed:
            continue
        shown = result.smallest()
        line = exercise.repro(shown.case)
        assert f"tried:    {line}\n" in out or f"reproduce: {line}\n" in out, (line, out)
        pasted = _Recorder(fns)
        ns = {**namespace(exercise, wrong.code), **pasted.wrapped, "gs": gs, "pb": pb,
              "ex": ex}
        try:
            exec(compile(line, "<pasted>", "exec"), ns)
        except Exception:  # the failure itself may be an exception: the calls still count
            pass
        graded = _Recorder(fns)
        try:
            exercise.run(graded.wrapped, cases[shown.case["id"]])
        except Exception:
            pass
        assert pasted.normalised(params) == graded.normalised(params), (line, out)


def test_the_zoo_runs_where_learners_run_it():
    """The zoo's code is ordinary notebook code: it imports nothing but gostack and the
    standard library, and reads no environment."""
    for exercise in catalog.EXERCISES:
        for entry in (*exercise.zoo, *exercise.right):
            assert "os.environ" not in entry.code and "open(" not in entry.code, entry.name

