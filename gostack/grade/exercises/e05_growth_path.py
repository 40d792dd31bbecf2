"""Exercise 05 · the whole growth path: the learner's five stages in the simulator (lesson 07).

Every case is a generated program (:mod:`gostack.problems`, kind "whole") run on a
:class:`gostack.Runtime` whose five stages are all the learner's. Each rule (aspect) belongs to
one stage and looks only at what that stage decides, so one wrong stage fails its own rule:

* ``prologue``: at which calls the stack grows (and that the runtime called the learner's
  prologue at all: the simulator has an inline reference prologue, its fast path, and a run
  that slipped onto it would otherwise pass);
* ``newsize``: the sizes it grows to; ``overflow``: the call where the limit stops it;
* ``copy``: the delta copystack returns and the scalars it carries (every frame's ``x``);
* ``pointers``: what adjustframe does with the words it is given (a pointer into the old
  stack moves by the delta it is told, nothing else moves, and the records say so): checked
  against its own inputs, so a wrong copy upstream does not fail this rule as well;
* ``shrink``: at which GCs the stack shrinks, and to what size.

The programs come from seed pools vetted against the zoo (tests/test_exercise_05.py).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

from ... import problems as pb
from ...i18n import N_, _, language
from ...problems import Problem
from ...runtime import Stages
from ...symtab import POINTER
from ...trace import GC, Grow, Overflow, Shrink
from ..spec import (
    Aspect,
    BadResult,
    Exercise,
    Right,
    Wrong,
    as_int,
    as_str,
    draw,
    localize_lines,
    typename,
)
from ._problems import describe, pooled_cases, regenerate

# ---------------------------------------------------------------------------
# Running one program with the learner's stages
# ---------------------------------------------------------------------------


def _event(e: Any) -> list:
    adjusted = [[a.func, a.local, a.addr, a.old, a.new] for a in getattr(e, "adjusted", ())]
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
    counts = dict.fromkeys(_STAGE_OF.values(), 0)
    copies: list[list] = []  # [old_lo, old_hi, new_lo, new_hi, returned delta] per copy
    adjusts: list[list] = []  # what adjustframe did wrong to the words it was given

    def counted(stage: str, fn: Callable) -> Callable:
        # Each stage is called through a counter: how often the runtime called it is part
        # of the output, so a run that skipped a stage (the inline reference prologue)
        # cannot pass for one that used it.
        def call(*args):
            counts[stage] += 1
            return fn(*args)
        return call

    def copystack(old, new, used):
        counts["copystack"] += 1
        delta = fns["copystack"](old, new, used)
        try:
            seen = as_int(delta, "copystack's delta")
        except BadResult:
            seen = f"a {typename(delta)}"  # the runtime stops on it: the run's error says so
        copies.append([old.lo, old.hi, new.lo, new.hi, seen])
        return delta

    def adjustframe(words, frame, adj):
        counts["adjustframe"] += 1
        slots = [(lc, frame.sp + lc.offset) for lc in frame.func.locals]
        before = [words.get(addr, 0) for _, addr in slots]
        records = fns["adjustframe"](words, frame, adj)
        moved = []
        for (lc, addr), value in zip(slots, before, strict=True):
            # The contract, on this frame's own inputs: a pointer into [old_lo, old_hi)
            # moves by adj.delta; any other word (a uintptr, nil, a heap pointer) stays.
            into_old = lc.kind is POINTER and adj.old_lo <= value < adj.old_hi
            want = value + adj.delta if into_old else value
            got = words.get(addr, 0)
            if got != want:
                adjusts.append(["word", frame.func.name, lc.name, lc.kind.value, addr, value,
                                got, want, adj.old_lo, adj.old_hi, adj.delta])
            if into_old:
                moved.append([frame.func.name, lc.name, addr, value, want])
        said = sorted([r.func, r.local, r.addr, r.old, r.new] for r in records)
        if said != sorted(moved):
            adjusts.append(["records", frame.func.name, said, sorted(moved)])
        return records

    stages = Stages(prologue=counted("prologue", fns["morestack_needed"]),
                    newsize=counted("newsize", fns["new_size"]), copystack=copystack,
                    adjustframe=adjustframe, shrink=counted("shrink", fns["shrink_size"]))
    run = Problem.from_dict(case["args"]).run(stages)
    if run.error and run.error.startswith("NotImplementedError"):
        raise NotImplementedError(run.error)
    return {"events": [_event(e) for e in run.events],
            "checks": [[[c.frame, c.x, c.p, c.u] for c in cs] for cs in run.checks],
            "copies": copies, "adjusts": adjusts, "error": run.error, "calls": counts}


# ---------------------------------------------------------------------------
# What each rule looks at
# ---------------------------------------------------------------------------


def _error(out: dict) -> list:
    return [["error", out["error"]]] if out.get("error") else []


def _prologue_view(case: dict, out: dict) -> list:
    ev = [["grows at", e[1]] for e in out["events"] if e[0] in ("grow", "overflow")]
    return _error(out) + ev + [["calls", "prologue", out["calls"]["prologue"]]]


def _newsize_view(case: dict, out: dict) -> list:
    return _error(out) + [["size", e[2], e[3]] for e in out["events"] if e[0] == "grow"]


def _overflow_view(case: dict, out: dict) -> list:
    over = [["overflow", e[1], e[4]] for e in out["events"] if e[0] == "overflow"]
    return _error(out) + (over or [["no overflow"]])


def _copy_view(case: dict, out: dict) -> list:
    wrong = [["delta", *c] for c in out["copies"] if c[4] != c[3] - c[1]]
    xs = [["x", k, c[0], c[1]] for k, cs in enumerate(out["checks"]) for c in cs]
    return _error(out) + wrong[:1] + xs


def _pointer_view(case: dict, out: dict) -> list:
    return _error(out) + out["adjusts"][:1]


def _shrink_view(case: dict, out: dict) -> list:
    shrunk = {e[1]: e[3] for e in out["events"] if e[0] == "shrink"}
    view = [["gc", e[1], e[3], e[2], shrunk.pop(e[1], None)]
            for e in out["events"] if e[0] == "gc"]
    return _error(out) + view + [["shrink", gc, new] for gc, new in shrunk.items()]


def _show(e: list | None) -> str:
    """One item of a rule's view as words; addresses in hex."""
    if e is None:
        return _("(nothing more)")
    kind, f = e[0], e[1:]
    if kind == "error":
        return _("the run stopped: {error}").format(error=f[0])
    if kind == "grows at":
        return _("the stack grows at call {n}").format(n=f[0])
    if kind == "size":
        return _("a growth from {old:,} to {new:,} bytes").format(old=f[0], new=f[1])
    if kind == "overflow":
        return _("fatal error: stack overflow at call {n} (limit {limit:,} bytes)").format(
            n=f[0], limit=f[1])
    if kind == "no overflow":
        return _("no stack overflow: the program ran to its end")
    if kind == "calls":
        return _("the runtime called your {stage} stage {n:,} times").format(stage=f[0], n=f[1])
    if kind == "delta":
        old_lo, old_hi, new_lo, new_hi, delta = f
        return _("copystack from [{old_lo}, {old_hi}) to [{new_lo}, {new_hi}) returned delta "
                 "{delta}; new.hi - old.hi = {distance}").format(
            old_lo=f"{old_lo:#x}", old_hi=f"{old_hi:#x}", new_lo=f"{new_lo:#x}",
            new_hi=f"{new_hi:#x}", delta=_signed(delta), distance=_signed(new_hi - old_hi))
    if kind == "x":
        return _("at checkpoint {k}, frame {frame}'s x = {x:,}").format(k=f[0] + 1, frame=f[1],
                                                                       x=f[2])
    if kind == "gc":
        if f[3] is None:
            return _("GC {gc}: a {size:,}-byte stack with {used:,} bytes in use keeps its "
                     "size").format(gc=f[0], size=f[1], used=f[2])
        return _("GC {gc}: a {size:,}-byte stack with {used:,} bytes in use shrinks to "
                 "{new:,} bytes").format(gc=f[0], size=f[1], used=f[2], new=f[3])
    if kind == "shrink":
        return _("GC {gc} shrinks the stack to {new:,} bytes").format(gc=f[0], new=f[1])
    return json.dumps(e)


