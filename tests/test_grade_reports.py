"""The class's reports: a summary of the whole class (after a resume too), failures named
plainly and counted, repeated messages folded, integrity signals without the template and
strongest first, progress that fits a terminal or a log.

The class, graded on 01 and 02 with 0.5 s per call: ann submits the solutions, ben the
unsolved exercises, looper the corpus's infinite_loop (02 only: its new_size loops for ever
when the stack must grow and returns old_size, a wrong answer, when it need not)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gostack.grade import catalog, integrity, report
from gostack.grade.cli import RUN_ONLY, Progress
from gostack.grade.notebook import parse, read_code_cells

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-secret-not-for-real-use-0123456789"


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gostack", "grade", *args],
                          capture_output=True, text=True, timeout=600)


def make_class(subs: Path, who: tuple[str, ...]) -> Path:
    for name in who:
        if name == "looper":
            shutil.copytree(ROOT / "tests" / "grading_corpus" / "infinite_loop", subs / name)
            continue
        (subs / name).mkdir(parents=True)
        src = ROOT / ("solutions" if name == "ann" else "exercises")
        for ex in ("01-prologue", "02-newstack"):
            shutil.copy(src / f"{ex}.ipynb", subs / name / f"{ex}.ipynb")
    return subs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports")
    secret = base / "secret.txt"
    secret.write_text(SECRET)
    common = ["--exercises", "01,02", "--case-timeout", "0.5", "--secret-file", str(secret)]
    full_subs = make_class(base / "full", ("ann", "ben", "looper"))
    full = grade(str(full_subs), "--out", str(base / "out-full"), *common)
    assert full.returncode == 0, full.stderr
    # The same class, graded in two goes: ann and looper first (an interrupted run), then
    # everyone; the second run skips the two already graded.
    first = grade(str(make_class(base / "part", ("ann", "looper"))), "--out",
                  str(base / "out-resumed"), *common)
    assert first.returncode == 0, first.stderr
    resumed = grade(str(full_subs), "--out", str(base / "out-resumed"), *common)
    assert resumed.returncode == 0, resumed.stderr
    return {"full": base / "out-full", "resumed": base / "out-resumed",
            "resumed_run": resumed}


def test_a_resumed_runs_summary_equals_a_full_runs(runs):
    full = json.loads((runs["full"] / "summary.json").read_text())
    resumed = json.loads((runs["resumed"] / "summary.json").read_text())
    assert (resumed["graded"], resumed["skipped"]) == (1, 2)
    assert (full["graded"], full["skipped"]) == (3, 0)
    for key in RUN_ONLY:
        full.pop(key), resumed.pop(key)
    assert resumed == full
    # The text too, but for its first line (graded/skipped) and the time it took.
    texts = [[ln for ln in (runs[k] / "summary.txt").read_text().splitlines()[1:]
              if not ln.startswith("time:")] for k in ("full", "resumed")]
    assert texts[0] == texts[1]
    assert (runs["full"] / "gradebook.csv").read_text() != ""
    assert (runs["resumed"] / "integrity.md").read_text() == \
        (runs["full"] / "integrity.md").read_text()


def test_the_summary_covers_the_whole_class(runs):
    summary = json.loads((runs["resumed"] / "summary.json").read_text())
    # Hand-computed: 01 is ann's 10 and two zeros; 02 likewise (looper's loop scores 0).
    assert summary["mean_points"] == {"01-prologue": 3.33, "02-newstack": 3.33}
    assert summary["students"] == 3 and summary["missing_notebooks"] == 1  # looper's 01


def test_failure_kinds_are_named_plainly_and_counted(runs):
    summary = json.loads((runs["full"] / "summary.json").read_text())
    assert summary["failure_kinds"] == {
        "raised NotImplementedError (not implemented)": 2,  # ben's 01 and 02
        "gave a wrong answer": 1,  # looper's 02, where the stack need not grow
        "no notebook": 1,  # looper's 01
        "ran out of time (0.5 s per call)": 1,  # looper's 02
    }
    text = (runs["full"] / "summary.txt").read_text()
    assert "  ran out of time (0.5 s per call): 1" in text
    assert "a time limit" not in text
    feedback = (runs["full"] / "students" / "looper" / "feedback.md").read_text()
    assert "ran out of time: no answer after 0.5 s per call (an endless loop?)" in feedback
    assert "time limit" not in feedback


@pytest.mark.parametrize("error, kind", [
    ("ran out of time: no answer after 1 s per call (an endless loop?)",
     "ran out of time (1 s per call)"),
    ("case 3: the worker used more than 7 s of CPU time and was stopped",
     "ran out of time (CPU limit 7 s)"),
    ("case 1: the worker took longer than 15 s (wall clock) and was stopped",
     "ran out of time (wall-clock limit 15 s)"),
    ("raised MemoryError: ran out of memory (limit 256 MB)", "ran out of memory (limit 256 MB)"),
    ("raised NotImplementedError (cell 10, line 12: raise NotImplementedError())",
     "raised NotImplementedError (not implemented)"),
    ("raised ValueError: bad (in new_size, line 3: x)", "raised ValueError"),
    ("raised SystemExit: your code called sys.exit()", "called sys.exit()"),
    ("raised no result: skipped: a case of the same rule already ran out of time", None),
    ("returned a str, not an int", "returned an answer of the wrong kind"),
    (None, "gave a wrong answer"),
])
def test_failure_kinds(error, kind):
    assert report.failure_kind(error) == kind


def test_repeated_messages_are_folded(runs):
    assert report.fold(["a", "b", "a", "a"]) == ["a ×3", "b"]
    feedback = (runs["full"] / "students" / "ben" / "feedback.md").read_text()
    section = feedback.split("## 02-newstack")[1]
    # Once for the exercise, not once per rule (02 has four).
    assert section.count("raised NotImplementedError") == 1
    cases = len(catalog.BY_ID["02-newstack"].visible_cases()
                + catalog.BY_ID["02-newstack"].hidden_cases())
    assert "0 points for this exercise: raised NotImplementedError" in section
    assert f"(every case: ×{cases})" in section
    data = json.loads((runs["full"] / "students" / "ben" / "results.json").read_text())
    outputs = [t["output"] for t in data["tests"] if t["tags"] == ["02-newstack"]
               and t["max_score"]]
    assert all(o.startswith("0 points: raised NotImplementedError") for o in outputs)


def test_integrity_leaves_the_template_out(runs):
    """The instructor's own solutions raise no signal: the template's cells that use gostack
    (01's check of gs.prologue.morestack_needed, 06's gs.Runtime().go) are handed out."""
    for ex_id in ("01-prologue", "06-predict-the-trace"):
        ex = catalog.BY_ID[ex_id]
        for folder in ("solutions", "exercises"):
            parsed = parse(read_code_cells(ROOT / folder / f"{ex_id}.ipynb"))
            assert integrity.reference_mentions(parsed, ex) == [], (folder, ex_id)
    data = json.loads((runs["full"] / "integrity.json").read_text())
    assert data["mentions"] == []
    # A statement of the student's own that uses a reference is still reported.
    ex = catalog.BY_ID["01-prologue"]
    cells = read_code_cells(ROOT / "solutions" / "01-prologue.ipynb")
    own = parse([*cells, type(cells[0])(99, "ok = gs.prologue.morestack_needed(1, 2, 3)")])
    assert integrity.reference_mentions(own, ex) == ["gs.prologue.morestack_needed (cell 99)"]


def test_integrity_ranks_the_strongest_evidence_first():
    """Twins identical in three exercises, alone with their code each time, come before
    five students who share one short answer to one exercise."""
    per = {f"s{i}": {"01-prologue": {"fingerprint": "aaaa/12"}} for i in range(5)}
    for twin in ("twin_a", "twin_b"):
        per[twin] = {e: {"fingerprint": f"{e}-digest/300"} for e in
                     ("02-newstack", "03-copystack", "04-adjust")}
        per[twin]["01-prologue"] = {"fingerprint": f"{twin}-own/40"}
    text, data = report.integrity_report(per)
    assert data["identical_pairs"] == [{
        "students": ["twin_a", "twin_b"], "exercises": ["02-newstack", "03-copystack",
                                                        "04-adjust"],
        "solved_by_both": 4, "evidence": 3}]
    sizes = [len(g["students"]) for g in data["identical"]]
    assert sizes == [2, 2, 2, 5]  # smaller groups (of longer code) first
    assert text.index("**twin_a** and **twin_b**: identical in 3 of the 4 exercises") < \
        text.index("s0, s1, s2, s3, s4")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_line_of_80_columns_with_an_eta():
    term = _Terminal()
    progress = Progress(400, quiet=False, stream=term)
    for i in range(400):
        progress.step(f"a-student-with-a-rather-long-id-{i}@example.edu: 70/70 (1.2 s)")
    progress.close()
    frames = [f for f in re.split(r"[\r\n]", term.getvalue()) if f]
    assert frames and max(len(f) for f in frames) <= 80
    assert all("ETA" in f for f in frames)
    assert term.getvalue().count("\n") == 1  # one line, updated in place


def test_progress_in_a_log_is_a_plain_line_every_tenth():
    log = io.StringIO()
    progress = Progress(400, quiet=False, stream=log)
    for i in range(400):
        progress.step(f"s{i}: 70/70")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    # The first, then one per tenth of the class (all in well under 30 s).
    assert [ln.split()[0] for ln in lines] == [
        "[1/400]", *(f"[{n}/400]" for n in range(40, 401, 40))]
    assert all(ln.endswith(" left") for ln in lines)
