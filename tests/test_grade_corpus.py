"""The bad-submission corpus (tests/grading_corpus/): each one is handled, and nobody else pays.

All of them are graded in one run, beside an honest student, with the default limits (2 s
CPU and 10 s wall per exercise, each plus one alarm per rule; 256 MB; 60 s per student) and a
short per-call alarm. For each submission the
table says how many points its exercise must get and what the student must be told: the
cheater gets nothing for what it faked, honest work (its own or another student's) keeps its
points, and the run itself never stops.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gostack as gs
from gostack.grade import catalog
from gostack.grade.cli import main

CORPUS = Path(__file__).resolve().parent / "grading_corpus"
EXERCISES = "01,02,03,05"

# student -> (exercise, points, regular expression the feedback must match)
EXPECTED = {
    "honest": ("02-newstack", 10, r"10/10"),
    "syntax_error": ("02-newstack", 0, r"SyntaxError"),
    "misnamed_function": ("02-newstack", 0, r"there is 'newsize': a typo\?"),
    "missing_function": ("02-newstack", 0, r"no function named 'new_size'"),
    "wrong_signature": ("02-newstack", 0,
                        r"cannot be called as new_size\(old_size, used, frame, max_stack\)"),
    "infinite_loop": ("02-newstack", 0,
                      r"ran out of time: no answer after 0\.5 s per call \(an endless loop\?\)"),
    "alarm_swallowing": ("02-newstack", 0, r"its alarm caught and ignored"),
    "cpu_burner": ("02-newstack", 0, r"alarm caught and ignored|s of CPU time"),
    "memory_hog": ("02-newstack", 0, r"ran out of memory|s of CPU time|no answer after"),
    "deep_recursion": ("02-newstack", 0, r"RecursionError|segmentation fault"),
    "sys_exit": ("02-newstack", 0, r"your code called sys\.exit\(\)"),
    "os_exit": ("02-newstack", None, r"os\._exit"),
    "keyboard_interrupt": ("02-newstack", 0, r"raised KeyboardInterrupt"),
    "base_exception": ("02-newstack", 0, r"raised Escape: out of here"),
    "fake_pass_lines": ("02-newstack", 2, r"not used for scoring"),
    "writes_output_folder": ("02-newstack", 0, r"not allowed while grading: writing"),
    "monkeypatch_gostack": ("02-newstack", 0, r"changed gostack while it was being graded"),
    "monkeypatch_grader": ("02-newstack", 0, r"changed gostack while it was being graded"),
    "always_equal": ("02-newstack", 0, r"is an Anything, not an int"),
    "int_subclass_equal": ("02-newstack", 0, r"expected: 4,096"),
    "numpy_scalars": ("02-newstack", 10, r"10/10"),
    "mutating_inputs": ("03-copystack", 8, r"✘ copies without changing the old stack"),
    "spawns_processes": ("02-newstack", 0, r"not allowed while grading: starting a process"),
    "calls_reference": ("02-newstack", 0, r"calls gostack's reference implementation"),
    "calls_reference_quietly": ("02-newstack", 0, r"calls gostack's reference implementation"),
    # The simulator's inline reference prologue is switched off in the worker: driving the
    # simulator with the default prologue is a call of the reference.
    "prologue_through_the_simulator": ("01-prologue", 0,
                                       r"calls gostack's reference implementation"),
    "binds_reference": ("02-newstack", 0, r"gostack's own gostack\.newstack\.new_size"),
    "reads_reference_source": ("02-newstack", 0, r"gostack's source is not available"),
    "pasted_reference": ("02-newstack", 10, r"10/10"),
    "twin_a": ("02-newstack", 10, r"10/10"),
    "twin_b": ("02-newstack", 10, r"10/10"),
    "empty_file": ("02-newstack", 0, r"02-newstack\.ipynb is empty"),
    "corrupt_json": ("02-newstack", 0, r"its JSON is broken at line"),
    "non_utf8": ("02-newstack", 0, r"is not UTF-8 text \(byte 0xe9"),
    "not_a_notebook": ("02-newstack", 0, r"is not a notebook"),
    "frame_walker": ("05-growth-path", 5, r"inspecting the call stack"),
    "fast_path_swap": ("05-growth-path", 0,
                       r"changed gostack while|the runtime called your prologue stage"),
    # The tripwire holds no channel and no nonce: the theft fails, new_size keeps what it earns.
    "forges_reports": ("02-newstack", 2, r"this statement failed: cell 3, line 9: AttributeError"),
    "surrogate_messages": ("02-newstack", 0, r"raised ValueError: bad \\udcff value"),
    "surrogate_signature": ("02-newstack", 0, r"new_size\(\\ud800 old_size\) cannot be called as"),
    # Round two: the sandbox's policy and its path checks cannot be rewritten from inside.
    "reads_source_past_os_path": ("02-newstack", 0,
                                  r"gostack's source is not available while grading"),
    "silences_the_tripwire": ("02-newstack", 0, r"calls gostack's reference implementation"),
    "rewrites_the_sandbox_policy": ("02-newstack", 0,
                                    r"calls gostack's reference implementation"),
    "frames_another_student": ("02-newstack", 2, r"Score: 2/10"),
    "newline_in_a_type_name": ("02-newstack", 0, r"new_size is a odd\\n  honest"),
    # Round fourteen: a hidden case's input, or a message quoting it, is in no report by
    # default; what a learner prints, raises or names reaches every report escaped.
    "quotes_hidden_arguments": ("02-newstack", 0,
                                r"✘ .+ 0/\d+\n +\d+ hidden cases fail \(inputs not shown\)"),
    "terminal_escapes": ("02-newstack", 0,
                         r"raised Loud\\x1b\[31m\\x07\\r\\n## 99-forged: 10/10: "
                         r"bad\\x1b\[31m red"),
    # Round three: junk on the answer pipe, os calls CPython does not audit, a second posix.
    "hides_a_reference_call_behind_junk": ("02-newstack", 0,
                                           r"calls gostack's reference implementation"),
    "uses_unaudited_os_calls": ("02-newstack", 2,
                                r"mknod: AttributeError: module 'os' has no attribute 'mknod' "
                                r"\| mkfifo: AttributeError.*memfd: AttributeError.*"
                                r"fallocate: AttributeError"),
    "rebuilds_posix": ("02-newstack", 2,
                       r"fresh posix: ImportError: module 'posix' is not available while grading"
                       r" \| keyword: TypeError.*fresh _imp: ImportError.*hook posix: \[\] \| "
                       r"readline: ImportError.*hook readline: \[\].*chmod: PermissionError.*"
                       r"files: PermissionError: not allowed while grading: opening more than "
                       r"32 files"),
    "nbformat3_two_worksheets": ("02-newstack", 10, r"10/10"),  # cells in every worksheet
    # Round six: no garbage collector to time a finalizer into the harness's frame window.
    "times_a_collection_into_the_harness": ("02-newstack", 2,
                                            r"ImportError: module 'gc' is not available while "
                                            r"grading(.|\n)*gc modules reachable: \[\]"),
    # Round seven: builtins rebound by the learner never run in the harness's frame window.
    "rebinds_builtins_the_harness_calls": ("02-newstack", 2, r"frames seen: \[\]"),
    # Round eight: the worker writes its reports with its own encoder, not json's.
    "swaps_the_json_encoder": ("02-newstack", 0, r"calls gostack's reference implementation"),
    # Round nine: nothing between two cases runs learner code with no alarm set.
    "rebinds_len_to_outlive_the_alarm": ("02-newstack", 0,
                                         r"changed gostack while it was being graded "
                                         r"\(builtins\.len\)"),
    "hides_a_key_in_a_gostack_module": ("02-newstack", 0,
                                        r"gostack\.newstack: a name that is not a plain str"),
    # Round ten: the hook and the harness use builtins and helpers bound before learner code.
    "rebinds_builtins_the_hook_uses": ("02-newstack", 2,
                                       r"read: PermissionError \| gostack's source is not "
                                       r"available"),
    "shapes_the_harness_filenames": ("02-newstack", 0,
                                     r"changed gostack while it was being graded "
                                     r"\(gostack\.grade\.notebook\.cell_filename"),
    # Round eleven: exact types in the frame window; gostack's functions known by identity.
    "str_subclass_filename_in_the_window": ("02-newstack", 0,
                                            r"this statement failed: cell 4, line 1: "
                                            r"an exception: x"),
    "rewrites_a_gostack_function_module": ("02-newstack", 10,
                                           r"changing __code__ of gostack's as_int"),
    # Round twelve: the patch check uses module names read at start, never a module's own.
    "renames_a_gostack_module": ("02-newstack", 0,
                                 r"changed gostack while it was being graded \(gostack\.__name__"),
    # Round thirteen: an instance's __dict__ swapped (no audit event) is a change too.
    "swaps_an_instance_dict": ("02-newstack", 0,
                               r"changed gostack while it was being graded \(gostack\.REFERENCE: "
                               r"its __dict__ was replaced"),
    # Honest code run as Jupyter runs it: line magics, %time, Python-bodied cell magics and
    # the optional-import idiom; a %%timeit cell defines nothing (as in Jupyter).
    "magics_and_optional_imports": ("02-newstack", 10,
                                    r"Score: 10/10 points on the visible and hidden tests"),
    # np.int64 from new_size, copystack and shrink_size: read as ints, as in a notebook.
    "numpy_growth_path": ("05-growth-path", 10,
                          r"Score: 10/10 points on the visible and hidden tests"),
    # A case that runs out of time fails alone: the rules whose cases passed keep their points.
    "loops_on_some_inputs": ("02-newstack", 7,
                             r"✘ more doublings(.|\n)*no answer after 0\.5 s(.|\n)*"
                             r"✔ past the limit"),
    # Forty slow demo cells share one budget; the function defined before them is graded.
    "slow_cells_everywhere": ("02-newstack", 10,
                              r"cell 7, line 1 and 37 more: not run, the top-level statements "
                              r"had used up their 2 s"),
    # Honest code importing standard modules the worker had not loaded (logging, unicodedata,
    # zlib) when it dropped root: they still load, from a Python under a private home too.
    "imports_stdlib_late": ("02-newstack", 10, r"10/10"),
    # Code nested 10,000 and 5,000 deep, and 700 deep where the grader's analysis used to
    # recurse: syntax notes and an integrity note, never a crash (01 keeps its points too).
    "deeply_nested_code": ("02-newstack", 10,
                           r"too many nested parentheses(.|\n)*RecursionError(.|\n)*the "
                           r"integrity checks could not analyse this notebook's code"),
    # Classmates' folder names are private: the worker cannot list the submissions folder
    # (Landlock in the kernel where there is one, the audit hook in any case).
    "lists_classmates": ("02-newstack", 0,
                         r"classmates: \{'\.\.': \['PermissionError', 'PermissionError'\], "
                         r"'submissions': \['PermissionError', 'PermissionError'\], "
                         r"'above': \['PermissionError', 'PermissionError'\]\}"),
    # namedtuple, enum's and typing's functional APIs ask sys._getframe for their caller's
    # module: refused with a ValueError they catch, so honest code runs as in Jupyter.
    "namedtuple_and_friends": ("02-newstack", 10, r"Score: 10/10"),
    # numpy imports ctypes if it can; a cached module imports again with no audit event, so
    # the worker keeps ctypes out of sys.modules and the learner's import is refused.
    "ctypes_through_numpy": ("02-newstack", 10, r"'ctypes' is not available while grading"),
    # It writes its arguments through a descriptor it dup'ed at definition time: what the
    # feedback quotes was read before the first hidden case, so only visible ones show.
    "keeps_a_descriptor_for_later": ("02-newstack", 10, r"SEEN new_size\("),
    # It prints its arguments on every call: the visible ones are quoted, the hidden never.
    "prints_hidden_inputs": ("02-newstack", 10, r"What your code printed(.|\n)*call \d+: "
                             r"new_size\(.*\) \(fd 2\)"),
    # copystack returns a float, adjustframe moves nothing, shrink_size never shrinks.
    "wrong_type_answer": ("05-growth-path", 7.5,
                          r"the same delta, every frame's x carried along \(copystack\) +0/1"),
}


def _sleepers() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.startswith("sleep 127")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    subs, out = base / "submissions", base / "out"
    shutil.copytree(CORPUS, subs, ignore=shutil.ignore_patterns("README.md", "conftest.py",
                                                                "__pycache__"))
    attack = subs / "writes_output_folder" / "02-newstack.ipynb"
    attack.write_text(attack.read_text().replace("@@OUT@@", str(out)))
    spy = subs / "lists_classmates" / "02-newstack.ipynb"
    spy.write_text(spy.read_text().replace("@@SUBS@@", str(subs)))
    _paste_current_reference(subs / "pasted_reference" / "02-newstack.ipynb")
    _fill_visible_args(subs / "quotes_hidden_arguments" / "02-newstack.ipynb")
    printer = subs / "prints_hidden_inputs" / "02-newstack.ipynb"
    printer.write_text(printer.read_text().replace(
        "@@VISIBLE_CASES@@", str(len(catalog.BY_ID["02-newstack"].visible_cases()))))
    secret = base / "secret.txt"
    secret.write_text("corpus-secret-0123456789abcdef\n")
    code = main([str(subs), "--out", str(out), "--exercises", EXERCISES, "--jobs", "2",
                 "--case-timeout", "0.5", "--secret-file", str(secret), "--quiet"])
    assert code == 0
    return out


def _paste_current_reference(path: Path) -> None:
    """The pasted copy follows the reference as it is today, names made to resolve."""
    source = inspect.getsource(gs.newstack.new_size)
    for name, qualified in (("STACK_GUARD", "gs.STACK_GUARD"),
                            ("MAX_STACK_CEILING", "gs.arch.MAX_STACK_CEILING"),
                            ("StackOverflow(", "gs.StackOverflow(")):
        source = source.replace(name, qualified)
    nb = json.loads(path.read_text())
    nb["cells"][-1]["source"] = source
    path.write_text(json.dumps(nb))


def _result(out: Path, student: str) -> tuple[dict, str]:
    folder = out / "students" / student
    return (json.loads((folder / "results.json").read_text(encoding="utf-8")),
            (folder / "feedback.md").read_text(encoding="utf-8"))


def test_the_table_covers_the_whole_corpus():
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.iterdir()
                                      if p.is_dir() and not p.name.startswith("__"))


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_bad_submission_is_handled(graded, student):
    exercise, points, message = EXPECTED[student]
    results, feedback = _result(graded, student)
    got = results["extra_data"]["exercises"][exercise]
    if points is None:
        assert got < 10
    else:
        assert got == points, feedback
    section = feedback.split(f"## {exercise}")[1].split("\n## ")[0]
    assert re.search(message, section), section
    assert results["execution_time"] < 12 * 4, "bounded: 10 s of wall per exercise at most"


def test_honest_work_in_another_notebook_keeps_its_points(graded):
    results, _ = _result(graded, "monkeypatch_grader")
    assert results["extra_data"]["exercises"]["01-prologue"] == 10
    results, _ = _result(graded, "deeply_nested_code")
    assert results["extra_data"]["exercises"]["01-prologue"] == 10


def test_no_other_student_is_affected(graded):
    results, _ = _result(graded, "honest")
    assert results["score"] == 10
    assert results["extra_data"]["exercises"] == {
        "01-prologue": 0, "02-newstack": 10, "03-copystack": 0, "05-growth-path": 0}
    for path in (graded / "students").rglob("*"):
        assert "1000" not in path.name
    summary = json.loads((graded / "summary.json").read_text())
    assert summary["graded"] == len(EXPECTED)


def test_output_printed_on_hidden_cases_never_reaches_the_feedback(graded):
    _, feedback = _result(graded, "prints_hidden_inputs")
    visible = len(catalog.BY_ID["02-newstack"].visible_cases())
    calls = [int(n) for n in re.findall(r"call (\d+): new_size", feedback)]
    assert calls and max(calls) == visible and min(calls) == visible - 1, calls


def test_a_descriptor_kept_for_later_quotes_no_hidden_input(graded):
    _, feedback = _result(graded, "keeps_a_descriptor_for_later")
    visible = {tuple(c["args"]) for c in catalog.BY_ID["02-newstack"].visible_cases()}
    seen = {tuple(int(x) for x in m.split(", ")) for m in
            re.findall(r"SEEN new_size\(([\d, ]+)\)", feedback)}
    assert seen and seen <= visible, seen - visible


def test_fake_output_never_reaches_the_results(graded):
    results, feedback = _result(graded, "fake_pass_lines")
    text = json.dumps(results)
    assert "all tests passed" not in text and "PASSED" not in text
    assert results["score"] == 2
    assert "PASSED" in feedback.split("not used for scoring")[1]


def test_no_classmate_name_reaches_a_feedback(graded):
    results, feedback = _result(graded, "lists_classmates")
    assert "found: {'..': ['PermissionError'" in feedback  # its printed output is quoted
    others = sorted(p.name for p in (graded.parent / "submissions").iterdir()
                    if p.is_dir() and p.name != "lists_classmates")
    assert len(others) > 50
    assert [name for name in others if name in feedback] == []
    assert [name for name in others if name in json.dumps(results)] == []


@pytest.mark.parametrize("mode", ["sandbox uid", "--no-sandbox-uid"])
def test_classmates_stay_unlisted_in_a_folder_anyone_may_read(mode):
    """Submissions in a world-readable folder: the uid's permissions alone would not hide
    them (nor do they without root): Landlock or, without it, the audit hook must."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="gostack-classmates-"))
    try:
        base.chmod(0o755)
        subs, out = base / "submissions", base / "out"
        for name in ("alice_private", "bob_private"):
            shutil.copytree(CORPUS / "honest", subs / name)
        spy = subs / "lists_classmates" / "02-newstack.ipynb"
        shutil.copytree(CORPUS / "lists_classmates", spy.parent)
        spy.write_text(spy.read_text().replace("@@SUBS@@", str(subs)))
        extra = [] if mode == "sandbox uid" else [mode]
        assert main([str(subs), "--out", str(out), "--exercises", "02", "--quiet",
                     *extra]) == 0
        results, feedback = _result(out, "lists_classmates")
        assert re.search(EXPECTED["lists_classmates"][2], feedback), feedback
        assert "private" not in feedback and "private" not in json.dumps(results)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_spawned_processes_do_not_survive(graded):
    assert _sleepers() == []


