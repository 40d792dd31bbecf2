"""`gostack grade`: outputs, reruns, per-student hidden cases, the Gradescope bundle.

One batch is graded once per module: alice submits every solution notebook (full marks), bob
every unsolved exercise notebook (0 points, no crash), carol a single notebook that is not
named after an exercise, and the roster lists dave, who submitted nothing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gostack.grade import catalog, report
from gostack.grade.grader import Grader, Student, derive_seed
from gostack.grade.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
SECRET = "test-secret-not-for-real-use-0123456789"
CLASS_TOTAL = sum(e.max_points for e in catalog.EXERCISES)


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gostack", "grade", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    subs = base / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "bob").mkdir()
    for nb in SOLUTIONS:
        shutil.copy(nb, subs / "alice" / nb.name)
    for nb in EXERCISES:
        shutil.copy(nb, subs / "bob" / nb.name)
    shutil.copy(ROOT / "solutions" / "07-shrink.ipynb", subs / "carol.ipynb")
    roster = base / "roster.csv"
    roster.write_text("student_id,name\nalice,Alice A.\nbob,Bob B.\ncarol,Carol C.\n"
                      "dave,Dave D.\n", encoding="utf-8")
    secret = base / "secret.txt"
    secret.write_text(SECRET + "\n")
    out = base / "out"
    run = grade(str(subs), "--out", str(out), "--roster", str(roster), "--jobs", "2",
                "--secret-file", str(secret), "--allow-unmatched")
    assert run.returncode == 0, run.stderr
    return {"subs": subs, "out": out, "roster": roster, "secret": secret, "run": run}


def results(out: Path, student: str) -> dict:
    return json.loads((out / "students" / student / "results.json").read_text())


def test_solutions_get_full_marks_and_unsolved_exercises_zero(batch):
    assert results(batch["out"], "alice")["score"] == CLASS_TOTAL
    bob = results(batch["out"], "bob")
    assert bob["score"] == 0
    feedback = (batch["out"] / "students" / "bob" / "feedback.md").read_text()
    assert feedback.count("raised NotImplementedError") >= 7
    carol = results(batch["out"], "carol")["extra_data"]["exercises"]
    assert carol["07-shrink"] == 10 and carol["01-prologue"] == 0


def test_the_template_s_own_statements_make_no_failure_note(batch):
    """Every solution keeps its template's experiment cells unchanged; one of them calls the
    simulator, whose reference stage is switched off while grading (exercise 10 runs a probe
    through gostack's find_runnable). Its failure is the kit's, not the learner's: alice's
    feedback has no "statement failed" note (it had three for exercise 10)."""
    feedback = (batch["out"] / "students" / "alice" / "feedback.md").read_text()
    assert "this statement failed" not in feedback


def test_a_learner_s_own_failing_statement_still_makes_a_note(tmp_path):
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / "10-find-runnable.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("mine = undefined_name + 1"))
    (tmp_path / "subs" / "erin").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "erin" / "10-find-runnable.ipynb")
    run = grade(str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--exercises",
                "10-find-runnable", "--quiet")
    assert run.returncode == 0, run.stderr
    feedback = (tmp_path / "out" / "students" / "erin" / "feedback.md").read_text()
    notes = [line for line in feedback.splitlines() if "this statement failed" in line]
    assert len(notes) == 1 and "NameError: name 'undefined_name' is not defined" in notes[0]


def test_results_json_follows_gradescope_schema(batch):
    for folder in (batch["out"] / "students").iterdir():
        data = results(batch["out"], folder.name)
        assert set(data) >= {"score", "output", "tests", "visibility", "execution_time"}
        assert data["visibility"] in report.VISIBILITIES
        total = 0.0
        for test in data["tests"]:
            assert isinstance(test["name"], str) and isinstance(test["output"], str)
            assert 0 <= test["score"] <= test["max_score"]
            assert test["visibility"] in report.VISIBILITIES
            if test["max_score"] > 0:
                assert test["status"] == ("passed" if test["score"] == test["max_score"]
                                          else "failed")
            total += test["score"]
        assert abs(total - data["score"]) < 1e-9
        assert sum(t["max_score"] for t in data["tests"]) == CLASS_TOTAL


def test_feedback_shows_the_smallest_failing_input(batch):
    bob = results(batch["out"], "bob")
    failing = [t for t in bob["tests"] if t["max_score"] and t["score"] == 0]
    assert failing
    for test in failing:
        assert ("smallest failing visible input" in test["output"]
                or "0 points" in test["output"])
        assert "tried:" in test["output"] or "0 points" in test["output"]


def test_gradebook_has_one_row_per_student_and_a_column_per_exercise(batch):
    rows = list(csv.DictReader((batch["out"] / "gradebook.csv").open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    assert rows[0]["name"] == "Alice A." and rows[0]["total"] == f"{CLASS_TOTAL:g}"
    assert rows[3]["status"] == "no submission" and rows[3]["total"] == "0"
    assert set(rows[0]) >= {e.id for e in catalog.EXERCISES} | {"total", "max"}


def test_summary_reports_the_run(batch):
    summary = json.loads((batch["out"] / "summary.json").read_text())
    assert summary["graded"] == 3 and summary["skipped"] == 0
    assert summary["roster_without_submission"] == 1
    assert summary["jobs"] == 2 and summary["limits"]["memory_mb"] == 256
    assert "3 graded" in batch["run"].stdout
    assert "[3/3]" in batch["run"].stderr  # progress, one line per student off a terminal


def test_writes_leave_no_temporary_files(batch):
    assert not [p for p in batch["out"].rglob("*") if p.name.endswith(".tmp")]


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    report.write_atomic(path, "old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        report.write_atomic(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_rerun_skips_graded_students_and_force_regrades(batch, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(batch["out"], out)
    args = [str(batch["subs"]), "--out", str(out), "--secret-file", str(batch["secret"]),
            "--roster", str(batch["roster"]), "--allow-unmatched"]
    before = {p: p.stat().st_mtime_ns for p in out.glob("students/*/results.json")}
    again = grade(*args)
    assert again.returncode == 0, again.stderr
    assert "0 graded, 3 skipped" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # A changed submission is graded again; the others are still skipped.
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb", batch["subs"] / "carol.ipynb")
    try:
        changed = grade(*args)
        assert "1 graded, 2 skipped" in changed.stdout, changed.stdout
        assert results(out, "carol")["extra_data"]["exercises"]["07-shrink"] == 0
    finally:
        shutil.copy(ROOT / "solutions" / "07-shrink.ipynb", batch["subs"] / "carol.ipynb")
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("students/*/results.json")}
    forced = grade(*args, "--force")
    assert "3 graded, 0 skipped" in forced.stdout
    assert all(p.stat().st_mtime_ns != t for p, t in stamps.items())
    assert results(out, "carol")["extra_data"]["exercises"]["07-shrink"] == 10


def test_vary_per_student_gives_two_students_different_extra_cases():
    secret = SECRET.encode()
    for ex in catalog.EXERCISES:
        a = ex.varied_cases(derive_seed(secret, "alice", ex.id))
        b = ex.varied_cases(derive_seed(secret, "bob", ex.id))
        again = ex.varied_cases(derive_seed(secret, "alice", ex.id))
        assert [c["args"] for c in a] != [c["args"] for c in b], ex.id
        assert [c["args"] for c in a] == [c["args"] for c in again], ex.id
    assert derive_seed(secret, "alice", "02-newstack") != derive_seed(b"other-secret-value",
                                                                         "alice", "02-newstack")


def test_a_copied_answer_list_does_not_pass(tmp_path):
    """Mallory's predict() replays the answers of alice's hidden problems: it passes as
    alice, and fails as mallory, whose hidden problems are other ones."""
    ex = catalog.BY_ID["06-predict-the-trace"]
    grader = Grader([ex], SECRET.encode(), Limits(), vary=True)
    cases, expected = grader.cases(ex, "alice")
    table = {c["args"]["seed"]: e for c, e in zip(cases, expected, strict=True)}
    source = ("ANSWERS = " + repr(table) + "\n\n"
              "def predict(problem):\n    return ANSWERS.get(problem.seed, [])\n")
    nb = {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4,
          "nbformat_minor": 5}
    path = tmp_path / "06-predict-the-trace.ipynb"
    path.write_text(json.dumps(nb))
    try:
        as_alice = grader.grade(Student("alice", [path]))
        as_mallory = grader.grade(Student("mallory", [path]))
    finally:
        grader.close()
    assert as_alice.points == 10
    assert as_mallory.points < 10
    hidden_failures = [f for r in as_mallory.outcomes[0].results for f in r.failures
                       if f.case["id"].startswith("h")]
    assert hidden_failures


def test_usage_errors_are_one_line(tmp_path):
    nb = tmp_path / "homework.ipynb"
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb", nb)
    for args, needle in [
        ([str(nb)], "--out DIR is required"),
        ([str(nb), "--out", str(tmp_path / "o")], "cannot tell which exercises"),
        ([str(nb), "--out", str(tmp_path / "o"), "--exercises", "99"], "no exercise '99'"),
        (["--gradescope-bundle", str(tmp_path / "b.zip")], "needs --exercises"),
    ]:
        run = grade(*args)
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], run.stderr
    helped = grade("--help")
    assert helped.returncode == 0 and "--jobs" in helped.stdout


def test_gradescope_bundle_builds_and_grades_in_a_container_layout(tmp_path):
    bundle = tmp_path / "autograder.zip"
    built = grade("--gradescope-bundle", str(bundle), "--exercises", "02,07")
    assert built.returncode == 0, built.stderr
    # No --secret-file: the secret is saved beside the bundle, private, and its path printed.
    saved = tmp_path / "autograder-secret.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert f"secret: wrote {saved} (mode 0600" in built.stdout
    assert f"--secret-file {saved}" in built.stdout
    with zipfile.ZipFile(bundle) as z:
        assert z.read("grade-secret.txt").strip() == saved.read_bytes().strip()
    again = grade("--gradescope-bundle", str(bundle), "--exercises", "02,07")
    assert f"secret: reused {saved}" in again.stdout
    with zipfile.ZipFile(bundle) as z:
        assert z.read("grade-secret.txt").strip() == saved.read_bytes().strip()
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "grade-config.json", "grade-secret.txt",
                "lib/gostack/__init__.py", "lib/gostack/grade/worker.py"} <= names
        for name in ("setup.sh", "run_autograder"):
            assert (z.getinfo(name).external_attr >> 16) & stat.S_IXUSR
        assert not any("__pycache__" in n for n in names)
        root = tmp_path / "autograder"
        z.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    # The unsolved template under the exercise's name beside a solved copy: the copy is
    # graded, as locally (layouts.RULE), and the choice is in the feedback.
    shutil.copy(ROOT / "exercises" / "02-newstack.ipynb", root / "submission")
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb",
                root / "submission" / "02-newstack-Copy1.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": "erin@example.edu", "name": "Erin"}]}))
    env = {**os.environ, "GOSTACK_GRADESCOPE_ROOT": str(root), "GOSTACK_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 10 and data["extra_data"]["student"] == "erin@example.edu"
    assert "## 02-newstack: 10/10" in run.stdout
    assert "graded 02-newstack-Copy1.ipynb (02-newstack.ipynb is still the unsolved template)" \
        in run.stdout


def test_setup_sh_fails_loudly_on_a_python_older_than_3_10(tmp_path):
    bundle = tmp_path / "autograder.zip"
    assert grade("--gradescope-bundle", str(bundle), "--exercises", "02").returncode == 0
    with zipfile.ZipFile(bundle) as z:
        setup = tmp_path / "setup.sh"
        setup.write_bytes(z.read("setup.sh"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.8.10" '
                                  '&& exit 0\nexit 1\n')
    (fake / "apt-get").write_text("#!/bin/sh\nexit 0\n")  # installs nothing newer
    for f in fake.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    old = subprocess.run(["bash", str(setup)], env=env, capture_output=True, text=True,
                         timeout=60)
    assert old.returncode == 1
    assert "needs Python 3.10 or newer; this image has: Python 3.8.10" in old.stderr
    ok = subprocess.run(["bash", str(setup)], capture_output=True, text=True, timeout=60,
                        env={**env, "GOSTACK_PYTHON": sys.executable})
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("Python 3.")


def test_the_grader_and_the_check_cells_import_no_plotting_or_notebook_stack():
    """The Gradescope image installs nothing but Python: grading must not need matplotlib,
    ipywidgets, nbformat or a Jupyter kernel."""
    code = ("import sys; import gostack.grade.cli, gostack.grade.gradescope, gostack.exercises;"
            "heavy = {'matplotlib', 'ipywidgets', 'nbformat', 'nbclient', 'jupyter_client',"
            " 'numpy', 'IPython'} & {m.split('.')[0] for m in sys.modules};"
            "print(sorted(heavy))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def test_hidden_inputs_can_be_kept_out_of_the_feedback(tmp_path):
    """By default (--hidden-inputs hide), failing hidden cases are counted, never shown;
    --hidden-inputs show explains one. Zoe's predict() knows the visible problems' answers by
    heart, and nothing else."""
    ex = catalog.BY_ID["06-predict-the-trace"]
    table = {c["args"]["seed"]: e for c, e in zip(
        ex.visible_cases(), catalog.reference_outputs(ex, ex.visible_cases()), strict=True)}
    source = ("ANSWERS = " + repr(table) + "\n\n"
              "def predict(problem):\n    return ANSWERS.get(problem.seed, [])\n")
    nb = {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4,
          "nbformat_minor": 5}
    folder = tmp_path / "subs" / "zoe"
    folder.mkdir(parents=True)
    (folder / "06-predict-the-trace.ipynb").write_text(json.dumps(nb))
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    for mode, shown in (("show", True), ("hide", False), (None, False)):
        out = tmp_path / (mode or "default")
        run = grade(str(tmp_path / "subs"), "--out", str(out), "--secret-file", str(secret),
                    *(["--hidden-inputs", mode] if mode else []))
        assert run.returncode == 0, run.stderr
        data = results(out, "zoe")
        assert data["score"] == 0
        outputs = "\n".join(t["output"] for t in data["tests"])
        assert ("smallest failing hidden input" in outputs) == shown
        feedback = (out / "students" / "zoe" / "feedback.md").read_text()
        assert ("hidden cases fail (inputs not shown)" in feedback) == (not shown)


def test_a_report_that_cannot_be_made_replaces_the_old_one_with_zero(tmp_path, monkeypatch):
    """Fault injection: whatever makes a student's report fail, their folder then says 0
    points and why; an earlier run's full marks never stand beside a grader error."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    (subs / "erin").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb", subs / "erin" / "02-newstack.ipynb")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    args = [str(subs), "--out", str(out), "--exercises", "02", "--secret-file", str(secret),
            "--quiet"]
    from gostack.grade.cli import main

    assert main(args) == 0 and results(out, "erin")["score"] == 10

    def broken(*_a, **_k):
        raise TypeError("unsupported format string passed to float.__format__")

    monkeypatch.setattr(report, "results_json", _fail_once(report.results_json, broken))
    assert main([*args, "--force"]) == 0
    again = results(out, "erin")
    assert again["score"] == 0 and "report could not be written" in again["output"]
    feedback = (out / "students" / "erin" / "feedback.md").read_text(encoding="utf-8")
    assert "TypeError: unsupported format string" in feedback
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert (row["total"], row["status"]) == ("0", "grader error")


