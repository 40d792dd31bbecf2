"""Helpers for the part-2 lesson tests: what they read their expected values from, directly
(the recordings in gostack/data, a lesson's prose, go1.27.3's source), never through the
code under test."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path

import nbformat
import pytest

from gostack import realgo


def recording(name: str) -> dict:
    return json.loads(files("gostack").joinpath(f"data/{name}").read_text())


def recorded_runs(name: str, config: str) -> list[dict]:
    return recording(name)["configs"][config]["runs"]


def created(run: dict) -> int:
    """Threads created after main.main started: the threadcreate profile at the end minus
    at main's start (statprobe's and netprobe's GO_SOURCE read both)."""
    return run["threadcreate"] - run["threads_start"]


def prose(notebook: Path) -> str:
    """A lesson's markdown cells, joined."""
    nb = nbformat.read(notebook, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def goroot() -> Path:
    """The toolchain's GOROOT; the test is skipped where there is no Go."""
    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    return Path(a.goroot or subprocess.run([a.go, "env", "GOROOT"], capture_output=True,
                                           text=True, check=True).stdout.strip())


def runtime_source(file: str) -> str:
    return (goroot() / "src" / "runtime" / file).read_text()


def func(src: str, name: str) -> str:
    """The Go function ``name`` of ``src``, up to its closing brace."""
    start = src.index(f"\nfunc {name}(")
    return src[start:src.index("\n}\n", start)]


def check_held(rows: Mapping, held: Mapping[str, tuple[str, Callable[[dict], bool], int]],
               runs: Callable[[str], list[dict]], miss: str, real_runs: int = 20) -> None:
    """Each printed claim row (``rows[name]``: a stats.ClaimRow) says its claim held in as
    many real runs as ``held`` counts here: (configuration, holds(run), times). The model
    agrees within stats' tolerance of 0.2, except on ``miss``: a known miss, reported and
    said to be one."""
    for name, (config, holds, times) in held.items():
        assert sum(map(holds, runs(config))) == times, name
        row = rows[name]
        assert (row.real, row.real_runs) == (times, real_runs), name
        assert f"real {times:>2}/{real_runs}" in row.line()
        if name == miss:
            assert row.leaves_out and "known miss" in row.line()
        else:
            assert not row.leaves_out, name
            assert abs(row.model / row.model_runs - times / real_runs) <= 0.2, name
