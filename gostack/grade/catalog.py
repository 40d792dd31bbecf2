"""The exercises, found by name: every module ``gostack/grade/exercises/eNN_slug.py``.

One catalogue serves three places:

* the learner's check cells (:mod:`gostack.exercises`), in the learner's own kernel, on the
  visible cases;
* the grader's worker, which only *calls* the learner's functions on cases it is given and
  turns what they return into plain JSON data (:meth:`Exercise.run`);
* the grader, which takes the same cases for every student (visible and hidden ones, from
  seeds fixed per exercise), computes the expected outputs with gostack's reference stages
  through the same :meth:`Exercise.run`, and compares them aspect by aspect (:func:`judge`).

Adding an exercise is adding one module there (and its notebook in ``solutions/``): no list
elsewhere names it, and no total is written down anywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from typing import Any

from . import exercises as _package
from .spec import (  # noqa: F401 - the catalogue's vocabulary, for its users
    REFERENCE_STAGES,
    Aspect,
    AspectResult,
    BadResult,
    Exercise,
    Failure,
    Right,
    Wrong,
    explain,
    judge,
    outcome_error,
    resolve,
)


def _discover() -> tuple[Exercise, ...]:
    found = []
    for info in pkgutil.iter_modules(_package.__path__):
        if not info.name.startswith("e") or not info.name[1:3].isdigit():
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        ex = getattr(module, "EXERCISE", None)
        if not isinstance(ex, Exercise):
            raise TypeError(f"{module.__name__} defines no EXERCISE")
        if f"e{ex.id[:2]}_" != info.name[:4]:
            raise ValueError(f"{module.__name__} defines exercise {ex.id}: name them alike")
        found.append(ex)
    found.sort(key=lambda e: e.id)
    ids = [e.id[:2] for e in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two exercises share a number: {ids}")
    return tuple(found)


EXERCISES: tuple[Exercise, ...] = _discover()
BY_ID = {e.id: e for e in EXERCISES}


def find(key: str) -> Exercise:
    """An exercise by id ("02-newstack"), number ("2", "02") or slug ("newstack")."""
    key = key.strip()
    for e in EXERCISES:
        if key in (e.id, e.id[:2], e.id[3:]) or (key.isdigit() and int(key) == e.number):
            return e
    raise KeyError(f"no exercise {key!r} (known: {', '.join(BY_ID)})")


def reference_outputs(ex: Exercise, cases: Sequence[dict]) -> list[Any]:
    """The expected output of each case: the reference stages through the same run()."""
    fns = ex.reference_functions()
    return [ex.run(fns, c) for c in cases]