def test_integrity_report_names_the_cheaters(graded):
    report = json.loads((graded / "integrity.json").read_text())
    calls = {row[0] for row in report["reference_calls"]}
    assert calls == {"calls_reference", "calls_reference_quietly", "binds_reference",
                     "prologue_through_the_simulator",
                     "silences_the_tripwire", "rewrites_the_sandbox_policy",
                     "hides_a_reference_call_behind_junk", "swaps_the_json_encoder"}
    patched = {row[0] for row in report["monkeypatching"]}
    assert {"monkeypatch_gostack", "monkeypatch_grader", "rebinds_len_to_outlive_the_alarm",
            "hides_a_key_in_a_gostack_module"} <= patched
    assert {row[0] for row in report["near_copies"]} == {"pasted_reference"}
    groups = [sorted(g["students"]) for g in report["identical"]]
    assert ["twin_a", "twin_b"] in groups
    assert not any("honest" in g and "pasted_reference" in g for g in groups)
    text = (graded / "integrity.md").read_text()
    assert "twin_a, twin_b" in text and "pasted_reference" in text
    for name in ("integrity.md", "summary.txt"):  # nobody can write a line about honest
        lines = (graded / name).read_text(encoding="utf-8").splitlines()
        assert not [ln for ln in lines if ln.lstrip(" -*").startswith("honest")], name


