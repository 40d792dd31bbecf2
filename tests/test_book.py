"""Final scores after grading: exports the platforms import, overrides, the late policy, the
regrade log, and hand edits to gradebook.csv refused.

The class is test_layouts' (built from solutions/ and exercises/; points by hand): Ann 70,
Ben 0, Cat 20 (02 and 07), Dan 10 (03, a late Canvas upload). The import rules each export
is checked against are written here from the platforms' documentation, not from the code:

* Canvas (Grades > Import): the columns Student, ID, SIS User ID, SIS Login ID, Section
  first; every other column is an assignment, named "Name (assignment id)" for an existing
  one (a new name creates one), so totals, maxima or statuses must not appear as columns;
  an optional second row "Points Possible"; a student is found by ID.
* Moodle (Grades > Import > CSV file): a header row; one column that identifies the user
  (mapped to e-mail address, ID number...), unique and non-empty on every row; a grade
  column with numbers; feedback columns optional.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_layouts import (
    CANVAS_GRADEBOOK,
    PEOPLE,
    SECRET,
    SOL,
    build_canvas,
    build_gradescope,
    build_moodle,
)

from gostack.grade import book, catalog

EXE = SOL.parent / "exercises"


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gostack", "grade", *args],
                          capture_output=True, text=True, timeout=600)


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def table(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


# ---------------------------------------------------------------------------
# The platforms' import rules, by hand
# ---------------------------------------------------------------------------

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def check_canvas_import(path: Path, roster_ids: set[str]) -> dict[str, float]:
    """Canvas's rules; returns ID -> points of the one assignment column."""
    rows = rows_of(path)
    header = rows[0]
    assert header[:5] == CANVAS_IDENTITY
    assignments = header[5:]
    assert len(assignments) == 1, header  # anything else would become an assignment
    for name in assignments:
        assert name.strip() and name.lower() not in {"total", "max", "status",
                                                     "late_penalty"}
    possible = rows[1]
    assert possible[0].strip() == "Points Possible" and possible[1:5] == ["", "", "", ""]
    top = float(possible[5])
    scores = {}
    for row in rows[2:]:
        assert len(row) == len(header)
        sid = row[1]
        assert sid.isdigit() and sid in roster_ids and sid not in scores
        value = float(row[5])  # never blank: a blank would leave an old score standing
        assert 0 <= value <= top
        scores[sid] = value
    return scores


def check_moodle_import(path: Path, grade_column: str, top: float) -> dict[str, tuple]:
    """Moodle's rules; returns e-mail -> (points, feedback)."""
    rows = rows_of(path)
    header = rows[0]
    assert "Email address" in header and grade_column in header
    feedback = [h for h in header if h.lower().startswith("feedback") and grade_column in h]
    assert len(feedback) == 1
    i, g, fb = header.index("Email address"), header.index(grade_column), \
        header.index(feedback[0])
    out = {}
    for row in rows[1:]:
        assert len(row) == len(header)
        email = row[i]
        assert re.fullmatch(r"[^@\s]+@[^@\s]+", email) and email not in out
        value = float(row[g])
        assert 0 <= value <= top
        out[email] = (value, row[fb])
    return out


# ---------------------------------------------------------------------------
# Exports and the late policy, on each platform's download
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(SECRET)
    return path


