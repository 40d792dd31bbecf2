"""Exercise 05 · the whole growth path: the learner's five stages in the simulator (lesson 07)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...problems import Problem
from ...runtime import Stages
from ...trace import GC, Grow, Overflow, Shrink
from ..spec import (
    Aspect,
    Exercise,
    fmt,
)
from ._problems import problem_call, problem_cases

_WHOLE_PROBLEMS = {"grow": 2, "huge": 1, "shrink": 2, "overflow": 1}


def _event(e: Any) -> list:
    adjusted = sorted([a.func, a.local, a.addr, a.old, a.new] for a in getattr(e, "adjusted", ()))
    if isinstance(e, Grow):
        return ["grow", e.call_index, e.old_size, e.new_size, e.used, e.delta,
                e.old_lo, e.old_hi, e.new_lo, e.new_hi, adjusted]
    if isinstance(e, Shrink):
        return ["shrink", e.gc, e.old_size, e.new_size, e.used, e.delta,
                e.old_lo, e.old_hi, e.new_lo, e.new_hi, adjusted]
    if isinstance(e, GC):
        return ["gc", e.gc, e.used, e.size, e.call_index]
    if isinstance(e, Overflow):
        return ["overflow", e.call_index, e.old_size, e.used, e.limit]
    raise TypeError(e)


_STAGE_OF = {"morestack_needed": "prologue", "new_size": "newsize", "copystack": "copystack",
             "adjustframe": "adjustframe", "shrink_size": "shrink"}


def _whole_run(fns: dict[str, Callable], case: dict) -> dict:
    # Each stage is called through a counter: how often the runtime called it is part of
    # the output, so a run that skipped a stage (the simulator has an inline reference
    # prologue, for speed) cannot pass for one that used it.
    counts = dict.fromkeys(_STAGE_OF.values(), 0)

    def counted(stage: str, fn: Callable) -> Callable:
        def call(*args):
            counts[stage] += 1
            return fn(*args)
        return call

    stages = Stages(**{stage: counted(stage, fns[name]) for name, stage in _STAGE_OF.items()})
    run = Problem.from_dict(case["args"]).run(stages)
    if run.error and run.error.startswith("NotImplementedError"):
        raise NotImplementedError(run.error)
    return {"events": [_event(e) for e in run.events],
            "checks": [[[c.frame, c.p, c.u] for c in cs] for cs in run.checks],
            "error": run.error, "calls": counts}


# Every aspect also compares how often the runtime called the prologue and newstack
# stages: the simulator has an inline copy of the reference prologue (its fast path), and a
# run that slipped onto it would otherwise pass for one that used the learner's check.
_ALWAYS_COUNTED = ("prologue", "newsize")


def _events_of(kinds: set[str], fields: slice | None = None, stages: tuple[str, ...] = ()):
    def project(case: dict, out: dict) -> list:
        ev = [e if fields is None else e[:1] + e[fields] for e in out["events"] if e[0] in kinds]
        ev += [["calls", s, out["calls"][s]] for s in (*_ALWAYS_COUNTED, *stages)]
        return ([["error", out["error"]]] if out.get("error") else []) + ev  # errors first
    return project


def _show_event(e: list | None) -> str:
    """One serialised event (or a projection of one: a prefix of its fields) as text."""
    if e is None:
        return "(nothing)"
    kind, f = e[0], e[1:]
    if kind == "error":
        return f"the run stopped: {f[0]}"
    if kind == "grow":
        text = f"grow at call {f[0]}"
        if len(f) >= 3:
            text += f": {f[1]:,} -> {f[2]:,} bytes"
        if len(f) >= 5:
            text += f", used {f[3]:,}, delta {f[4]:+#x}"
        return text
    if kind == "shrink" and len(f) >= 4:
        return f"shrink at GC {f[0]}: {f[1]:,} -> {f[2]:,} bytes (used {f[3]:,})"
    if kind == "gc" and len(f) >= 3:
        return f"GC {f[0]} scanned a {f[2]:,}-byte stack with {f[1]:,} bytes in use"
    if kind == "overflow":
        return f"stack overflow at call {f[0]}" + (f" (limit {f[3]:,})" if len(f) >= 4 else "")
    if kind == "check" and len(f) >= 3:
        return f"frame {f[0]}: p = {f[1]:#x}, u = {f[2]:#x}"
    if kind == "calls":
        return f"the runtime called your {f[0]} stage {f[1]:,} times"
    return json.dumps(e)


def _first_difference(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (f"first difference at event {i + 1}:\n"
                    f"  expected: {_show_event(a)}\n  got:      {_show_event(b)}")
    return "the same events"


def _pointer_view(case: dict, out: dict) -> list:
    view = []
    for e in out["events"]:
        if e[0] in ("grow", "shrink"):
            view.append([e[0], e[1], e[-1]])
    for k, cs in enumerate(out["checks"]):
        view += [["check", c[0], c[1], c[2]] for c in cs] or [["check", k, 0, 0]]
    view += [["calls", s, out["calls"][s]] for s in (*_ALWAYS_COUNTED, "adjustframe")]
    return ([["error", out["error"]]] if out.get("error") else []) + view


def _pointer_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            if a and b and a[0] == b[0] and a[0] in ("grow", "shrink"):
                return (f"at the {a[0]} of call/GC {a[1]}, the adjusted slots differ:\n"
                        f"  expected {len(a[2])} records: {fmt(a[2][:3])}\n"
                        f"  got      {len(b[2])} records: {fmt(b[2][:3])}")
            return f"expected: {_show_event(a)}\ngot:      {_show_event(b)}"
    return "the same"


EXERCISE = Exercise(
    id="05-growth-path",
    title="The whole growth path",
    lesson="07-whole-newstack",
    functions=(
        ("morestack_needed", ("sp", "frame", "stackguard0")),
        ("new_size", ("old_size", "used", "frame", "max_stack")),
        ("copystack", ("old", "new", "used")),
        ("adjustframe", ("words", "frame", "adj")),
        ("shrink_size", ("size", "used")),
    ),
    reference={
        "morestack_needed": "gostack.prologue.morestack_needed",
        "new_size": "gostack.newstack.new_size",
        "copystack": "gostack.copystack.copystack",
        "adjustframe": "gostack.adjust.adjustframe",
        "shrink_size": "gostack.shrink.shrink_size",
    },
    aspects=(
        Aspect("grow", "grows at the same calls, to the same sizes", 3,
               _events_of({"grow", "overflow"}, slice(1, 2)), _first_difference),
        Aspect("copy", "moves the same bytes: used, delta and the new bounds", 2,
               _events_of({"grow"}, slice(1, 10), ("copystack",)), _first_difference),
        Aspect("pointers", "pointers follow every move; uintptrs do not", 2, _pointer_view,
               _pointer_diff),
        Aspect("shrink", "shrinks at the same GCs, to the same sizes", 2,
               _events_of({"grow", "shrink", "gc"}, slice(1, 6), ("shrink", "copystack")),
               _first_difference),
        Aspect("overflow", "stops with a stack overflow at the same call", 1,
               _events_of({"grow", "overflow"}, slice(1, 5)), _first_difference),
    ),
    _cases=problem_cases("whole", _WHOLE_PROBLEMS),
    _run=_whole_run,
    call_text=problem_call,
    visible_seed=107,
)
