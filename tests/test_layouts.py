"""`gostack grade` on LMS downloads: one class, four layouts, one gradebook.

The class, built in tmp_path from solutions/ and exercises/ (the points are written by hand:
every exercise is worth 10, a solution gets all of them, an unsolved exercise none):

* Ann Lee (Canvas user 101) submits every solution: 70.
* Ben Kim (102) submits every unsolved exercise: 0.
* Cat Roy (103) submits 07's solution, and for 02 the unsolved template under the name the
  exercise asks for beside a solved copy (``02-newstack-Copy1.ipynb``): the copy is graded,
  20 points, and the choice is reported.
* Dan Ode (104) submits 03's solution late (Canvas: ``_LATE``), after a first upload of a
  wrong ``copystack`` under the same name (Canvas's re-upload suffix ``-1``): the newest
  upload is graded, 10 points. Folders, Moodle and Gradescope hold only the newest.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gostack.grade import layouts, roster

ROOT = Path(__file__).resolve().parents[1]
SOL, EXE = ROOT / "solutions", ROOT / "exercises"
SECRET = "test-secret-not-for-real-use-0123456789"
IDS = ("01-prologue", "02-newstack", "03-copystack", "04-adjust", "05-growth-path",
       "06-predict-the-trace", "07-shrink")

# (Canvas user id, Canvas sortable name, full name, e-mail)
PEOPLE = {"ann": ("101", "leeann", "Ann Lee", "ann@example.edu"),
          "ben": ("102", "kimben", "Ben Kim", "ben@example.edu"),
          "cat": ("103", "roycat", "Cat Roy", "cat@example.edu"),
          "dan": ("104", "odedan", "Dan Ode", "dan@example.edu")}

# Hand-written: points per exercise (in IDS order), then the total.
EXPECTED = {"ann": [10, 10, 10, 10, 10, 10, 10, 70],
            "ben": [0, 0, 0, 0, 0, 0, 0, 0],
            "cat": [0, 10, 0, 0, 0, 0, 10, 20],
            "dan": [0, 0, 10, 0, 0, 0, 0, 10]}


def wrong_copystack(base: Path) -> Path:
    """A notebook whose copystack is written, and wrong."""
    path = base / "wrong-03.ipynb"
    if not path.exists():
        base.mkdir(parents=True, exist_ok=True)
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                "source": "def copystack(old, new, used):\n    return 0\n"}
        path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}))
    return path


def files_of(who: str, base: Path) -> list[tuple[Path, str, int]]:
    """(source notebook, name as the student saved it, Canvas re-upload number)."""
    if who == "ann":
        return [(SOL / f"{i}.ipynb", f"{i}.ipynb", 0) for i in IDS]
    if who == "ben":
        return [(EXE / f"{i}.ipynb", f"{i}.ipynb", 0) for i in IDS]
    if who == "cat":
        return [(EXE / "02-newstack.ipynb", "02-newstack.ipynb", 0),
                (SOL / "02-newstack.ipynb", "02-newstack-Copy1.ipynb", 0),
                (SOL / "07-shrink.ipynb", "07-shrink.ipynb", 0)]
    return [(wrong_copystack(base), "03-copystack.ipynb", 0),
            (SOL / "03-copystack.ipynb", "03-copystack.ipynb", 1)]


def with_suffix(name: str, n: int) -> str:
    stem, ext = name.rsplit(".", 1)
    return f"{stem}-{n}.{ext}" if n else name


def build_folders(base: Path) -> Path:
    subs = base / "folders"
    for who, (uid, *_rest) in PEOPLE.items():
        for src, name, n in files_of(who, base):
            if n:  # a folder holds one file per name: the newest upload
                continue
            (subs / uid).mkdir(parents=True, exist_ok=True)
            shutil.copy(src, subs / uid / name)
    shutil.copy(SOL / "03-copystack.ipynb", subs / "104" / "03-copystack.ipynb")
    return subs


def build_canvas(base: Path) -> Path:
    subs = base / "canvas"
    subs.mkdir(parents=True)
    for who, (uid, sortable, *_rest) in PEOPLE.items():
        late = "_LATE" if who == "dan" else ""
        for src, name, n in files_of(who, base):
            shutil.copy(src, subs / f"{sortable}{late}_{uid}_{9000 + int(uid)}_"
                                    f"{with_suffix(name, n)}")
    (subs / "leeann_101_9101_notes.pdf").write_bytes(b"%PDF-1.4\n")
    return subs


def build_moodle(base: Path) -> Path:
    subs = base / "moodle"
    for who, (uid, _s, full, _e) in PEOPLE.items():
        folder = subs / f"{full}_{uid}_assignsubmission_file_"
        folder.mkdir(parents=True)
        for src, name, n in files_of(who, base):
            if not n:
                shutil.copy(src, folder / name)
    shutil.copy(SOL / "03-copystack.ipynb",
                subs / "Dan Ode_104_assignsubmission_file_" / "03-copystack.ipynb")
    text = subs / "Ann Lee_101_assignsubmission_onlinetext_"
    text.mkdir()
    (text / "onlinetext.html").write_text("<p>done</p>")
    return subs


def build_gradescope(base: Path) -> Path:
    subs = base / "gradescope"
    meta = []
    for who, (uid, _s, full, email) in PEOPLE.items():
        folder = subs / f"submission_{500 + int(uid)}"
        folder.mkdir(parents=True)
        for src, name, n in files_of(who, base):
            if not n:
                shutil.copy(src, folder / name)
        meta += [f"submission_{500 + int(uid)}:", "  :submitters:", f"  - :name: {full}",
                 f"    :sid: '{uid}'", f"    :email: {email}",
                 "  :created_at: 2026-11-30 23:59:00.000000000 +00:00", "  :score: 0.0"]
    shutil.copy(SOL / "03-copystack.ipynb", subs / "submission_604" / "03-copystack.ipynb")
    (subs / "submission_metadata.yml").write_text("\n".join(meta) + "\n")
    return subs


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gostack", "grade", *args],
                          capture_output=True, text=True, timeout=600)


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def points(row: dict[str, str]) -> list[float]:
    return [float(row[i]) for i in IDS] + [float(row["total"])]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    secret = base / "secret.txt"
    secret.write_text(SECRET)
    runs = {}
    for layout, build in (("folders", build_folders), ("canvas", build_canvas),
                          ("moodle", build_moodle), ("gradescope", build_gradescope)):
        subs = build(base / "subs")
        out = base / f"out-{layout}"
        run = grade(str(subs), "--out", str(out), "--secret-file", str(secret), "--jobs", "2")
        assert run.returncode == 0, run.stderr
        runs[layout] = (subs, out, run)
    return runs


# How each layout names the student (the id the gradebook shows).
ID_OF = {"folders": lambda p: p[0], "canvas": lambda p: p[0], "moodle": lambda p: p[0],
         "gradescope": lambda p: p[3]}


@pytest.mark.parametrize("layout", ["folders", "canvas", "moodle", "gradescope"])
def test_every_layout_gives_the_same_gradebook(graded, layout):
    _subs, out, run = graded[layout]
    book = gradebook(out)
    assert set(book) == {ID_OF[layout](p) for p in PEOPLE.values()}
    for who, person in PEOPLE.items():
        assert points(book[ID_OF[layout](person)]) == EXPECTED[who], (layout, who)
    detected = [ln for ln in run.stderr.splitlines() if "submissions:" in ln]
    assert len(detected) == 1, run.stderr
    word = {"folders": "one student per folder", "canvas": "a Canvas download",
            "moodle": "a Moodle download", "gradescope": "a Gradescope export"}[layout]
    assert word in detected[0]


def test_the_copy_is_graded_over_the_unsolved_template_and_reported(graded):
    for layout in ("folders", "canvas", "moodle", "gradescope"):
        _subs, out, _run = graded[layout]
        summary = json.loads((out / "summary.json").read_text())
        lines = [ln for ln in summary["several_notebooks"] if "02-newstack" in ln]
        assert len(lines) == 1, (layout, summary["several_notebooks"])
        assert "graded 02-newstack-Copy1.ipynb" in lines[0]
        assert "02-newstack.ipynb is still the unsolved template" in lines[0]
        sid = ID_OF[layout](PEOPLE["cat"])
        feedback = (out / "students" / sid / "feedback.md").read_text()
        assert "several notebooks for this exercise: graded 02-newstack-Copy1.ipynb" in feedback
    _subs, out, _run = graded["canvas"]
    summary = json.loads((out / "summary.json").read_text())
    dan = [ln for ln in summary["several_notebooks"] if ln.startswith("104")]
    assert dan == ["104, 03-copystack: 2 notebooks; graded 03-copystack.ipynb (the newest "
                   "upload); not graded: 03-copystack.ipynb"]
    assert any("notes.pdf (not a notebook)" in p for p in summary["ignored_paths"])


def test_canvas_names_are_parsed_into_id_name_and_late(tmp_path):
    subs = build_canvas(tmp_path)
    found = layouts.load([subs], "auto")
    assert found.layout == "canvas"
    by_id = {s.id: s for s in found.students}
    assert sorted(by_id) == ["101", "102", "103", "104"]
    dan = by_id["104"]
    assert (dan.meta.name, dan.meta.late, dan.meta.submission) == ("odedan", True, "9104")
    assert [u.name for u in dan.uploads] == ["03-copystack.ipynb", "03-copystack.ipynb"]
    assert dan.chosen["03-copystack"].name == "odedan_LATE_104_9104_03-copystack-1.ipynb"
    assert by_id["101"].meta.late is False


def test_gradescope_metadata_is_read_without_a_yaml_library(tmp_path):
    path = tmp_path / "submission_metadata.yml"
    path.write_text("submission_1:\n  :submitters:\n  - :name: Pair One\n    :sid: '200'\n"
                    "    :email: one@example.edu\n  - :name: Pair Two\n    :sid: '201'\n"
                    "  :created_at: 2026-11-30 12:00:00 +00:00\n  :history:\n"
                    "  - :name: ignored\nsubmission_2:\n  :submitters:\n  - :name: Solo\n")
    meta = layouts.read_gradescope_metadata(path)
    assert meta["submission_1"]["submitters"] == [
        {"name": "Pair One", "sid": "200", "email": "one@example.edu"},
        {"name": "Pair Two", "sid": "201"}]
    assert meta["submission_1"]["created_at"] == "2026-11-30 12:00:00 +00:00"
    assert meta["submission_2"]["submitters"] == [{"name": "Solo"}]


@pytest.mark.parametrize("make, needle", [
    (lambda d: [(d / "leeann_101_9001_02-newstack.ipynb").touch(), (d / "bob").mkdir()],
     "1 entry is named like a Canvas download and 1 is not (bob): pass --layout canvas"),
    (lambda d: [(d / "leeann_101_9001_02-newstack.ipynb").touch(),
                (d / "Ann Lee_101_assignsubmission_file_").mkdir()],
     "cannot tell the layout: 1 named like a Canvas download, 1 named like a Moodle download"),
    (lambda d: [(d / "02-newstack.ipynb").touch(), (d / "03-copystack.ipynb").touch()],
     "holds notebooks named after exercises (02-newstack.ipynb, 03-copystack.ipynb): is it "
     "one student's submission?"),
])
def test_ambiguous_input_is_refused_with_one_clear_line(tmp_path, make, needle):
    subs = tmp_path / "subs"
    subs.mkdir()
    make(subs)
    run = grade(str(subs), "--out", str(tmp_path / "out"), "--secret-file", "/dev/null")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], run.stderr
    assert not (tmp_path / "out").exists()


def test_a_zip_is_refused_with_the_command_to_unzip_it(tmp_path):
    z = tmp_path / "submissions.zip"
    z.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    run = grade(str(z), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "is a zip: unzip it first (unzip submissions.zip -d submissions)" in run.stderr


CANVAS_GRADEBOOK = """\
Student,ID,SIS User ID,SIS Login ID,Section,Stack growth (4711),Current Score
    Points Possible,,,,,70.00,(read only)
