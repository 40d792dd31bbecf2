"""docs/instructor-guide.md: every `sh` block runs, in order, in one folder holding what the
platforms would have given the instructor, and the grades it ends with are the ones written
here by hand.

The class (exercises 02 and 07, 10 points each): Ann Lee solves both (20); Ben Kim hands in
the unsolved notebooks (0; an override gives him 2 on 02); Cat Roy solves 02 only (10),
late: Canvas marks her upload _LATE (one day: -1 point, then waived by an override), Moodle
has no time (no penalty), Gradescope says 03:00 at UTC-5 on 2 December, three hours after
the due date (one day: -1)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructor-guide.md"
SOL, EXE = ROOT / "solutions", ROOT / "exercises"

# (name, Canvas id, Moodle participant id, e-mail, {exercise: source folder})
CLASS = [("Ann Lee", "101", "201", "ann@example.edu", {"02-newstack": SOL, "07-shrink": SOL}),
         ("Ben Kim", "102", "202", "ben@example.edu", {"02-newstack": EXE, "07-shrink": EXE}),
         ("Cat Roy", "103", "203", "cat@example.edu", {"02-newstack": SOL})]
GRADESCOPE_TIMES = {"101": "2026-12-01 22:00:00.000000000 -05:00",
                    "102": "2026-12-01 23:00:00.000000000 -05:00",
                    "103": "2026-12-02 03:00:00.000000000 -05:00"}


def blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def build_downloads(ws: Path) -> None:
    """What Canvas, Moodle and Gradescope give for this class, under their names."""
    with zipfile.ZipFile(ws / "submissions.zip", "w") as z:  # Canvas
        for name, cid, _pid, _email, files in CLASS:
            last, first = name.split()[1].lower(), name.split()[0].lower()
            late = "_LATE" if cid == "103" else ""
            for ex, src in files.items():
                z.write(src / f"{ex}.ipynb", f"{last}{first}{late}_{cid}_9{cid}_{ex}.ipynb")
    (ws / "canvas-gradebook.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Stack growth (4711),Current Score\n"
        "    Points Possible,,,,,20.00,(read only)\n"
        + "".join(f'"{n.split()[1]}, {n.split()[0]}",{cid},S{cid},{e.split("@")[0]},'
                  "Section 1,,\n" for n, cid, _p, e, _f in CLASS))
    with zipfile.ZipFile(ws / "moodle-submissions.zip", "w") as z:
        for name, _cid, pid, _email, files in CLASS:
            for ex, src in files.items():
                z.write(src / f"{ex}.ipynb",
                        f"{name}_{pid}_assignsubmission_file_/{ex}.ipynb")
    (ws / "moodle-grades.csv").write_text(
        "First name,Last name,ID number,Institution,Department,Email address,"
        "Assignment: Stack growth (Real)\n"
        + "".join(f"{n.split()[0]},{n.split()[1]},,,,{e},-\n" for n, _c, _p, e, _f in CLASS))
    meta = []
    with zipfile.ZipFile(ws / "gradescope-export.zip", "w") as z:
        for name, cid, _pid, email, files in CLASS:
            folder = f"assignment_4242_export/submission_{cid}"
            for ex, src in files.items():
                z.write(src / f"{ex}.ipynb", f"{folder}/{ex}.ipynb")
            meta += [f"submission_{cid}:", "  :submitters:", f"  - :name: {name}",
                     f"    :sid: '{cid}'", f"    :email: {email}",
                     f"  :created_at: {GRADESCOPE_TIMES[cid]}", "  :score: 0.0"]
        z.writestr("assignment_4242_export/submission_metadata.yml", "\n".join(meta) + "\n")


def scores(path: Path, key: str, value: str) -> dict[str, float]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header = rows[0]
    k, v = header.index(key), header.index(value)
    return {r[k]: float(r[v]) for r in rows[1:] if r[k].strip() != "Points Possible"
            and r[0].strip() != "Points Possible"}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    ws = tmp_path_factory.mktemp("course")
    build_downloads(ws)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    outputs = []
    for block in blocks():
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ws, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{block}\n--- stdout\n{run.stdout}\n--- stderr\n" \
                                    f"{run.stderr}"
        outputs.append(run)
    return ws, outputs


def test_the_guide_is_linked_from_the_readme_and_walks_every_platform():
    readme = (ROOT / "README.md").read_text()
    assert "docs/instructor-guide.md" in readme
    text = GUIDE.read_text()
    for heading in ("Release", "Canvas", "Moodle", "Gradescope", "Overrides", "Final grades"):
        assert re.search(rf"^## \d\. {heading}", text, re.M), heading
    assert len(blocks()) >= 8
    for block in blocks():
        assert "gostack grade" in block or "python3 -m zipfile" in block or "cat " in block \
            or "tail " in block


def test_every_command_runs_and_the_grades_are_the_hand_written_ones(ran):
    ws, outputs = ran
    assert (ws / "autograder-secret.txt").stat().st_mode & 0o777 == 0o600
    # Canvas: 2 override points for Ben; Cat's late day (-1 of 10) waived by an override.
    assert scores(ws / "graded" / "export-canvas.csv", "ID", "Stack growth (4711)") == {
        "101": 20, "102": 2, "103": 10}
    log = [json.loads(ln) for ln in (ws / "graded" / "regrades.jsonl").read_text()
           .splitlines()]
    last = {e["student"]: e for e in log[-2:]}
    assert last["102"]["total"] == [0, 2] and last["103"]["total"] == [9, 10]
    assert "override: late penalty set to 0 (Prof. Lee, 2026-12-03): extension granted" in \
        last["103"]["changes"][0]["why"]
    assert '"student": "103"' in outputs[-2].stdout  # the guide's tail of the log
    # The late policy's first run: Cat's 10 became 9, and the log says why.
    (late,) = [e for e in log if e["student"] == "103" and e["total"] == [10, 9]]
    assert late["changes"] == [{
        "item": "late penalty", "old": 0, "new": 1,
        "why": ["late policy: due 2026-12-01T23:59:00-05:00; -10% per started day late, at "
                "most -30% (was none)",
                "late policy: Canvas marks the submission late (_LATE in its file names) and "
                "its download has no time: charged 1 day"]}]
    # Moodle: no times, no penalty.
    assert scores(ws / "graded-moodle" / "export-moodle.csv", "Email address",
                  "Stack growth") == {"ann@example.edu": 20, "ben@example.edu": 0,
                                      "cat@example.edu": 10}
    # Gradescope: Cat three hours late, one day, -1; to Canvas by name.
    assert scores(ws / "graded-gs" / "export.csv", "student", "total") == {
        "ann@example.edu": 20, "ben@example.edu": 0, "cat@example.edu": 9}
    assert scores(ws / "graded-gs" / "export-canvas.csv", "ID", "Stack growth (4711)") == {
        "101": 20, "102": 0, "103": 9}
    assert "late policy: due 2026-12-01T23:59:00-05:00" in outputs[-1].stdout


def test_a_hand_edit_after_the_guide_is_refused(ran):
    ws, _outputs = ran
    work = ws.parent / "edited"
    shutil.copytree(ws, work)
    book = work / "graded" / "gradebook.csv"
    text = book.read_text()
    assert "Section 1,10,0,0,10," in text  # Cat: 02, 07, late penalty (waived), total
    book.write_text(text.replace("Section 1,10,0,0,10,", "Section 1,10,0,0,12,"))
    block = next(b for b in blocks() if "--overrides" in b)
    command = block[block.index("gostack grade"):block.index("\ntail")]
    run = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PATH": f"{Path(sys.executable).parent}"
                                                                 f"{os.pathsep}"
                                                                 f"{os.environ['PATH']}"})
    assert run.returncode == 2
    assert "103, total: 10 -> 12" in run.stderr and "--overrides" in run.stderr