def _fail_once(real, failure):
    calls = []

    def wrapper(*a, **k):
        calls.append(1)
        return failure(*a, **k) if len(calls) == 1 else real(*a, **k)
    return wrapper


def test_roster_ids_are_unique_and_its_columns_are_text(tmp_path):
    from gostack.grade.cli import main

    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb", subs / "erin" / "02-newstack.ipynb")
    twice = tmp_path / "twice.csv"
    twice.write_text("id,name\nerin,E.\nerin,E. again\n", encoding="utf-8")
    run = grade(str(subs), "--out", str(tmp_path / "o1"), "--roster", str(twice))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].endswith("lists the id 'erin' twice")
    formula = tmp_path / "formula.csv"
    formula.write_text('id,=cmd|calc\nerin,=1+1\n', encoding="utf-8")
    out = tmp_path / "o2"
    assert main([str(subs), "--out", str(out), "--roster", str(formula), "--quiet"]) == 0
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        header, row = list(csv.reader(f))
    assert header[:2] == ["student", "'=cmd|calc"] and row[:2] == ["erin", "'=1+1"]

CORPUS = ROOT / "tests" / "grading_corpus"
# A character no report may hold raw: every control character (C0, DEL, C1) but the
# newline, and the format characters (bidi overrides) that can disguise a line.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _every_text(out: Path) -> dict[str, str]:
    """Every file the grader wrote, as text; a JSON file as the strings it holds, decoded."""
    texts = {}
    for path in out.rglob("*"):
        if path.is_file() and path.name != "secret.txt":
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                text = "\n".join(_strings(json.loads(text)))
            texts[str(path.relative_to(out))] = text
    return texts