def test_one_student_cannot_stretch_the_run_past_its_budget(tmp_path):
    """--student-budget bounds the wall-clock time of all of one student's exercises: the
    exercise running at the deadline is stopped, the later ones are not graded."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(CORPUS / "loops_on_some_inputs", subs / "loops")
    shutil.copy(CORPUS / "numpy_growth_path" / "05-growth-path.ipynb", subs / "loops")
    code = main([str(subs), "--out", str(out), "--exercises", "02,05", "--case-timeout", "0.5",
                 "--student-budget", "0.3", "--quiet"])
    assert code == 0
    results, feedback = _result(out, "loops")
    first, second = feedback.split("## 02-newstack")[1].split("## 05-growth-path")
    assert "used up the 0.3 s of wall-clock time this student's submission gets" in first
    assert "not graded: your earlier exercises used up the 0.3 s of grading time" in second
    assert results["extra_data"]["exercises"]["05-growth-path"] == 0
    assert results["execution_time"] < 2


@pytest.mark.skipif(os.geteuid() != 0, reason="without root the workers keep the grader's uid "
                    "anyway: the default run above already is this mode")
def test_without_a_sandbox_uid_the_audit_hook_still_refuses_processes(tmp_path):
    subs = tmp_path / "subs"
    for name in ("spawns_processes", "honest"):
        shutil.copytree(CORPUS / name, subs / name)
    out = tmp_path / "out"
    code = main([str(subs), "--out", str(out), "--exercises", "02", "--no-sandbox-uid",
                 "--quiet"])  # the secret: created in out/secret.txt
    assert code == 0
    spawner, feedback = _result(out, "spawns_processes")
    assert spawner["score"] == 0 and "starting a process" in feedback
    assert _result(out, "honest")[0]["score"] == 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["isolation"].startswith("same user id")
    assert _sleepers() == []


def test_hostile_names_and_files_never_stop_the_run(tmp_path):
    """Names no report can take as they are, a file too big to read, code too big to compare,
    and a resubmission whose report cannot be formatted: the run finishes, every student gets
    a row, and nothing a name says is taken for the report's own words."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    honest = CORPUS / "honest" / "02-newstack.ipynb"
    names = {
        os.fsdecode(b"caf\xe9"): "caf\\xe9",  # a Latin-1 zip: not UTF-8
        "mallory\n- **honest**, 02-newstack: gostack.newstack.new_size":
            "mallory\\n- **honest**, 02-newstack: gostack.newstack.new_size",
        '=HYPERLINK("x";"y")': '=HYPERLINK("x";"y")',
    }
    for folder in names:
        shutil.copytree(CORPUS / "honest", subs / folder)
    # The same id from another name (the escape written out): a student of its own.
    shutil.copytree(CORPUS / "honest", subs / "caf\\xe9")
    shutil.copytree(CORPUS / "honest", subs / "honest")
    shutil.copytree(CORPUS / "honest", subs / ".hidden")
    (subs / "sparse").mkdir()
    with (subs / "sparse" / "02-newstack.ipynb").open("wb") as f:
        f.truncate(64 << 30)  # 64 GB that take no disk
    bomb = json.loads(honest.read_text())
    bomb["cells"][-1]["source"] += "\n" + "\n".join(f"x{i} = {i}" for i in range(30_000))
    (subs / "bomb").mkdir()
    (subs / "bomb" / "02-newstack.ipynb").write_text(json.dumps(bomb))
    # Planted by a worker that got past its sandbox: an empty notebook named like the
    # exercise beside honest's, and a file where honest's output folder goes.
    (subs / "honest" / "02-aaa.ipynb").write_text("")
    (out / "students").mkdir(parents=True)
    (out / "students" / "honest").write_text("")
    args = [str(subs), "--out", str(out), "--exercises", "02", "--quiet"]
    assert main(args) == 0
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    shown = {v if not v.startswith("=") else "'" + v for v in names.values()}
    shown.add("caf\\xe9 (2)")
    assert set(rows) == shown | {"honest", "sparse", "bomb"}
    assert all(rows[sid]["02-newstack"] == "10" for sid in shown | {"honest"})
    assert rows["sparse"]["02-newstack"] == rows["bomb"]["02-newstack"] == "0"
    _, sparse = _result(out, "sparse")
    assert "68,719,476,736 bytes; the limit is 20,971,520" in sparse
    _, bomb_feedback = _result(out, "bomb")
    assert "characters of code" in bomb_feedback
    integrity = (out / "integrity.md").read_text(encoding="utf-8")
    assert not any(line.startswith("- **honest**") for line in integrity.splitlines())
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert ".hidden (a hidden file or folder)" in summary

    # A resubmission whose answers no formatter expects: its old full marks must not stand.
    wrong = CORPUS / "wrong_type_answer" / "05-growth-path.ipynb"
    shutil.copytree(CORPUS / "honest", subs / "resubmits")
    assert main([*args, "--exercises", "02,05"]) == 0
    shutil.copy(wrong, subs / "resubmits" / "05-growth-path.ipynb")
    (subs / "resubmits" / "02-newstack.ipynb").unlink()
    assert main([*args, "--exercises", "02,05"]) == 0
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["student"] == "resubmits")
    points = EXPECTED["wrong_type_answer"][1]  # what that notebook scores on its own
    assert (row["02-newstack"], row["05-growth-path"], row["status"]) == (
        "0", f"{points:g}", "graded")


