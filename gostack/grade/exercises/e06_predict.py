"""Exercise 06 · predict the trace (lesson 04)."""

from __future__ import annotations

from collections.abc import Callable

from ...problems import Problem
from ..spec import (
    Aspect,
    BadResult,
    Exercise,
    as_int,
    as_list,
    fmt,
    same,
)
from ._problems import problem_call, problem_cases


def _predict_run(fns: dict[str, Callable], case: dict) -> list:
    got = fns["predict"](Problem.from_dict(case["args"]))
    pairs = []
    for item in as_list(got, "predict's result"):
        pair = as_list(item, "each item of predict's result")
        if len(pair) != 2:
            raise BadResult("each item must be a pair (call_index, new_size)")
        pairs.append([as_int(pair[0], "a call index"), as_int(pair[1], "a new size")])
    return pairs


def _growth(p: list | None) -> str:
    return "(no more growths)" if p is None else f"call {p[0]} grows to {p[1]:,} bytes"


def _pairs_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (f"expected: {fmt(expected)}\ngot:      {fmt(got)}\n"
                    f"first difference, growth {i + 1}: expected {_growth(a)}, "
                    f"got {_growth(b)}")
    return "the same"


EXERCISE = Exercise(
    id="06-predict-the-trace",
    title="Predict the trace",
    lesson="04-newstack",
    functions=(("predict", ("problem",)),),
    reference={"predict": "gostack.problems.Problem.answer"},
    aspects=(
        Aspect("recursion", "one function calling itself", 3, same, _pairs_diff),
        Aspect("mixed", "several functions, and returns in between", 3, same, _pairs_diff),
        Aspect("huge", "huge frames: more than one doubling in one growth", 2, same,
               _pairs_diff),
        Aspect("entry", "a big entry frame: growth at call 0", 2, same, _pairs_diff),
    ),
    _cases=problem_cases("predict", {"recursion": 2, "mixed": 2, "huge": 2, "entry": 2}),
    _run=_predict_run,
    call_text=problem_call,
    visible_seed=109,
    extra_tripwires=(
        "gostack.problems.Problem.run",
        "gostack.runtime.Runtime.go",
        "gostack.runtime.Goroutine.call",
    ),
)
