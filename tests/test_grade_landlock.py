"""Landlock, the kernel's wall around a worker: what a process started the way the grader
starts its workers can still see, with no audit hook at all (so nothing learner code could
get past in the hook would help it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import gostack
from gostack.grade import sandbox
from gostack.grade.worker import _read_roots

needs_landlock = pytest.mark.skipif(
    sandbox.landlock_abi() == 0,
    reason="this kernel has no Landlock (or a seccomp filter refuses it): workers fall back "
           "to the audit hook and, as root, the sandbox uid")

PROBE = """
import json, os, sys, unicodedata
def attempt(f):
    try:
        return f()
    except OSError as e:
        return type(e).__name__
classmates, scratch = sys.argv[1], sys.argv[2]
print(json.dumps({
    "list classmates": attempt(lambda: os.listdir(classmates)),
    "scan classmates": attempt(lambda: [e.name for e in os.scandir(classmates)]),
    "read a classmate": attempt(lambda: open(classmates + "/alice/02.ipynb").read()),
    "list above": attempt(lambda: os.listdir(classmates + "/..")),
    "list scratch": attempt(lambda: os.listdir(scratch)),
    "write scratch": attempt(lambda: open(scratch + "/f", "w").write("x")),
    "write beside": attempt(lambda: open(classmates + "/planted", "w").write("x")),
    "read stdlib": attempt(lambda: len(open(os.__file__).read()) > 0),
    "native import": unicodedata.name("x"),
}))
"""


@needs_landlock
def test_a_restricted_process_sees_only_its_scratch_and_the_installation(tmp_path):
    classmates, scratch = tmp_path / "submissions", tmp_path / "scratch"
    (classmates / "alice").mkdir(parents=True)
    (classmates / "alice" / "02.ipynb").write_text("{}")
    scratch.mkdir()
    out = subprocess.run([*sandbox.landlock_prefix(str(scratch)), sys.executable, "-I", "-c",
                          PROBE, str(classmates), str(scratch)],
                         capture_output=True, text=True, check=True, cwd=scratch).stdout
    assert json.loads(out) == {
        "list classmates": "PermissionError", "scan classmates": "PermissionError",
        "read a classmate": "PermissionError", "list above": "PermissionError",
        "list scratch": [], "write scratch": 1, "write beside": "PermissionError",
        "read stdlib": True, "native import": "LATIN SMALL LETTER X"}
    assert not (classmates / "planted").exists()


@needs_landlock
def test_the_launcher_fails_closed(tmp_path):
    """A restriction the kernel refuses never becomes a worker without one."""
    bad = sandbox.landlock_prefix(str(tmp_path))
    spec = json.loads(bad[3])
    spec["exec"] = []  # the interpreter may no longer be run: exec fails, nothing runs open
    bad[3] = json.dumps(spec)
    run = subprocess.run([*bad, sys.executable, "-I", "-c", "print('ran')"],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "ran" not in run.stdout


def test_without_landlock_the_workers_start_as_before(monkeypatch):
    monkeypatch.setattr(sandbox, "_LANDLOCK_ABI", [0])
    assert sandbox.landlock_prefix("/anywhere") == []


def test_gostack_package_is_readable_its_parent_is_not_listed():
    """The worker imports gostack by its files: the folder holding the package (a course
    repository, maybe the submissions too) is never among the readable roots."""
    if not sandbox.landlock_abi():
        pytest.skip("no Landlock on this kernel")
    spec = json.loads(sandbox.landlock_prefix("/scratch")[3])
    package = str(Path(gostack.__file__).resolve().parent)
    assert package in spec["read"]
    parent = str(Path(package).parent)
    assert parent not in spec["write"] + spec["exec"]
    assert parent not in spec["read"] or parent in _read_roots()  # gostack in site-packages