def _signed(v: object) -> str:
    return f"{v:+#x}" if type(v) is int else str(v) if isinstance(v, str) else repr(v)


def _hex(v: object) -> str:
    return f"{v:#x}" if type(v) is int else repr(v)


def _first_difference(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (_("first difference:") + "\n  " + _("expected:") + f" {_show(a)}\n  "
                    + _("got:") + ("      " if language() == "en" else " ") + _show(b))
    return _("the same")


def _copy_diff(expected: list, got: list) -> str:
    wrong = [g for g in got if g[0] == "delta"]
    if wrong and not any(e[0] == "delta" for e in expected):
        return (_("first wrong copy: {what}").format(what=_show(wrong[0])) + "\n  "
                + _("(adjustframe moves every pointer by the delta copystack returns)"))
    return _first_difference(expected, got)


def _pointer_diff(expected: list, got: list) -> str:
    if not got or got[0][0] == "error" or expected:
        return _first_difference(expected, got)
    w = got[0]
    if w[0] == "records":
        _tag, func, said, moved = w
        def recs(rs):
            one = _("{name} at {addr}: {old} -> {new}")
            return ", ".join(one.format(name=n, addr=_hex(a), old=_hex(o), new=_hex(v))
                             for _r, n, a, o, v in rs) or _("none")
        return _("first wrong frame: {func}: your adjustframe's records say it moved "
                 "[{said}]; it moved [{moved}]").format(func=func, said=recs(said),
                                                          moved=recs(moved))
    _tag, func, name, kind, addr, value, got_v, want, old_lo, old_hi, delta = w
    where = (_("{func}'s {name} ({kind}) at {addr} held {value}, into the old stack "
               "[{lo}, {hi}); delta {delta}") if old_lo <= value < old_hi
             else _("{func}'s {name} ({kind}) at {addr} held {value}, outside the old stack "
                    "[{lo}, {hi}); delta {delta}"))
    return (_("first wrong word: {where}").format(where=where.format(
                func=func, name=name, kind=kind, addr=_hex(addr), value=_hex(value),
                lo=_hex(old_lo), hi=_hex(old_hi), delta=_signed(delta))) + "\n  "
            + _("expected after adjustframe: {value}").format(value=_hex(want)) + "\n  "
            + (_("got:") + "                        " if language() == "en" else _("got:") + " ")
            + _hex(got_v))


def _repro(case: dict) -> str:
    return (f"{regenerate(case)}.run(gs.Stages(morestack_needed, new_size, copystack, "
            "adjustframe, shrink_size))")


# ---------------------------------------------------------------------------
# The diagnosis: which stage of a runtime with one wrong stage is broken
# ---------------------------------------------------------------------------

STAGES = pb.STAGE_NAMES  # "prologue", "newsize", "copystack", "adjustframe", "shrink"


def reference_broken_stage(reference: list[dict], observed: list[dict]) -> str:
    """The stage whose decision the traces first disagree on: when a growth happens
    (prologue), how big it is (newsize), where the bytes land (copystack: the delta, and
    the scalars x, which only the copy carries), which words move (adjustframe), whether a
    GC shrinks (shrink). Later differences follow from the first one."""
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        growths = ("grow", "overflow")
        if (want["event"] not in growths or got["event"] not in growths
                or want["call"] != got["call"]):
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
    xs_want = [(e["checkpoint"], e["frame"], e["x"]) for e in reference if e["event"] == "check"]
    xs_got = [(e["checkpoint"], e["frame"], e["x"]) for e in observed if e["event"] == "check"]
    return "copystack" if xs_want != xs_got else "adjustframe"


def _diagnosis_case(stage: str, seed: int, category: str, variant: str) -> dict:
    """Both traces as plain data, computed here (before the learner's code runs: the grader
    switches the reference stages off then): the learner's function only reads them."""
    reference, observed = pb.traces(*pb.suspect(seed, category, stage, variant))
    return {"tags": [f"blame-{stage}"],
            "args": {"diagnose": [seed, category, stage, variant],
                     "reference": reference, "observed": observed},
            "size": len(reference) + len(observed)}


def _diagnose_run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    try:
        said = fns["broken_stage"](copy.deepcopy(a["reference"]), copy.deepcopy(a["observed"]))
    except NotImplementedError:
        raise BadResult("broken_stage still raises NotImplementedError: write it to get "
                        "the diagnosis points") from None
    said = as_str(said, "broken_stage's answer")
    if said not in STAGES:
        raise BadResult(f"broken_stage returned {said!r}, not one of "
                        + ", ".join(f'"{s}"' for s in STAGES))
    return {"said": said}


def _run(fns: dict[str, Callable], case: dict) -> dict:
    if "diagnose" in case["args"]:
        return _diagnose_run(fns, case)
    return _whole_run(fns, case)


def _event_text(e: dict | None) -> str:
    """One event of a trace as pb.compare prints it (addresses and deltas in hex)."""
    if e is None:
        return "(nothing more)"
    k = e["event"]
    if k == "grow":
        return (f"call {e['call']} ({e['func']}): grow {e['old_size']:,} -> {e['new_size']:,} "
                f"bytes, used {e['used']:,}, delta {e['delta']:+#x}, {e['adjusted']} pointers "
                "adjusted")
    if k == "shrink":
        return (f"GC {e['gc']}: shrink {e['old_size']:,} -> {e['new_size']:,} bytes, used "
                f"{e['used']:,}, delta {e['delta']:+#x}, {e['adjusted']} pointers adjusted")
    if k == "gc":
        return f"GC {e['gc']}: scan a {e['size']:,}-byte stack, {e['used']:,} bytes in use"
    if k == "overflow":
        return f"call {e['call']} ({e['func']}): fatal error: stack overflow"
    if k == "check":
        return (f"checkpoint {e['checkpoint']}, frame {e['frame']}: x = {e['x']}, "
                f"p = {e['p']:#x}, u = {e['u']:#x}")
    return f"the run stopped: {e.get('message')}"


def _first_event_difference(case: dict) -> str:
    ref, obs = case["args"]["reference"], case["args"]["observed"]
    for i in range(max(len(ref), len(obs))):
        a = ref[i] if i < len(ref) else None
        b = obs[i] if i < len(obs) else None
        if a != b:
            return (f"the traces first differ at event {i} (counting from 0):\n"
                    f"  reference: {_event_text(a)}\n  observed:  {_event_text(b)}")
    return "the traces are the same"


def _diagnosis_view(case: dict, out: dict) -> list:
    return [out["said"], case["args"]["diagnose"][2], _first_event_difference(case)]


def _diagnosis_diff(expected: list, got: list) -> str:
    return localize_lines(f"expected: \"{expected[0]}\" (the broken stage)\n"
                          f"got:      \"{got[0]}\"\n{expected[2]}", _DIAGNOSIS_LINES)


#: The English the diagnosis lines are made of (for :func:`localize_lines`).
_DIAGNOSIS_LINES = (
    N_("\"{stage}\" (the broken stage)"),
    N_("the traces first differ at event {i} (counting from 0):"),
    N_("the traces are the same"),
    # The labels only: the events after them are the traces' own format, kept as they are.
    N_("  reference: {event}"),
    N_("  observed:  {event}"),
    N_("(nothing more)"),
)


def _diagnosis_text(case: dict) -> str:
    seed, cat, _stage, _variant = case["args"]["diagnose"]
    return _('broken_stage(reference, observed): the traces of {call} on the reference '
             'runtime and on one with a wrong stage').format(
        call=f'pb.generate({seed}, "whole", "{cat}")')


def _diagnosis_repro(case: dict) -> str:
    seed, cat, stage, variant = case["args"]["diagnose"]
    return f'broken_stage(*pb.traces(*pb.suspect({seed}, "{cat}", "{stage}", "{variant}")))'


def _call_text(case: dict) -> str:
    return _diagnosis_text(case) if "diagnose" in case["args"] else describe(case)


def _repro_any(case: dict) -> str:
    return _diagnosis_repro(case) if "diagnose" in case["args"] else _repro(case)


# ---------------------------------------------------------------------------
# The bug zoo: one stage broken at a time (the code runs after the solution's cells)
# ---------------------------------------------------------------------------

_ZOO = (
    Wrong("prologue-strict-less", ("prologue",), '''
def morestack_needed(sp, frame, stackguard0):
    if frame <= 128:
        return sp < stackguard0
    if frame > 4096 and sp < frame - 128:
        return True
    return (sp - (frame - 128)) % 2**64 < stackguard0
'''),
    Wrong("prologue-frame-not-frame-minus-128", ("prologue",), '''
def morestack_needed(sp, frame, stackguard0):
    if frame <= 128:
        return sp <= stackguard0
    if frame > 4096 and sp < frame:
        return True
    return (sp - frame) % 2**64 <= stackguard0
'''),
    Wrong("newsize-single-doubling", ("newsize",), '''
def new_size(old_size, used, frame, max_stack):
    size = old_size * 2
    if size > min(max_stack, 2_000_000_000):
        raise gs.StackOverflow(min(max_stack, 2_000_000_000), new_size=size)
    return size
'''),
    Wrong("newsize-forgets-the-guard", ("newsize",), '''
def new_size(old_size, used, frame, max_stack):
    size = old_size * 2
    while used + frame > size:
        size *= 2
    limit = min(max_stack, 2_000_000_000)
    if size > limit:
        raise gs.StackOverflow(limit, new_size=size)
    return size
'''),
    Wrong("newsize-limit-inclusive", ("overflow",), '''
def new_size(old_size, used, frame, max_stack):
    size = old_size * 2
    while used + frame + 928 > size:
        size *= 2
    limit = min(max_stack, 2_000_000_000)
    if size >= limit:
        raise gs.StackOverflow(limit, new_size=size)
    return size
'''),
    Wrong("newsize-ignores-max-stack", ("overflow",), '''
def new_size(old_size, used, frame, max_stack):
    size = old_size * 2
    while used + frame + 928 > size:
        size *= 2
    if size > 1_000_000_000:
        raise gs.StackOverflow(1_000_000_000, new_size=size)
    return size
'''),
    Wrong("copystack-delta-sign", ("copy",), '''
def copystack(old, new, used):
    delta = new.hi - old.hi
    for addr, value in old.words.items():
        if old.hi - used <= addr < old.hi:
            new.words[addr + delta] = value
    return -delta
'''),
    Wrong("copystack-delta-from-lo", ("copy",), '''
def copystack(old, new, used):
    delta = new.lo - old.lo
    for addr, value in old.words.items():
        if old.hi - used <= addr < old.hi:
            new.words[addr + delta] = value
    return delta
'''),
    Wrong("copystack-same-addresses", ("copy",), '''
def copystack(old, new, used):
    for addr, value in old.words.items():
        if old.hi - used <= addr < old.hi:
            new.words[addr] = value
    return new.hi - old.hi
'''),
    Wrong("adjust-uintptrs-too", ("pointers",), '''
def adjustframe(words, frame, adj):
    moved = []
    for slot in frame.func.locals:
        if slot.kind is gs.SCALAR:
            continue
        where = frame.sp + slot.offset
        value = words.get(where, 0)
        if adj.old_lo <= value < adj.old_hi:
            words[where] = value + adj.delta
            moved.append(gs.Adjusted(frame.func.name, slot.name, where, value,
                                     value + adj.delta))
    return moved
'''),
    Wrong("adjust-every-pointer", ("pointers",), '''
def adjustframe(words, frame, adj):
    moved = []
    for slot in frame.func.locals:
        if slot.kind is not gs.POINTER:
            continue
        where = frame.sp + slot.offset
        value = words.get(where, 0)
        if value != 0:
            words[where] = value + adj.delta
            moved.append(gs.Adjusted(frame.func.name, slot.name, where, value,
                                     value + adj.delta))
    return moved
'''),
    Wrong("adjust-nil-too", ("pointers",), '''
def adjustframe(words, frame, adj):
    moved = []
    for slot in frame.func.locals:
        if slot.kind is not gs.POINTER:
            continue
        where = frame.sp + slot.offset
        value = words.get(where, 0)
        if value < adj.old_hi:
            words[where] = value + adj.delta
            moved.append(gs.Adjusted(frame.func.name, slot.name, where, value,
                                     value + adj.delta))
    return moved
'''),
    Wrong("adjust-no-records", ("pointers",), '''
def adjustframe(words, frame, adj):
    for slot in frame.func.locals:
        where = frame.sp + slot.offset
        value = words.get(where, 0)
        if slot.kind is gs.POINTER and adj.old_lo <= value < adj.old_hi:
            words[where] = value + adj.delta
    return []
'''),
    Wrong("adjust-subtracts-delta", ("pointers",), '''
def adjustframe(words, frame, adj):
    moved = []
    for slot in frame.func.locals:
        where = frame.sp + slot.offset
        value = words.get(where, 0)
        if slot.kind is gs.POINTER and adj.old_lo <= value < adj.old_hi:
            words[where] = value - adj.delta
            moved.append(gs.Adjusted(frame.func.name, slot.name, where, value,
                                     value - adj.delta))
    return moved
'''),
    Wrong("shrink-forgets-the-800", ("shrink",), '''
def shrink_size(size, used):
    if size // 2 < 2048 or used >= size // 4:
        return None
    return size // 2
'''),
    Wrong("shrink-never", ("shrink",), '''
def shrink_size(size, used):
    return None   # "the stack only grows"
'''),
    Wrong("shrink-half-in-use", ("shrink",), '''
def shrink_size(size, used):
    if size // 2 < 2048 or used + 800 >= size // 2:
        return None
    return size // 2
'''),
)

_DIAGNOSIS_ZOO = (
    # "The growths differ, and the prologue decides growths": it never asks what differs.
    Wrong("diagnosis-any-growth-difference-is-the-prologue",
          ("blame-newsize", "blame-copystack", "blame-adjustframe"), '''
def broken_stage(reference, observed):
    end = {"event": "end"}
    for want, got in zip(reference + [end], observed + [end]):
        if want == got:
            continue
        kinds = {want["event"], got["event"]}
        if "shrink" in kinds or kinds == {"gc"}:
            return "shrink"
        if kinds & {"grow", "overflow"}:
            return "prologue"
        break
    xs = [[(e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
    # A bigger or smaller stack lands elsewhere, so its delta differs too: checking the
    # delta first blames copystack for every newsize bug.
    Wrong("diagnosis-delta-before-size", ("blame-newsize",), '''
def broken_stage(reference, observed):
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"} or want["call"] != got["call"]:
            return "prologue"
        if want.get("delta") != got.get("delta"):
            return "copystack"
        if want.get("new_size") != got.get("new_size"):
            return "newsize"
    xs = [[(e["checkpoint"], e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
    # Reads growths and checkpoints only: a GC that shrank (or did not) shows up later as a
    # growth back, or as moved pointers, and takes the blame.
    Wrong("diagnosis-ignores-gc-lines", ("blame-shrink",), '''
def broken_stage(reference, observed):
    reference = [e for e in reference if e["event"] not in ("gc", "shrink")]
    observed = [e for e in observed if e["event"] not in ("gc", "shrink")]
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"} or want["call"] != got["call"]:
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
    xs = [[(e["checkpoint"], e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
    # "Fewer pointers adjusted: adjustframe". But a copy that put nothing where the frames
    # now are leaves adjustframe no pointer to find: the scalars x tell the two apart.
    Wrong("diagnosis-pointer-count-means-adjustframe", ("blame-copystack",), '''
def broken_stage(reference, observed):
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"} or want["call"] != got["call"]:
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
        return "adjustframe"
    xs = [[(e["checkpoint"], e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
    # Mystery A's trap: two growths at one call look like a prologue that fails twice; the
    # prologue only fails again because newstack left no room.
    Wrong("diagnosis-second-growth-at-one-call-is-the-prologue", ("blame-newsize",), '''
def broken_stage(reference, observed):
    calls = [e["call"] for e in observed if e["event"] == "grow"]
    if len(calls) != len(set(calls)):
        return "prologue"
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"} or want["call"] != got["call"]:
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
    xs = [[(e["checkpoint"], e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
    # p and u confused: "u is only copied, never adjusted, so a wrong u is a wrong copy".
    # But an adjustframe that moves uintptrs changes u (mystery C); only x is the copy's.
    Wrong("diagnosis-reads-u-for-x", ("blame-adjustframe",), '''
def broken_stage(reference, observed):
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"} or want["call"] != got["call"]:
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
    us = [[(e["checkpoint"], e["frame"], e["u"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if us[0] != us[1] else "adjustframe"
'''),
)

_DIAGNOSIS_ZOO += (
    # Reads a grow line for its size and delta and forgets that *when* it happens is news
    # too: mystery D's first growth comes one call later, to the same size.
    Wrong("diagnosis-ignores-the-call", ("blame-prologue",), '''
def broken_stage(reference, observed):
    n = min(len(reference), len(observed))
    i = next((k for k in range(n) if reference[k] != observed[k]), n)
    want = reference[i] if i < len(reference) else {"event": "end"}
    got = observed[i] if i < len(observed) else {"event": "end"}
    kinds = {want["event"], got["event"]}
    if "shrink" in kinds or kinds == {"gc"}:
        return "shrink"
    if kinds & {"grow", "overflow"}:
        if kinds - {"grow", "overflow"}:
            return "prologue"
        if want["event"] != got["event"] or want.get("new_size") != got.get("new_size"):
            return "newsize"
        if want.get("delta") != got.get("delta"):
            return "copystack"
    xs = [[(e["checkpoint"], e["frame"], e["x"]) for e in t if e["event"] == "check"]
          for t in (reference, observed)]
    return "copystack" if xs[0] != xs[1] else "adjustframe"
'''),
)

_DIAGNOSIS_RIGHT = (
    # The fields of the first differing events, most upstream stage first.
    Right("diagnosis-field-priority", '''
from itertools import zip_longest


def broken_stage(reference, observed):
    for want, got in zip_longest(reference, observed, fillvalue={"event": "end"}):
        if want == got:
            continue
        if "shrink" in (want["event"], got["event"]) or want["event"] == got["event"] == "gc":
            return "shrink"
        fields = {k for k in set(want) | set(got) if want.get(k) != got.get(k)}
        growing = {"grow", "overflow"}
        if want["event"] in growing or got["event"] in growing:
            for field, stage in (("event", "prologue"), ("call", "prologue"),
                                 ("new_size", "newsize"), ("delta", "copystack")):
                if field in fields:
                    if field == "event" and {want["event"], got["event"]} <= growing:
                        return "newsize"  # a growth here, an overflow there
                    return stage
        break
    lost = any(a["x"] != b["x"] for a, b in zip(reference, observed)
               if a["event"] == b["event"] == "check")
    counts = sum(e["event"] == "check" for e in reference), sum(
        e["event"] == "check" for e in observed)
    return "copystack" if lost or counts[0] != counts[1] else "adjustframe"
'''),
    # Growth by growth, as three questions asked of the first disagreement.
    Right("diagnosis-questions", '''
def _first_disagreement(a, b):
    for k in range(max(len(a), len(b))):
        x = a[k] if k < len(a) else None
        y = b[k] if k < len(b) else None
        if x != y:
            return x or {"event": "none"}, y or {"event": "none"}
    return None, None


def _scalars(trace):
    return [e["x"] for e in trace if e["event"] == "check"], [
        e["frame"] for e in trace if e["event"] == "check"]


def broken_stage(reference, observed):
    want, got = _first_disagreement(reference, observed)
    if want is None:
        return "adjustframe"
    if want["event"] == "shrink" or got["event"] == "shrink" or (
            want["event"] == "gc" and got["event"] == "gc"):
        return "shrink"
    grow_like = ("grow", "overflow")
    if want["event"] in grow_like or got["event"] in grow_like:
        same_call = (want["event"] in grow_like and got["event"] in grow_like
                     and want["call"] == got["call"])
        if not same_call:
            return "prologue"
        if (want["event"], want.get("new_size")) != (got["event"], got.get("new_size")):
            return "newsize"
        if want["delta"] != got["delta"]:
            return "copystack"
    return "copystack" if _scalars(reference) != _scalars(observed) else "adjustframe"
'''),
)

_RIGHT = (
    Right("bit-tricks", '''
def morestack_needed(sp, frame, stackguard0):
    extra = frame - 128 if frame > 128 else 0
    if extra and sp < extra:
        return True
    return ((sp - extra) & 0xFFFFFFFFFFFFFFFF) <= stackguard0


def new_size(old_size, used, frame, max_stack):
    need = max(old_size << 1, used + frame + 928)
    size = 1 << (need - 1).bit_length()
    limit = min(max_stack, 2_000_000_000)
    if size > limit:
        raise gs.StackOverflow(limit, new_size=size)
    return size
'''),
    Right("comprehensions", '''
def copystack(old, new, used):
    delta = new.hi - old.hi
    top = {a: v for a, v in old.words.items() if old.hi - used <= a < old.hi}
    for a in [a for a in new.words if new.hi - used <= a < new.hi]:
        del new.words[a]
    new.words.update({a + delta: v for a, v in top.items()})
    return delta


def shrink_size(size, used):
    half = size // 2
    return half if half >= 2048 and used + 800 < size // 4 else None
'''),
    Right("helpers", '''
def _points_into(value, adj):
    return adj.old_lo <= value < adj.old_hi


def _move(words, frame, slot, adj):
    where = frame.sp + slot.offset
    value = words.get(where, 0)
    if slot.kind is gs.POINTER and _points_into(value, adj):
        words[where] = value + adj.delta
        return [gs.Adjusted(frame.func.name, slot.name, where, value, value + adj.delta)]
    return []


def adjustframe(words, frame, adj):
    return [rec for slot in frame.func.locals for rec in _move(words, frame, slot, adj)]
'''),
    Right("numpy-and-defaults", '''
import numpy as np


def new_size(old_size, used, frame, max_stack=1_000_000_000):
    size = np.int64(old_size) * 2
    while size < used + frame + 928:
        size = size * 2
    if size > min(max_stack, 2_000_000_000):
        raise gs.StackOverflow(min(max_stack, 2_000_000_000), new_size=int(size))
    return size


def shrink_size(size, used, *rest):
    if np.int64(size) // 2 >= 2048 and (used + 800) * 4 < size:
        return np.int64(size) // 2
    return None


def copystack(old, new, used, *rest):
    delta = np.int64(new.hi) - np.int64(old.hi)
    moved = sorted((a, v) for a, v in old.words.items() if a >= old.hi - used and a < old.hi)
    for a in list(new.words):
        if new.hi - used <= a < new.hi:
            new.words.pop(a)
    for a, v in moved:
        new.words[a + int(delta)] = v
    return delta
'''),
)

# The programs: seeds per category, each vetted against the zoo (tests/test_exercise_05.py):
# on each, every wrong answer changes its own rule's view only, and the correct variants are
# right. VISIBLE are the boundary cases the check cell shows; between them they catch every
# wrong answer of the zoo. Hidden and per-student cases come from the rest of each pool.
POOLS: dict[str, list[int]] = {
    "grow": [
        1384186213, 321278244, 1813142052, 602372069, 1506786279, 631116632, 1707277128,
        129906230, 2059743901, 1810222409, 868483017, 1150225130, 1550173089,
        1602893102, 1807257797, 2078856232, 2003042199, 535272961, 42768244, 602172146,
        457466305, 1638817526, 1656051422, 2098104684, 1840464104, 1668617524,
        2128769723, 1593331536, 820446708, 1709503380, 1765885069, 669807774, 529598725,
        397736776, 154999942, 1568840174, 2141599292, 1727063083, 1247628861, 1951752294
    ],
    "huge": [
        217452450, 1987265825, 2118332651, 1505920597, 1976984045, 1834723027,
        1585062919, 1650467679, 710749074, 651801958, 218901172, 860313904, 2124780602,
        1892009666, 66320570, 518430141, 194055916, 1156374638, 405470362, 493364967,
        2112345507, 527825331, 690047208, 1911902783, 1499593316, 240527678, 1224865633,
        1966395061, 1101964900, 550074585, 1289119969, 1853907311, 148636029, 23664498,
        1616805590, 1176473990, 1051747615, 311377224, 1770107983, 1074558088
    ],
    "overflow": [
        989059947, 973603144, 275615203, 1739296988, 2093586241, 199156872, 954105126,
        1338464279, 1029198141, 1827281032, 712449145, 887593800, 779046947, 675263525,
        69993005, 1200716563, 479470378, 2021555145, 738741131, 44401576, 1482925993,
        1558541189, 1725923263, 2053890167, 1886823897, 595788424, 1763769484,
        1320031120, 1934796572, 1413834586, 1062237347, 401483722, 1270477742,
        1389237266, 1429001916, 1540474937, 546973507, 1944052653, 39262277, 982617224
    ],
    "shrink": [
        1300353307, 923549786, 58793595, 441328720, 439363414, 1427437740, 12341398,
        482179758, 90135708, 806249656, 567910205, 710033647, 731923157, 463685428,
        221158780, 1405370183, 2033016761, 1784566029, 1957214324, 36175719, 1086618403,
        202473959, 443682366, 1584897634, 225100938, 1436554688, 1097751704, 490407578,
        625276826, 2078426189, 1450261850, 1880948567, 1311048550, 871409634,
        1066594481, 1868658543, 66883708, 124857537, 1122451939, 1089034913
    ],
}
VISIBLE: dict[str, list[int]] = {
    "grow": [
        1384186213
    ],
    "huge": [
        217452450
    ],
    "overflow": [
        989059947
    ],
    "shrink": [
        1300353307, 441328720
    ],
}
TAGS = {"grow": ["prologue", "copy", "pointers"], "huge": ["newsize", "copy", "pointers"],
        "overflow": ["overflow"], "shrink": ["shrink", "copy", "pointers"]}


# The diagnosis cases: (seed, category, wrong variant) per broken stage, each a program of
# a category above run on the reference runtime with that stage swapped for the variant of
# pb.WRONG_STAGES. Vetted (tests/test_exercise_05.py): the traces differ, the reference
# diagnosis names the stage, every correct variant does, and every wrong classifier of the
# zoo names it unless the stage is one it breaks. (A program that dies of a stack overflow
# reaches no checkpoint: there a copy that lost the frames cannot be told from an
# adjustframe that moved nothing, so no such case is in the pool.) The first entries of
# each list are the visible ones: the four mysteries (A newsize, B shrink, C adjustframe,
# D prologue), a limit one word too strict, and two broken copies.
DIAGNOSES: dict[str, list[tuple[int, str, str]]] = {
    "prologue": [
        (1384186213, "grow", "late"), (2059743901, "grow", "late"),
        (1384186213, "grow", "strict"), (1384186213, "grow", "whole-frame"),
        (66320570, "huge", "late"), (66320570, "huge", "strict"),
        (712449145, "overflow", "late"), (712449145, "overflow", "strict"),
        (1739296988, "overflow", "whole-frame"), (441328720, "shrink", "late"),
        (441328720, "shrink", "strict"), (1300353307, "shrink", "whole-frame"),
        (868483017, "grow", "late"), (2059743901, "grow", "strict"),
        (1813142052, "grow", "whole-frame"), (518430141, "huge", "late"),
        (518430141, "huge", "strict"), (1886823897, "overflow", "late"),
        (1886823897, "overflow", "strict"), (2093586241, "overflow", "whole-frame"),
        (90135708, "shrink", "late"), (90135708, "shrink", "strict"),
        (923549786, "shrink", "whole-frame"), (42768244, "grow", "late"),
    ],
    "newsize": [
        (217452450, "huge", "tight"), (989059947, "overflow", "limit-inclusive"),
        (217452450, "huge", "single-doubling"), (218901172, "huge", "tight"),
        (973603144, "overflow", "limit-inclusive"), (1987265825, "huge", "single-doubling"),
        (550074585, "huge", "tight"), (275615203, "overflow", "limit-inclusive"),
        (2118332651, "huge", "single-doubling"), (1739296988, "overflow", "limit-inclusive"),
        (1505920597, "huge", "single-doubling"), (2093586241, "overflow", "limit-inclusive"),
        (1976984045, "huge", "single-doubling"), (199156872, "overflow", "limit-inclusive"),
        (1834723027, "huge", "single-doubling"), (954105126, "overflow", "limit-inclusive"),
        (1585062919, "huge", "single-doubling"), (1338464279, "overflow", "limit-inclusive"),
        (710749074, "huge", "single-doubling"), (1029198141, "overflow", "limit-inclusive"),
        (651801958, "huge", "single-doubling"), (1827281032, "overflow", "limit-inclusive"),
        (218901172, "huge", "single-doubling"), (712449145, "overflow", "limit-inclusive"),
    ],
    "copystack": [
        (1384186213, "grow", "nothing-moved"), (1384186213, "grow", "negated-delta"),
        (1384186213, "grow", "delta-from-lo"), (321278244, "grow", "negated-delta"),
        (321278244, "grow", "nothing-moved"), (217452450, "huge", "delta-from-lo"),
        (217452450, "huge", "negated-delta"), (217452450, "huge", "nothing-moved"),
        (989059947, "overflow", "delta-from-lo"), (989059947, "overflow", "negated-delta"),
        (1300353307, "shrink", "delta-from-lo"), (1300353307, "shrink", "negated-delta"),
        (1300353307, "shrink", "nothing-moved"), (321278244, "grow", "delta-from-lo"),
        (1813142052, "grow", "negated-delta"), (1813142052, "grow", "nothing-moved"),
        (1987265825, "huge", "delta-from-lo"), (1987265825, "huge", "negated-delta"),
        (1987265825, "huge", "nothing-moved"), (973603144, "overflow", "delta-from-lo"),
        (973603144, "overflow", "negated-delta"), (923549786, "shrink", "delta-from-lo"),
        (923549786, "shrink", "negated-delta"), (923549786, "shrink", "nothing-moved"),
    ],
    "adjustframe": [
        (1384186213, "grow", "uintptrs-too"), (1384186213, "grow", "backwards"),
        (1384186213, "grow", "every-pointer"), (1384186213, "grow", "no-records"),
        (321278244, "grow", "uintptrs-too"), (217452450, "huge", "backwards"),
        (217452450, "huge", "every-pointer"), (217452450, "huge", "no-records"),
        (217452450, "huge", "uintptrs-too"), (989059947, "overflow", "backwards"),
        (989059947, "overflow", "every-pointer"), (989059947, "overflow", "no-records"),
        (989059947, "overflow", "uintptrs-too"), (1300353307, "shrink", "backwards"),
        (1300353307, "shrink", "every-pointer"), (1300353307, "shrink", "no-records"),
        (1300353307, "shrink", "uintptrs-too"), (321278244, "grow", "backwards"),
        (321278244, "grow", "every-pointer"), (321278244, "grow", "no-records"),
        (1813142052, "grow", "uintptrs-too"), (1987265825, "huge", "backwards"),
        (1987265825, "huge", "every-pointer"), (1987265825, "huge", "no-records"),
    ],
    "shrink": [
        (1300353307, "shrink", "eager"), (1405370183, "shrink", "eager"),
        (1300353307, "shrink", "half-in-use"), (58793595, "shrink", "never"),
        (225100938, "shrink", "eager"), (923549786, "shrink", "half-in-use"),
        (441328720, "shrink", "never"), (1311048550, "shrink", "eager"),
        (58793595, "shrink", "half-in-use"), (1427437740, "shrink", "never"),
        (871409634, "shrink", "eager"), (441328720, "shrink", "half-in-use"),
        (567910205, "shrink", "never"), (66883708, "shrink", "eager"),
        (439363414, "shrink", "half-in-use"), (710033647, "shrink", "never"),
        (1089034913, "shrink", "eager"), (1427437740, "shrink", "half-in-use"),
        (221158780, "shrink", "never"), (12341398, "shrink", "half-in-use"),
        (1405370183, "shrink", "never"), (482179758, "shrink", "half-in-use"),
        (2033016761, "shrink", "never"), (90135708, "shrink", "half-in-use"),
    ],
}
VISIBLE_DIAGNOSES = {"prologue": 1, "newsize": 2, "copystack": 2, "adjustframe": 1, "shrink": 1}
HIDDEN_DIAGNOSES = 2  # per stage, drawn from the rest of its list

_growth_cases = pooled_cases("whole", POOLS, VISIBLE, 2, TAGS)


def _cases(rng: random.Random, visible: bool) -> list[dict]:
    """The programs run on the learner's stages, then the diagnosis cases."""
    cases = _growth_cases(rng, visible)
    for stage, pool in DIAGNOSES.items():
        n = VISIBLE_DIAGNOSES[stage]
        if visible:
            picks = pool[:n]
        else:
            rest, picks = pool[n:], []
            while len(picks) < HIDDEN_DIAGNOSES:
                pick = rest[draw(rng, 0, len(rest) - 1)]
                if pick not in picks:
                    picks.append(pick)
        cases += [_diagnosis_case(stage, seed, cat, variant) for seed, cat, variant in picks]
    return cases

EXERCISE = Exercise(
    id="05-growth-path",
    title=N_("The whole growth path"),
    lesson="08-beyond-growth",
    functions=(
        ("morestack_needed", ("sp", "frame", "stackguard0")),
        ("new_size", ("old_size", "used", "frame", "max_stack")),
        ("copystack", ("old", "new", "used")),
        ("adjustframe", ("words", "frame", "adj")),
        ("shrink_size", ("size", "used")),
        ("broken_stage", ("reference", "observed")),
    ),
    reference={
        "morestack_needed": "gostack.prologue.morestack_needed",
        "new_size": "gostack.newstack.new_size",
        "copystack": "gostack.copystack.copystack",
        "adjustframe": "gostack.adjust.adjustframe",
        "shrink_size": "gostack.shrink.shrink_size",
        "broken_stage": "gostack.grade.exercises.e05_growth_path.reference_broken_stage",
    },
    # Half the points for the five stages (checked in the simulator), half for the diagnosis:
    # one rule per stage a broken runtime can have, so a classifier that takes one stage for
    # another loses the rule of the stage it fails to name.
    aspects=(
        Aspect("prologue", "grows at the same calls, the boundary included (the prologue)", 1,
               _prologue_view, _first_difference),
        Aspect("newsize", "grows to the same sizes, with room for the frame and the guard "
               "(newstack)", 1, _newsize_view, _first_difference),
        Aspect("overflow", "stops at the same call once past max_stack (newstack)", 0.5,
               _overflow_view, _first_difference),
        Aspect("copy", "the same delta, every frame's x carried along (copystack)", 1,
               _copy_view, _copy_diff),
        Aspect("pointers", "pointers follow every move; nothing else moves (adjustframe)", 1,
               _pointer_view, _pointer_diff),
        Aspect("shrink", "shrinks at the same GCs, to the same sizes (shrink)", 0.5,
               _shrink_view, _first_difference),
        Aspect("blame-prologue", "diagnosis: names a broken prologue (a growth at another "
               "call)", 1, _diagnosis_view, _diagnosis_diff),
        Aspect("blame-newsize", "diagnosis: names a broken newsize, even when it shows as a "
               "second growth at one call", 1, _diagnosis_view, _diagnosis_diff),
        Aspect("blame-copystack", "diagnosis: names a broken copystack, even when its delta "
               "is right", 1, _diagnosis_view, _diagnosis_diff),
        Aspect("blame-adjustframe", "diagnosis: names a broken adjustframe, even when a "
               "uintptr moved", 1, _diagnosis_view, _diagnosis_diff),
        Aspect("blame-shrink", "diagnosis: names a broken shrink, even when later growths "
               "differ too", 1, _diagnosis_view, _diagnosis_diff),
    ),
    _cases=_cases,
    _run=_run,
    call_text=_call_text,
    repro_text=_repro_any,
    visible_seed=107,
    zoo=_ZOO + _DIAGNOSIS_ZOO,
    right=_RIGHT + _DIAGNOSIS_RIGHT,
)