def test_canvas_export_imports_as_is_with_the_late_penalty(tmp_path, secret):
    subs = build_canvas(tmp_path / "subs")
    roster = tmp_path / "canvas.csv"
    roster.write_text(CANVAS_GRADEBOOK)
    out = tmp_path / "out"
    run = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--roster",
                str(roster), "--allow-unmatched", "--export", "canvas", "--export", "csv",
                "--export-name", "Stack growth (4711)", "--due", "2026-12-01T00:00Z",
                "--late-penalty", "10", "--jobs", "2")
    assert run.returncode == 0, run.stderr
    scores = check_canvas_import(out / "export-canvas.csv", {"101", "102", "103", "104",
                                                             "105"})
    # Dan's upload is _LATE, with no time in Canvas's download: one day, 10% of his 10.
    assert scores == {"101": 70, "102": 0, "103": 20, "104": 9, "105": 0}
    rows = rows_of(out / "export-canvas.csv")
    assert rows[0][5] == "Stack growth (4711)" and float(rows[1][5]) == 70
    assert rows[2][:5] == ["Lee, Ann", "101", "S001", "alee", "Section 1"]
    assert (out / "export-canvas.csv").read_bytes().count(b"\r\n") == 7
    plain = table(out / "export.csv")
    assert plain["104"]["late_penalty"] == "1" and plain["104"]["total"] == "9"
    assert plain["105"]["total"] == "0" and plain["101"]["max"] == "70"
    book_rows = table(out / "gradebook.csv")
    assert (book_rows["104"]["late_penalty"], book_rows["104"]["total"]) == ("1", "9")
    assert book_rows["104"]["03-copystack"] == "10"
    feedback = (out / "students" / "104" / "feedback.md").read_text()
    assert "late: 1 day after the due date and grace (Canvas marks the submission late" in \
        feedback
    assert "-10% of 10 = -1 points" in feedback and "final total: **9** points" in feedback
    summary = (out / "summary.txt").read_text()
    assert "late policy: due 2026-12-01T00:00:00+00:00; -10% per started day late, at most " \
        "-100%: 1 late, 1 penalised (overrides included)" in summary
    assert "export canvas: export-canvas.csv (5 students)" in summary


def _gradescope_with_times(base: Path) -> Path:
    subs = build_gradescope(base)
    times = {"ann": "2026-12-01 10:59:00.000000000 +00:00",  # before the due date
             "ben": "2026-12-01 11:30:00.000000000 +00:00",  # within the grace hour
             "cat": "2026-12-03 13:00:00.000000000 +00:00",  # 49 h after: 3 days, capped
             "dan": "2026-12-01 12:30:00.000000000 +00:00"}  # 30 min after: 1 day
    meta = subs / "submission_metadata.yml"
    text = meta.read_text()
    for who, (uid, *_rest) in PEOPLE.items():
        block = f"submission_{500 + int(uid)}:"
        head, _, tail = text.partition(block)
        tail = tail.replace("2026-11-30 23:59:00.000000000 +00:00", times[who], 1)
        text = head + block + tail
    meta.write_text(text)
    return subs


def test_gradescope_times_give_the_late_penalty_and_moodle_export(tmp_path, secret):
    subs = _gradescope_with_times(tmp_path / "subs")
    out = tmp_path / "out"
    # Due 12:00 at +01:00 = 11:00 UTC; one hour of grace; 10% a day, at most 15%.
    run = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--export",
                "moodle", "--export-name", "Stack growth", "--due", "2026-12-01 12:00 +01:00",
                "--grace", "1h", "--late-penalty", "10", "--late-cap", "15")
    assert run.returncode == 0, run.stderr
    got = check_moodle_import(out / "export-moodle.csv", "Stack growth", 70)
    assert {e: v for e, (v, _fb) in got.items()} == {
        "ann@example.edu": 70, "ben@example.edu": 0, "cat@example.edu": 17,
        "dan@example.edu": 9}
    cat_feedback = got["cat@example.edu"][1]
    assert "02-newstack 10" in cat_feedback and "late: 3 days" in cat_feedback
    assert "-15% of 20 = -3 points" in cat_feedback
    rows = table(out / "gradebook.csv")
    assert [rows[p[3]]["late_penalty"] for p in PEOPLE.values()] == ["0", "0", "3", "1"]
    assert "on time (submitted 2026-12-01T11:30:00+00:00" in \
        (out / "students" / "ben@example.edu" / "feedback.md").read_text()
    log = {e["student"]: e for e in map(json.loads,
                                        (out / "regrades.jsonl").read_text().splitlines())}
    assert log["cat@example.edu"]["total"] == [None, 17]
    assert log["cat@example.edu"]["changes"][-1] == {
        "item": "late penalty", "old": None, "new": 3,
        "why": ["late policy: submitted 2026-12-03T13:00:00+00:00"]}