def _leaky_notebook(dest: Path) -> Path:
    """The corpus's quotes_hidden_arguments, with the visible cases' arguments filled in: its
    new_size is right on them and raises ValueError("unlucky <its arguments>") elsewhere."""
    ex = catalog.BY_ID["02-newstack"]
    visible = repr({tuple(c["args"]) for c in ex.visible_cases()})
    source = CORPUS / "quotes_hidden_arguments" / "02-newstack.ipynb"
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "02-newstack.ipynb"
    path.write_text(source.read_text().replace("@@VISIBLE@@", visible))
    return path


def _hidden_texts() -> list[str]:
    """What a hidden case of 02 looks like in a report: its call, and the learner's message."""
    ex = catalog.BY_ID["02-newstack"]
    texts = []
    for case in ex.hidden_cases():
        texts.append(ex.call_text(case))
        texts.append("unlucky " + " ".join(map(str, case["args"])))
    return texts


def test_hidden_inputs_and_what_the_code_said_on_them_are_hidden_by_default(tmp_path):
    """Hidden inputs, and a message quoting them, are in no file and on no terminal unless
    the instructor asks for them (after the due date)."""
    _leaky_notebook(tmp_path / "subs" / "lee")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    hidden = _hidden_texts()
    runs = {}
    for mode in (None, "show"):
        out = tmp_path / (mode or "default")
        extra = ["--hidden-inputs", mode] if mode else []
        run = grade(str(tmp_path / "subs"), "--out", str(out), "--secret-file", str(secret),
                    "--exercises", "02", *extra)
        assert run.returncode == 0, run.stderr
        runs[mode] = (run, out)
    run, out = runs[None]
    texts = _every_text(out) | {"stdout": run.stdout, "stderr": run.stderr}
    for name, text in texts.items():
        assert "unlucky" not in text, name
        assert not [h for h in hidden if h in text], name
    feedback = texts["students/lee/feedback.md"]
    assert re.search(r"✘ .+ 0/\d+\n +\d+ hidden cases fail \(inputs not shown\)", feedback), \
        feedback
    assert "hidden inputs: counted, never shown" in texts["summary.txt"]
    # Shown on request: the smallest failing hidden case, its input and the message.
    run, out = runs["show"]
    texts = _every_text(out)
    for name in ("students/lee/feedback.md", "students/lee/results.json"):
        assert "smallest failing hidden input" in texts[name], name
        assert "raised ValueError: unlucky " in texts[name], name
        assert [h for h in hidden if h in texts[name]], name
    assert "hidden inputs: shown in the feedback" in texts["summary.txt"]


