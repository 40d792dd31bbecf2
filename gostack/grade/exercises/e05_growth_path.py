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

import json
from collections.abc import Callable
from typing import Any

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
        return "(nothing more)"
    kind, f = e[0], e[1:]
    if kind == "error":
        return f"the run stopped: {f[0]}"
    if kind == "grows at":
        return f"the stack grows at call {f[0]}"
    if kind == "size":
        return f"a growth from {f[0]:,} to {f[1]:,} bytes"
    if kind == "overflow":
        return f"fatal error: stack overflow at call {f[0]} (limit {f[1]:,} bytes)"
    if kind == "no overflow":
        return "no stack overflow: the program ran to its end"
    if kind == "calls":
        return f"the runtime called your {f[0]} stage {f[1]:,} times"
    if kind == "delta":
        old_lo, old_hi, new_lo, new_hi, delta = f
        return (f"copystack from [{old_lo:#x}, {old_hi:#x}) to [{new_lo:#x}, {new_hi:#x}) "
                f"returned delta {_signed(delta)}; new.hi - old.hi = {_signed(new_hi - old_hi)}")
    if kind == "x":
        return f"at checkpoint {f[0] + 1}, frame {f[1]}'s x = {f[2]:,}"
    if kind == "gc":
        then = "keeps its size" if f[3] is None else f"shrinks to {f[3]:,} bytes"
        return f"GC {f[0]}: a {f[1]:,}-byte stack with {f[2]:,} bytes in use {then}"
    if kind == "shrink":
        return f"GC {f[0]} shrinks the stack to {f[1]:,} bytes"
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
            return f"first difference:\n  expected: {_show(a)}\n  got:      {_show(b)}"
    return "the same"


def _copy_diff(expected: list, got: list) -> str:
    wrong = [g for g in got if g[0] == "delta"]
    if wrong and not any(e[0] == "delta" for e in expected):
        return (f"first wrong copy: {_show(wrong[0])}\n"
                "  (adjustframe moves every pointer by the delta copystack returns)")
    return _first_difference(expected, got)


def _pointer_diff(expected: list, got: list) -> str:
    if not got or got[0][0] == "error" or expected:
        return _first_difference(expected, got)
    w = got[0]
    if w[0] == "records":
        _, func, said, moved = w
        def recs(rs):
            return ", ".join(f"{n} at {_hex(a)}: {_hex(o)} -> {_hex(v)}"
                             for _, n, a, o, v in rs) or "none"
        return (f"first wrong frame: {func}: your adjustframe's records say it moved "
                f"[{recs(said)}]; it moved [{recs(moved)}]")
    _, func, name, kind, addr, value, got_v, want, old_lo, old_hi, delta = w
    where = "into" if old_lo <= value < old_hi else "outside"
    return (f"first wrong word: {func}'s {name} ({kind}) at {_hex(addr)} held {_hex(value)}, "
            f"{where} the old stack [{_hex(old_lo)}, {_hex(old_hi)}); delta {_signed(delta)}\n"
            f"  expected after adjustframe: {_hex(want)}\n"
            f"  got:                        {_hex(got_v)}")


def _repro(case: dict) -> str:
    return (f"{regenerate(case)}.run(gs.Stages(morestack_needed, new_size, copystack, "
            "adjustframe, shrink_size))")


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
        Aspect("prologue", "grows at the same calls, the boundary included (the prologue)", 2,
               _prologue_view, _first_difference),
        Aspect("newsize", "grows to the same sizes, with room for the frame and the guard "
               "(newstack)", 2, _newsize_view, _first_difference),
        Aspect("overflow", "stops at the same call once past max_stack (newstack)", 1,
               _overflow_view, _first_difference),
        Aspect("copy", "the same delta, every frame's x carried along (copystack)", 2,
               _copy_view, _copy_diff),
        Aspect("pointers", "pointers follow every move; nothing else moves (adjustframe)", 2,
               _pointer_view, _pointer_diff),
        Aspect("shrink", "shrinks at the same GCs, to the same sizes (shrink)", 1,
               _shrink_view, _first_difference),
    ),
    _cases=pooled_cases("whole", POOLS, VISIBLE, 2, TAGS),
    _run=_whole_run,
    call_text=describe,
    repro_text=_repro,
    visible_seed=107,
    zoo=_ZOO,
    right=_RIGHT,
)