"Lee, Ann",101,S001,alee,Section 1,,
"Kim, Ben",102,S002,bkim,Section 1,,
"Roy, Cat",103,S003,croy,Section 1,,
"Ode, Dan",104,S004,dode,Section 1,,
"Doe, Eve",105,S005,edoe,Section 1,,
"Student, Test",999,,,Section 1,,
"""


def test_a_canvas_gradebook_export_is_read_as_it_is(tmp_path):
    path = tmp_path / "canvas.csv"
    path.write_text(CANVAS_GRADEBOOK)
    r = roster.read(path)
    assert (r.kind, r.id_column) == ("canvas", "ID")
    assert sorted(r.rows) == ["101", "102", "103", "104", "105"]  # no Points Possible, Test
    assert r.columns == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert r.names["105"] == "Doe, Eve"
    assert r.notes == ["left out Canvas's Test Student (id 999)"]


def test_roster_mismatches_warn_and_exit_1_unless_allowed(graded, tmp_path):
    subs, out, _run = graded["canvas"]
    path = tmp_path / "canvas.csv"
    path.write_text(CANVAS_GRADEBOOK)
    work = tmp_path / "out"
    shutil.copytree(out, work)
    args = [str(subs), "--out", str(work), "--secret-file", str(out.parent / "secret.txt"),
            "--roster", str(path)]
    run = grade(*args)
    assert run.returncode == 1, run.stderr
    warnings = [ln for ln in run.stderr.splitlines() if "WARNING" in ln]
    assert len(warnings) == 2  # before grading and after
    assert "1 roster entry has no submission (105)" in warnings[0]
    assert "exit status 1 unless --allow-unmatched" in warnings[0]
    book = gradebook(work)
    assert book["105"]["status"] == "no submission" and book["105"]["Student"] == "Doe, Eve"
    assert book["101"]["SIS Login ID"] == "alee" and "Stack growth (4711)" not in book["101"]
    assert points(book["103"]) == EXPECTED["cat"]
    allowed = grade(*args, "--allow-unmatched")
    assert allowed.returncode == 0, allowed.stderr
    assert "WARNING" in allowed.stderr
    # A submission in no roster entry: the same.
    path.write_text("\n".join(CANVAS_GRADEBOOK.splitlines()[:5]) + "\n")  # no Dan, no Eve
    run = grade(*args)
    assert run.returncode == 1
    assert "1 submission matches no roster entry (104)" in run.stderr
    assert gradebook(work)["104"]["status"].endswith("; not in roster")


def test_a_roster_keyed_on_the_wrong_column_is_refused(graded, tmp_path):
    subs, out, _run = graded["folders"]  # ids only: a Canvas download would match by name
    path = tmp_path / "canvas.csv"
    path.write_text(CANVAS_GRADEBOOK)
    run = grade(str(subs), "--out", str(tmp_path / "o"), "--roster", str(path),
                "--roster-id-column", "SIS User ID")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no submission matches the roster" in lines[0]
    assert "submission ids look like 101, 102, 103, the roster's like S001, S002, S003" \
        in lines[0]
    run = grade(str(subs), "--out", str(tmp_path / "o"), "--roster", str(path),
                "--roster-id-column", "Login")
    assert run.returncode == 2 and "has no column 'Login' (--roster-id-column)" in run.stderr


def test_a_moodle_download_matches_a_moodle_grades_export_by_name(graded, tmp_path):
    subs, out, _run = graded["moodle"]
    path = tmp_path / "moodle.csv"
    path.write_text("First name,Last name,ID number,Institution,Department,Email address,"
                    "Assignment: Stack growth (Real),Last downloaded from this course\n"
                    + "".join(f"{full.split()[0]},{full.split()[1]},,,,{email},-,1700000000\n"
                              for _uid, _s, full, email in PEOPLE.values()))
    work = tmp_path / "out"
    shutil.copytree(out, work)
    run = grade(str(subs), "--out", str(work), "--roster", str(path), "--secret-file",
                str(out.parent / "secret.txt"))
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr
    summary = json.loads((work / "summary.json").read_text())
    assert "matched 4 of 4 submissions (4 by name)" in summary["roster"]
    book = gradebook(work)
    assert book["103"]["Email address"] == "cat@example.edu"
    assert "Assignment: Stack growth (Real)" not in book["103"]


def test_gradescope_submitters_match_a_roster_by_e_mail(graded, tmp_path):
    subs, out, _run = graded["gradescope"]
    found = layouts.load([subs])
    path = tmp_path / "roster.csv"
    path.write_text("name,email\n" + "".join(f"{p[2]},{p[3]}\n" for p in PEOPLE.values()))
    m = roster.match(roster.read(path, id_column="email"), found.students)
    assert sorted(m.to_roster) == sorted(p[3] for p in PEOPLE.values())
    assert not m.unmatched and not m.without


def test_older_moodle_flat_files_and_blind_marking(tmp_path):
    subs = tmp_path / "moodle"
    subs.mkdir()
    for name in ("Ann Lee_101_assignsubmission_file_02-newstack.ipynb",
                 "Ann Lee_101_assignsubmission_file_07-shrink.ipynb",
                 "Participant_102_assignsubmission_file_02-newstack.ipynb",
                 "Ann Lee_101_assignsubmission_file_report.pdf"):
        (subs / name).write_text("{}")
    found = layouts.load([subs])
    assert found.layout == "moodle"
    by_id = {s.id: s for s in found.students}
    assert sorted(by_id) == ["101", "102"]
    assert [u.name for u in by_id["101"].uploads] == ["02-newstack.ipynb", "07-shrink.ipynb"]
    assert (by_id["101"].meta.name, by_id["102"].meta.name) == ("Ann Lee", "Participant")
    assert [p for p in found.ignored if "report.pdf (not a notebook)" in p]


def test_a_file_named_after_two_exercises_serves_both(tmp_path):
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    shutil.copy(SOL / "03-copystack.ipynb", tmp_path / "subs" / "ann" / "copystack-adjust.ipynb")
    (ann,) = layouts.load([tmp_path / "subs"]).students
    assert {e: p.name for e, p in ann.chosen.items()} == {
        "03-copystack": "copystack-adjust.ipynb", "04-adjust": "copystack-adjust.ipynb"}
