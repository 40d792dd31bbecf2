"""The command line: readable tables, one-line errors, the runtime's exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gostack.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gostack", *args], capture_output=True,
                          text=True, timeout=60)


def test_trace_prints_the_measured_growth_calls():
    out = run("trace", "--frame", "168", "--calls", "400")
    assert out.returncode == 0, out.stderr
    calls = [int(line.split()[0]) for line in out.stdout.splitlines()
             if line.strip() and line.split()[0].isdigit()]
    # go1.27.3, facts sheet experiment (a): recA $168 from worker $56.
    assert calls == [7, 19, 42, 88, 182, 368]
    assert "131,072 bytes" in out.stdout


def test_trace_overflow_exits_2_with_the_runtime_message(capsys):
    assert main(["trace", "--frame", "168", "--calls", "400", "--max-stack", "32768"]) == 2
    text = capsys.readouterr().out
    assert "call 182: runtime: goroutine stack exceeds 32768-byte limit" in text
    assert "fatal error: stack overflow" in text


def test_trace_gc_shows_one_halving_per_gc(capsys):
    assert main(["trace", "--frame", "168", "--calls", "400", "--gc", "8"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if "(shrink)" in line]
    # experiment (d): 128 KiB halves to 4 KiB, one step per runtime.GC(), then stops.
    assert [r[4] for r in rows] == ["65,536", "32,768", "16,384", "8,192", "4,096"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["trace", "--frame", "170", "--calls", "3"], "multiple of 8 bytes, got 170"),
        (["trace", "--frame", "-8", "--calls", "3"], "frame must be >= 0, got -8"),
        (["trace", "--frame", "x", "--calls", "3"], "not a whole number of bytes: 'x'"),
        (["trace", "--calls", "3"], "required: --frame"),
        (["trace", "--frame", "8", "--calls", "-1"], "must be >= 0, got -1"),
        (["trace", "--frame", "8", "--calls", "1", "--max-stack", str(1 << 63)],
         "max_stack must be"),
        (["bogus"], "invalid choice: 'bogus'"),
    ],
)
def test_bad_arguments_give_one_clear_line(args, needle):
    out = run(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert needle in lines[0]


def test_help_explains_every_option():
    out = run("trace", "--help")
    assert out.returncode == 0
    for option in ("--frame", "--calls", "--entry-frame", "--max-stack", "--func", "--gc"):
        assert option in out.stdout
    assert "$framesize" in out.stdout


def test_console_script_is_declared():
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["gostack"] == "gostack.cli:main"


def test_grade_help_names_the_layouts_the_roster_columns_and_the_copy_rule():
    out = run("grade", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())  # argparse wraps lines
    for option in ("--layout {auto,folders,canvas,moodle,gradescope}", "--roster-id-column",
                   "--roster-name-column", "--roster-email-column", "--allow-unmatched",
                   "--templates", "--overrides", "--due", "--grace", "--late-penalty",
                   "--late-cap", "--export {canvas,moodle,csv}", "--export-name",
                   "--discard-gradebook-edits"):
        assert option in text, option
    assert "one whose functions are written over one still the unsolved template" in text
    assert "1 when submissions and the roster do not match" in text