def test_a_canvas_download_alone_exports_by_canvas_user_id(tmp_path, secret):
    subs = build_canvas(tmp_path / "subs")
    out = tmp_path / "out"
    run = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--export",
                "canvas")
    assert run.returncode == 0, run.stderr
    scores = check_canvas_import(out / "export-canvas.csv", {"101", "102", "103", "104"})
    assert scores == {"101": 70, "102": 0, "103": 20, "104": 10}  # no late policy asked
    assert rows_of(out / "export-canvas.csv")[0][5] == "gostack exercises"


def test_moodle_download_has_no_times_and_its_export_needs_the_grades_export(tmp_path,
                                                                               secret):
    subs = build_moodle(tmp_path / "subs")
    out = tmp_path / "out"
    refused = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--export",
                    "moodle")
    assert refused.returncode == 2
    assert "--export moodle needs each student's e-mail or ID number" in refused.stderr
    assert not out.exists()  # refused before anything is graded
    roster = tmp_path / "moodle.csv"
    roster.write_text("First name,Last name,ID number,Institution,Department,Email address\n"
                      + "".join(f"{full.split()[0]},{full.split()[1]},N{uid},,,{email}\n"
                                for uid, _s, full, email in PEOPLE.values()))
    run = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--export",
                "moodle", "--roster", str(roster), "--due", "2026-12-01T00:00Z",
                "--late-penalty", "10")
    assert run.returncode == 0, run.stderr
    got = check_moodle_import(out / "export-moodle.csv", "gostack exercises", 70)
    assert {e: v for e, (v, _fb) in got.items()} == {
        "ann@example.edu": 70, "ben@example.edu": 0, "cat@example.edu": 20,
        "dan@example.edu": 10}  # no times in a Moodle download: no penalty
    assert rows_of(out / "export-moodle.csv")[0][:2] == ["Email address", "ID number"]
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["late_penalised"], summary["late_without_a_time"]) == (0, 4)


def test_canvas_export_needs_canvas_ids(tmp_path, secret):
    subs = build_moodle(tmp_path / "subs")
    run = grade(str(subs), "--out", str(tmp_path / "out"), "--export", "canvas")
    assert run.returncode == 2
    assert "--export canvas needs Canvas's user ids" in run.stderr


# ---------------------------------------------------------------------------
# Overrides, the regrade log, hand edits
# ---------------------------------------------------------------------------


def _log(out: Path) -> list[dict]:
    return [json.loads(ln) for ln in (out / "regrades.jsonl").read_text().splitlines()]


