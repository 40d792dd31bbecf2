"""Shared fixtures for the simulator tests.

The tests directory is put on sys.path so test modules can import ``mutants``
(the deliberate mutants and the checks shared with test_mutants.py) under any
pytest import mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import gostack as gs

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# Frame sizes measured from `go build -gcflags=-S` (facts sheet section 10).
WORKER_FRAME = 56  # main.worker, $56-0
REC_A_FRAME = 168  # main.recA, $168-24
REC_BIG_FRAME = 10280  # main.recBig, $10280-24


@pytest.fixture
def rt() -> gs.Runtime:
    """A fresh runtime with the reference stages and the default 1e9 limit."""
    return gs.Runtime()


@pytest.fixture
def worker() -> gs.Func:
    """The probe's entry function: frame 56, no locals."""
    return gs.Func("main.worker", frame=WORKER_FRAME)


@pytest.fixture
def rec_a() -> gs.Func:
    return gs.Func("main.recA", frame=REC_A_FRAME)


@pytest.fixture
def rec_big() -> gs.Func:
    return gs.Func("main.recBig", frame=REC_BIG_FRAME)