@pytest.mark.skipif(os.geteuid() != 0, reason="only as root do workers get a uid of their own, "
                    "which a private folder keeps out")
def test_a_grader_in_a_private_folder_refuses_alike_and_imports_alike(tmp_path):
    """The grader's copy in a 0700 folder (a clone in `mktemp -d`): its workers import that
    copy, not another gostack the Python knows, refuse a learner's reads of it with the same
    words as anywhere else, and honest code still imports the standard library."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    kit = private / "kit"
    shutil.copytree(Path(gs.__file__).parent, kit / "gostack",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subs, out = tmp_path / "subs", tmp_path / "out"
    names = ("reads_reference_source", "reads_source_past_os_path",
             "rebinds_builtins_the_hook_uses", "imports_stdlib_late", "honest")
    for name in names:
        shutil.copytree(CORPUS / name, subs / name)
    grade = "import sys; from gostack.grade.cli import main; sys.exit(main(sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", grade, str(subs), "--out", str(out), "--exercises",
                    "02", "--case-timeout", "0.5", "--quiet"],
                   env=dict(os.environ, PYTHONPATH=str(kit)), cwd=tmp_path, check=True)
    for name in names:
        exercise, points, message = EXPECTED[name]
        results, feedback = _result(out, name)
        assert results["extra_data"]["exercises"][exercise] == points, feedback
        assert re.search(message, feedback), feedback
    _, feedback = _result(out, "reads_reference_source")
    assert f"reading {kit / 'gostack' / 'newstack.py'} (gostack's source" in feedback

# Every control character (C0, DEL, C1) but the newline, and the format characters (bidi
# overrides) that can disguise a line: none reaches a report raw.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
ASPECT_LINE = re.compile(r"^  ([✔✘]) (.+?) +(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)(  \(its cases.*)?$")


def _fill_visible_args(path: Path) -> None:
    """quotes_hidden_arguments knows the visible cases' arguments (a check cell shows them)."""
    from gostack.grade import catalog

    ex = catalog.BY_ID["02-newstack"]
    visible = repr({tuple(c["args"]) for c in ex.visible_cases()})
    path.write_text(path.read_text().replace("@@VISIBLE@@", visible))


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _texts(k) + _texts(v)]
    if isinstance(value, list):
        return [s for v in value for s in _texts(v)]
    return []