def test_overrides_regrades_and_hand_edits(tmp_path, secret):
    subs = tmp_path / "subs"
    for who, src in (("ann", SOL), ("ben", EXE)):
        (subs / who).mkdir(parents=True)
        for ex in ("02-newstack", "07-shrink"):
            shutil.copy(src / f"{ex}.ipynb", subs / who / f"{ex}.ipynb")
    out = tmp_path / "out"
    common = [str(subs), "--out", str(out), "--secret-file", str(secret), "--quiet"]
    assert grade(*common).returncode == 0
    first = _log(out)
    assert [(e["student"], e["total"]) for e in first] == [("ann", [None, 20]),
                                                            ("ben", [None, 0])]
    assert {c["why"][0] for e in first for c in e["changes"]} == {"first graded"}

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,points,delta,comment,who,when\n"
                         "ben,02,,3,partial credit: the doubling is right,Prof. P,2026-12-02\n"
                         "ann,shrink,8,,shrinks below the minimum size,Prof. P,2026-12-02\n")
    assert grade(*common, "--overrides", str(overrides)).returncode == 0
    rows = table(out / "gradebook.csv")
    assert (rows["ben"]["02-newstack"], rows["ben"]["total"]) == ("3", "3")
    assert (rows["ann"]["07-shrink"], rows["ann"]["total"]) == ("8", "18")
    assert rows["ann"]["status"].endswith("; 1 override")
    second = _log(out)[len(first):]
    assert [(e["student"], e["total"]) for e in second] == [("ann", [20, 18]),
                                                             ("ben", [0, 3])]
    assert second[1]["changes"] == [{
        "item": "02-newstack", "old": 0, "new": 3,
        "why": ["override: 02-newstack +3 (Prof. P, 2026-12-02): partial credit: the "
                "doubling is right"]}]
    feedback = (out / "students" / "ben" / "feedback.md").read_text()
    assert "02-newstack: 0 -> 3 points, by override: 02-newstack +3 (Prof. P, 2026-12-02): " \
        "partial credit: the doubling is right" in feedback
    assert feedback.startswith((out / "students" / "ben" / "graded-feedback.md").read_text())
    assert json.loads((out / "students" / "ben" / "results.json").read_text())["score"] == 0

    # Ben submits the solution: graded 10, the +3 override keeps it at the maximum.
    shutil.copy(SOL / "02-newstack.ipynb", subs / "ben" / "02-newstack.ipynb")
    assert grade(*common, "--overrides", str(overrides)).returncode == 0
    third = _log(out)[len(first) + len(second):]
    assert [(e["student"], e["total"]) for e in third] == [("ben", [3, 10])]
    assert third[0]["changes"][0]["why"] == ["new submission"]
    assert "0..10" in (out / "students" / "ben" / "feedback.md").read_text()

    # A hand edit is refused, named, and pointed to the overrides file.
    before = (out / "gradebook.csv").read_text()
    edited = before.replace("ann,10,8,0,18,", "ann,10,8,0,20,")
    assert edited != before
    (out / "gradebook.csv").write_text(edited)
    refused = grade(*common, "--overrides", str(overrides))
    assert refused.returncode == 2
    assert "ann, total: 18 -> 20" in refused.stderr and "--overrides" in refused.stderr
    assert (out / "gradebook.csv").read_text() == edited  # nothing rewritten
    kept = grade(*common, "--overrides", str(overrides), "--discard-gradebook-edits")
    assert kept.returncode == 0 and "WARNING" in kept.stderr
    (backup,) = out.glob("gradebook.csv.edited-*")
    assert backup.read_text() == edited
    assert table(out / "gradebook.csv")["ann"]["total"] == "18"  # the edit is not applied

    # Nothing changed: nothing logged; the log only ever grows.
    log = (out / "regrades.jsonl").read_text()
    assert grade(*common, "--overrides", str(overrides)).returncode == 0
    assert (out / "regrades.jsonl").read_text() == log


@pytest.mark.parametrize("body, needle", [
    ("eve,02,5,,x,P,", "no student 'eve' in this class"),
    ("ann,05,5,,x,P,", "exercise '05' is not graded in this run"),
    ("ann,02,5,1,x,P,", "give exactly one of points (set to) and delta (add)"),
    ("ann,02,11,,x,P,", "points 11 is outside 0..10 (the exercise's maximum)"),
    ("ann,02,,two,x,P,", "delta 'two' is not a number"),
    ("ann,02,5,,,P,", "say why (comment) and who decided (who)"),
])
def test_a_bad_override_is_refused_with_its_line(tmp_path, body, needle):
    path = tmp_path / "o.csv"
    path.write_text("student,exercise,points,delta,comment,who,when\n" + body + "\n")
    exercises = [catalog.find("02"), catalog.find("07")]
    with pytest.raises(book.BookError) as e:
        book.read_overrides(path, exercises, {"ann", "ben"})
    assert needle in str(e.value) and "line 2" in str(e.value)


def test_an_overrides_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("name,score\nann,3\n")
    with pytest.raises(book.BookError, match="needs the columns student, exercise"):
        book.read_overrides(path, [catalog.find("02")], {"ann"})