def test_the_gradescope_bundle_hides_hidden_inputs_by_default(tmp_path):
    shown = tmp_path / "shown.zip"
    assert grade("--gradescope-bundle", str(shown), "--exercises", "02",
                 "--hidden-inputs", "show").returncode == 0
    with zipfile.ZipFile(shown) as z:
        assert json.loads(z.read("grade-config.json"))["hide_hidden_inputs"] is False
    bundle = tmp_path / "autograder.zip"
    assert grade("--gradescope-bundle", str(bundle), "--exercises", "02").returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        assert json.loads(z.read("grade-config.json"))["hide_hidden_inputs"] is True
        z.extractall(root / "source")
    _leaky_notebook(root / "submission")
    (root / "results").mkdir()
    env = {**os.environ, "GOSTACK_GRADESCOPE_ROOT": str(root), "GOSTACK_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = (root / "results" / "results.json").read_text()
    assert json.loads(data)["score"] == 0
    for text in (data, run.stdout, run.stderr):
        assert "unlucky" not in text
        assert not [h for h in _hidden_texts() if h in text]
    assert "hidden cases fail (inputs not shown)" in data


def test_no_control_character_or_terminal_escape_reaches_a_report(tmp_path):
    """terminal_escapes prints, raises and names things full of escapes: every report shows
    them escaped, on the lines where they belong."""
    subs = tmp_path / "subs"
    for name in ("terminal_escapes", "honest"):
        shutil.copytree(CORPUS / name, subs / name)
    out = tmp_path / "out"
    run = grade(str(subs), "--out", str(out), "--exercises", "01,02,03")
    assert run.returncode == 0, run.stderr
    texts = _every_text(out) | {"stdout": run.stdout, "stderr": run.stderr}
    for name, text in texts.items():
        assert not RAW.search(text), (name, RAW.search(text))
    feedback = texts["students/terminal_escapes/feedback.md"]
    for shown in (r"raised Loud\x1b[31m\x07\r\n## 99-forged: 10/10: bad\x1b[31m red\x1b]0;"
                  r"title\x07 \r\n## 99-forged: 10/10 \x1b[7m (cell 3, line 3: raise Loud(",
                  r"result (the delta) is an Odd\x1b[5m\x08\x9b2J, not an int",
                  r"morestack_needed is a X\x1b]0;owned\x07\r\n- **honest**",
                  r"\x1b[2J\x1b[1;32mALL TESTS PASSED\x1b[0m\r\x07\x00\x9b1m\u202eevil ```"):
        assert shown in feedback, shown
    assert "\n````text\n" in feedback  # printed backticks: a longer fence
    headings = [ln for ln in feedback.splitlines() if ln.startswith("#")]
    assert headings == ["# Feedback for terminal_escapes", "## 01-prologue: 0/10",
                        "## 02-newstack: 0/10", "## 03-copystack: 0/10"]
    integrity = texts["integrity.md"].splitlines()
    assert not [ln for ln in integrity if ln.lstrip(" -*").startswith("honest")]


ASPECT_LINE = re.compile(r"^  ([✔✘]) (.+?) +(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)(  \(its cases.*)?$")


def feedback_points(feedback: str) -> dict[str, tuple[float, list[float]]]:
    """Per exercise: the points of its heading, and of each aspect line, in order."""
    found = {}
    for section in feedback.split("\n## ")[1:]:
        head, _, body = section.partition("\n")
        ex_id, _, points = head.partition(": ")
        aspects = [float(m.group(3)) for m in map(ASPECT_LINE.match, body.splitlines()) if m]
        found[ex_id] = (float(points.split("/")[0]), aspects)
    return found


def assert_reports_agree(out: Path) -> None:
    """results.json's tests, feedback.md, gradebook.csv and summary.txt: the same points for
    every test of every student."""
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    exercises = json.loads((out / "summary.json").read_text())["exercises"]
    for folder in (out / "students").iterdir():
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        sid = data["extra_data"]["student"]
        feedback = feedback_points((folder / "feedback.md").read_text(encoding="utf-8"))
        for ex_id in exercises:
            tests = [t for t in data["tests"] if t["tags"] == [ex_id] and t["max_score"]]
            scores = [t["score"] for t in tests]
            total = round(sum(scores), 3)
            assert feedback[ex_id] == (total, scores), (sid, ex_id)
            assert data["extra_data"]["exercises"][ex_id] == total, (sid, ex_id)
            assert float(book[sid][ex_id]) == total, (sid, ex_id)
        assert float(book[sid]["total"]) == data["score"]
    for ex_id in exercises:
        column = [float(row[ex_id]) for row in book.values() if row["status"] != "no submission"]
        mean = round(sum(column) / len(column), 2)
        assert f"{ex_id} {mean:g}" in summary, (ex_id, mean)


def test_an_exercise_zeroed_as_a_whole_scores_0_in_every_report(tmp_path):
    """A reference call, monkeypatching and a function that cannot be called each zero their
    exercise: results.json lists each of its tests with 0 and the reason, and feedback.md,
    gradebook.csv and summary.txt say the same points."""
    subs = tmp_path / "subs"
    for name in ("calls_reference", "monkeypatch_gostack", "wrong_signature", "honest"):
        shutil.copytree(CORPUS / name, subs / name)
    out = tmp_path / "out"
    run = grade(str(subs), "--out", str(out), "--exercises", "01,02")
    assert run.returncode == 0, run.stderr
    assert_reports_agree(out)
    for name, why in (("calls_reference", "calls gostack's reference implementation"),
                      ("monkeypatch_gostack", "changed gostack while it was being graded"),
                      ("wrong_signature", "cannot be called as new_size")):
        data = results(out, name)
        tests = [t for t in data["tests"] if t["tags"] == ["02-newstack"] and t["max_score"]]
        assert len(tests) == len(catalog.BY_ID["02-newstack"].aspects)
        for t in tests:
            assert (t["score"], t["status"]) == (0, "failed"), (name, t)
            assert t["output"].startswith("0 points: ") and why in t["output"], (name, t)
        feedback = (out / "students" / name / "feedback.md").read_text(encoding="utf-8")
        assert re.search(r"0 points for this exercise: .*" + re.escape(why), feedback), name
    for name in ("calls_reference", "monkeypatch_gostack", "wrong_signature"):
        feedback = (out / "students" / name / "feedback.md").read_text(encoding="utf-8")
        lines = [ln for ln in feedback.split("## 02-newstack")[1].splitlines() if "✘" in ln]
        assert len(lines) == len(catalog.BY_ID["02-newstack"].aspects)
        for line in lines:  # what the cases gave, if anything, does not count
            assert re.search(r" 0/(\d+)(  \(its cases gave [\d.]+: 0 for this exercise, "
                             r"see above\))?$", line), line
    assert results(out, "honest")["extra_data"]["exercises"]["02-newstack"] == 10


def test_a_gradescope_bundle_carries_every_limit_it_was_built_with(tmp_path):
    """Gradescope grades under the limits the instructor chose, the per-student budget too."""
    bundle = tmp_path / "autograder.zip"
    built = grade("--gradescope-bundle", str(bundle), "--exercises", "02",
                  "--student-budget", "30", "--case-timeout", "0.5", "--vary-per-student")
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(bundle) as z:
        config = json.loads(z.read("grade-config.json"))
    assert config["limits"]["student_budget"] == 30
    assert config["limits"]["case_timeout"] == 0.5
    assert config["vary_per_student"] is True
    assert Limits(**config["limits"]).student_budget == 30


def test_grading_off_linux_says_why_and_the_gradescope_bundle_still_builds(tmp_path, monkeypatch,
                                                                         capsys):
    from gostack.grade.cli import main

    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "02-newstack.ipynb", subs / "erin" / "02-newstack.ipynb")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert main([str(subs), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Linux sandbox" in err and "darwin" in err and not (tmp_path / "out").exists()
    bundle = tmp_path / "autograder.zip"
    assert main(["--gradescope-bundle", str(bundle), "--exercises", "02"]) == 0
    assert zipfile.is_zipfile(bundle)