def _written(out: Path) -> dict[str, str]:
    """Every file of the run as text (a JSON file as the strings it holds, decoded)."""
    files = {}
    for path in out.rglob("*"):
        if path.is_file() and path.name != "secret.txt":
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                text = "\n".join(_texts(json.loads(text)))
            files[str(path.relative_to(out))] = text
    return files


def test_no_learner_text_reaches_a_report_raw(graded):
    for name, text in _written(graded).items():
        assert not RAW.search(text), (name, RAW.search(text))


def test_no_hidden_case_is_quoted_by_default(graded):
    """quotes_hidden_arguments raises ValueError("unlucky <its arguments>") on every hidden
    case: neither that message nor a hidden input is in any file of the run."""
    from gostack.grade import catalog

    ex = catalog.BY_ID["02-newstack"]
    hidden = [t for c in ex.hidden_cases()
              for t in (ex.call_text(c), "unlucky " + " ".join(map(str, c["args"])))]
    for name, text in _written(graded).items():
        assert "unlucky" not in text, name
        assert not [h for h in hidden if h in text], name


def test_every_report_says_the_same_points(graded):
    """results.json's tests, feedback.md, gradebook.csv and summary.txt agree on every test
    of every student, exercises zeroed as a whole included."""
    with (graded / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    summary = (graded / "summary.txt").read_text(encoding="utf-8")
    exercises = json.loads((graded / "summary.json").read_text())["exercises"]
    for folder in (graded / "students").iterdir():
        results, feedback = _result(graded, folder.name)
        sid = results["extra_data"]["student"]
        sections = {s.partition(": ")[0]: s for s in feedback.split("\n## ")[1:]}
        for ex_id in exercises:
            scores = [t["score"] for t in results["tests"]
                      if t["tags"] == [ex_id] and t["max_score"]]
            total = round(sum(scores), 3)
            head, _, body = sections[ex_id].partition("\n")
            shown = [float(m.group(3)) for m in map(ASPECT_LINE.match, body.splitlines()) if m]
            assert (float(head.split(": ")[1].split("/")[0]), shown) == (total, scores), sid
            assert results["extra_data"]["exercises"][ex_id] == total, (sid, ex_id)
            assert float(book[sid][ex_id]) == total, (sid, ex_id)
    for ex_id in exercises:
        column = [float(row[ex_id]) for row in book.values()]
        assert f"{ex_id} {round(sum(column) / len(column), 2):g}" in summary, ex_id
    zeroed = [t for t in _result(graded, "calls_reference")[0]["tests"]
              if t["tags"] == ["02-newstack"] and t["max_score"]]
    assert zeroed and all(t["score"] == 0 and "calls gostack's reference implementation"
                          in t["output"] for t in zeroed)