def test_late_days_count_started_days_after_due_and_grace():
    due = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    policy = book.LatePolicy(due, timedelta(hours=1), 10, 25)
    at = due + timedelta(hours=1)
    assert [policy.days_late(at + d) for d in (timedelta(0), timedelta(seconds=1),
                                               timedelta(hours=24),
                                               timedelta(hours=24, seconds=1))] == [0, 1, 1, 2]
    assert [policy.percent(n) for n in (0, 1, 2, 3, 9)] == [0, 10, 20, 25, 25]
    assert book.parse_time("2026-11-30 23:59:00.000000000 +00:00") == \
        datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)
    assert book.parse_time("2026-12-01T12:00+01:00") == due  # 11:00 UTC
    assert book.parse_time("2026-12-01 11:00") == due  # no zone: UTC
    assert book.parse_duration("90s") == timedelta(seconds=90)
    assert book.parse_duration("2h") == timedelta(hours=2)
    assert book.parse_duration("15") == timedelta(minutes=15)
    with pytest.raises(book.BookError, match="--due needs --late-penalty"):
        book.late_policy("2026-12-01", None, None, None)
    with pytest.raises(book.BookError, match="need --due"):
        book.late_policy(None, "1h", None, None)
    with pytest.raises(book.BookError, match="not a date and time"):
        book.late_policy("tomorrow", None, 10, None)


def test_a_crash_between_the_state_and_the_gradebook_is_no_hand_edit(tmp_path):
    two = [catalog.find("02"), catalog.find("07")]
    first = book.finals({"ann": {"02-newstack": 10.0}}, two[:1], [], None, {}, {"ann": "d1"})
    book.record_run(tmp_path, first, ["02-newstack"], None, "student,total\nann,10\n")
    assert book.check_hand_edits(tmp_path, False) is None
    state_path = tmp_path / book.STATE
    state = json.loads(state_path.read_text())
    assert "pending" not in state
    # The next run named its gradebook in the state, then stopped before writing it.
    state.update(gradebook_sha256="0" * 64, pending=True,
                 previous_gradebook_sha256=book.sha256(tmp_path / "gradebook.csv"))
    state_path.write_text(json.dumps(state))
    assert book.check_hand_edits(tmp_path, False) is None
    del state["pending"]  # without the flag, only the named gradebook is the grader's
    state_path.write_text(json.dumps(state))
    with pytest.raises(book.BookError, match="was changed since gostack grade wrote it"):
        book.check_hand_edits(tmp_path, False)
    # An exercise added to the run is logged as such, not as a new submission.
    state_path.write_text(json.dumps({**state, "pending": True}))
    second = book.finals({"ann": {"02-newstack": 10.0, "07-shrink": 10.0}}, two, [], None,
                         {}, {"ann": "d1"})
    assert book.record_run(tmp_path, second, ["02-newstack", "07-shrink"], None,
                           "student,total\nann,20\n") == 1
    last = json.loads((tmp_path / book.LOG).read_text().splitlines()[-1])
    assert last["changes"] == [{"item": "07-shrink", "old": None, "new": 10.0,
                                "why": ["exercise added to the run"]}]


def test_a_student_gone_from_the_class_is_logged(tmp_path):
    ex = [catalog.find("02")]
    both = book.finals({"ann": {"02-newstack": 10.0}, "ben": {"02-newstack": 4.0}}, ex, [],
                       None, {}, {"ann": "a", "ben": "b"})
    book.record_run(tmp_path, both, ["02-newstack"], None, "x\n")
    only_ann = {"ann": both["ann"]}
    assert book.record_run(tmp_path, only_ann, ["02-newstack"], None, "x\n") == 1
    last = json.loads((tmp_path / book.LOG).read_text().splitlines()[-1])
    assert (last["student"], last["total"]) == ("ben", [4.0, None])
    assert "not in this run's class" in last["changes"][0]["why"][0]
