"""Exercise 01 · the prologue check (lesson 03).

The learner turns the instructions of ``go build -gcflags=-S`` into a condition. Every case is
a state the runtime can reach: ``sp`` is E (the SP at the function's first instruction),
``stackguard0`` is ``lo + 928`` or ``stackPreempt``, and SP stays above StackBig (4,096), as
the comment in cmd/internal/obj/x86/obj6.go ``stacksplit`` says the runtime guarantees. So a
medium frame's LEAQ never wraps, and the boundary between medium and huge frames (4,096 is
medium) cannot be observed: the two forms differ only when SUBQ would borrow, which needs
SP < F - 128 <= 3,968. That rule is taught, not graded.

Each aspect holds the cases where one rule flips, away from every other rule's boundary:
``d`` below is the compared value (SP for frames up to 128 bytes, SP - (F - 128) above)
minus stackguard0.

* equal: d = 0 in every form (morestack), and d = +8 with a 0-byte frame (no morestack);
* small: frames of 8..128 bytes with d in [+16, +F] (a frame subtracted from SP flips them)
  and d < 0;
* large: frames over 128 bytes with d in [+16, +128] (subtracting F instead of F - 128 flips
  them) and d < 0;
* borrow: huge frames on a stack low in memory, SP < F - 128 (SUBQ borrows, JCS);
* preempt: stackguard0 = stackPreempt, whatever SP (an unsigned compare).

Each also holds answers of both kinds, so no constant answer passes it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import STACK_BIG, STACK_GUARD, STACK_PREEMPT, STACK_SMALL
from ...i18n import N_, _
from ..spec import (
    Aspect,
    Exercise,
    Right,
    Wrong,
    as_bool,
    draw,
    pick,
    same,
    stack_base,
)


def _low_base(rng: random.Random) -> int:
    """A stack low in memory (but above StackBig), where a huge frame's SUBQ can borrow."""
    return 0x1000 * draw(rng, 1, 8)


def _prologue_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tag: str, sp: int, frame: int, guard: int) -> None:
        cases.append({"tags": [tag], "args": [sp, frame, guard], "size": frame})

    def at(tag: str, guard: int, frame: int, d: int) -> None:
        """A case whose compared value sits d bytes above the guard."""
        add(tag, guard + d + max(0, frame - STACK_SMALL), frame, guard)

    lo = stack_base(rng)
    g = lo + STACK_GUARD
    low = 0x1000 + STACK_GUARD
    if visible:
        # SP exactly at the guard (lesson 03's call 88 is the medium one), one word above.
        at("equal", g, 56, 0)
        at("equal", g, 168, 0)
        at("equal", g, 10280, 0)
        at("equal", g, 0, 8)
        # Small frames: SP itself is compared, however big the frame.
        at("small", g, 56, 16)
        at("small", g, 128, 120)
        at("small", g, 56, -8)
        at("small", g, 120, -64)
        # Larger frames: where the frame will end, less StackSmall.
        at("large", g, 168, 16)
        at("large", g, 168, 128)
        at("large", g, 4096, 64)
        at("large", g, 10280, 40)
        at("large", g, 168, -8)
        at("large", g, 10280, -200)
        # Lesson 03's made-up stack at 0x1000: SUBQ borrows, JCS goes to morestack.
        add("borrow", 0x1F00, 10280, low)
        at("borrow", low, 10280, 256)
        # stackPreempt: every checked prologue calls morestack.
        add("preempt", g + 4096, 56, STACK_PREEMPT)
        add("preempt", g + 4096, 168, STACK_PREEMPT)
        add("preempt", g + 20000, 10280, STACK_PREEMPT)
        at("preempt", g, 168, 512)
    n = 4 if visible else 10
    for i in range(n):
        lo = stack_base(rng)
        g = lo + STACK_GUARD
        big = 8 * draw(rng, STACK_BIG // 8 + 1, 25_000)
        at("equal", g, pick(rng, (8 * draw(rng, 0, 16), 8 * draw(rng, 17, 512), big)), 0)
        at("equal", g, 0, 8)
        f = 8 * draw(rng, 2, 16)
        at("small", g, f, 8 * draw(rng, 2, f // 8))  # within the frame: still no morestack
        at("small", g, f, -8 * draw(rng, 1, 16))
        at("small", g, 8 * draw(rng, 0, 16), 8 * draw(rng, 17, 400))
        f = pick(rng, (8 * draw(rng, 17, 512), big))
        at("large", g, f, 8 * draw(rng, 2, 16))  # within StackSmall: no morestack
        at("large", g, f, -8 * draw(rng, 1, (f - STACK_SMALL) // 8))
        at("large", g, pick(rng, (8 * draw(rng, 17, 512), big)), 8 * draw(rng, 17, 400))
        lo = _low_base(rng)
        f = 8 * draw(rng, (lo + 2 * STACK_GUARD) // 8, 25_000)
        top = min(f - STACK_SMALL - 8, lo + 0x8000)  # SP < F - 128 and inside the stack
        add("borrow", 8 * draw(rng, (lo + STACK_GUARD) // 8 + 1, top // 8), f, lo + STACK_GUARD)
        at("borrow", lo + STACK_GUARD, f, 8 * draw(rng, 32, 400))
        f = pick(rng, (8 * draw(rng, 0, 16), 8 * draw(rng, 17, 512), big))
        add("preempt", g + 8 * draw(rng, 0, 4000) + max(0, f - STACK_SMALL), f, STACK_PREEMPT)
        if i % 2:
            at("preempt", g, f, 8 * draw(rng, 64, 400))
    return cases


def _prologue_run(fns: dict[str, Callable], case: dict) -> bool:
    sp, frame, guard = case["args"]
    return as_bool(fns["morestack_needed"](sp, frame, guard), "morestack_needed's result")


def _prologue_call(case: dict) -> str:
    """The call, pasteable, and where SP stands (the distance a learner reasons from); the
    comment in the language in use."""
    sp, frame, guard = case["args"]
    if guard == STACK_PREEMPT:
        return (f"morestack_needed(sp={sp:#x}, frame={frame}, "
                "stackguard0=gs.arch.STACK_PREEMPT)  # " + _("stackguard0 = stackPreempt"))
    d = sp - guard
    note = (_("SP is {d:,} bytes above stackguard0") if d > 0
            else _("SP is {d:,} bytes below stackguard0") if d < 0
            else _("SP is exactly at stackguard0")).format(d=abs(d))
    return f"morestack_needed(sp={sp:#x}, frame={frame}, stackguard0={guard:#x})  # {note}"


# --- the bug zoo: answers learners write, and correct ones written differently ---------------

_HEAD = "def morestack_needed(sp, frame, stackguard0):\n"

ZOO = (
    Wrong("strict-less", ("equal",), _HEAD + """\
    if frame <= 128:
        return sp < stackguard0                      # JLS is below OR SAME
    if frame > 4096 and sp < frame - 128:
        return True
    return (sp - (frame - 128)) & ((1 << 64) - 1) < stackguard0
"""),
    Wrong("guard-936", ("equal",), _HEAD + """\
    guard = stackguard0 + 8                           # lo + 936: one word too high
    if frame <= 128:
        return sp <= guard
    if frame > 4096 and sp < frame - 128:
        return True
    return sp - (frame - 128) <= guard
"""),
    Wrong("guard-920", ("equal",), _HEAD + """\
    guard = stackguard0 - 8                           # lo + 920: one word too low
    if frame <= 128:
        return sp <= guard
    if frame > 4096 and sp < frame - 128:
        return True
    return sp - (frame - 128) <= guard
"""),
    Wrong("signed-compare", ("preempt",), """\
MASK = (1 << 64) - 1


def int64(x):
    x &= MASK
    return x - (1 << 64) if x >> 63 else x


def morestack_needed(sp, frame, stackguard0):
    r12 = sp if frame <= 128 else sp - (frame - 128)
    if frame > 4096 and sp < frame - 128:
        return True
    return int64(r12) <= int64(stackguard0)           # a signed compare (JLE, not JLS)
"""),
    Wrong("sign-of-difference", ("preempt",), _HEAD + """\
    r12 = sp if frame <= 128 else sp - (frame - 128)
    if frame > 4096 and sp < frame - 128:
        return True
    diff = (stackguard0 - r12) & ((1 << 64) - 1)
    return diff < (1 << 63)                           # "the difference is not negative"
"""),
    Wrong("no-borrow-check", ("borrow",), """\
MASK = (1 << 64) - 1


def morestack_needed(sp, frame, stackguard0):
    if frame <= 128:
        return sp <= stackguard0
    r12 = (sp - (frame - 128)) & MASK                 # SUBQ wraps, and nobody checks the carry
    return r12 <= stackguard0
"""),
    Wrong("borrow-skips-the-check", ("borrow",), """\
MASK = (1 << 64) - 1


def morestack_needed(sp, frame, stackguard0):
    if frame <= 128:
        return sp <= stackguard0
    if frame > 4096 and sp < frame - 128:
        return False                                  # read JCS as "jump over morestack"
    return (sp - (frame - 128)) & MASK <= stackguard0
"""),
    Wrong("whole-frame", ("large",), """\
def where_the_frame_ends(sp, frame):
    return sp - frame                                 # forgets StackSmall's 128 bytes


def morestack_needed(sp, frame, stackguard0):
    if frame <= 128:
        return sp <= stackguard0
    if frame > 4096 and sp < frame:
        return True
    return where_the_frame_ends(sp, frame) <= stackguard0
"""),
    Wrong("small-frames-subtract", ("small",), _HEAD + """\
    if frame <= 128:
        return sp - frame <= stackguard0              # CMPQ SP: there is no subtraction
    if frame > 4096 and sp < frame - 128:
        return True
    return sp - (frame - 128) <= stackguard0
"""),
)

RIGHT = (
    Right("plain-python-ints", """\
def morestack_needed(sp, frame, stackguard0):
    # Python ints never wrap: a borrow gives a negative number, which is <= any guard.
    return sp - max(0, frame - 128) <= stackguard0
"""),
    Right("numpy-uint64", """\
import numpy as np


def morestack_needed(sp, frame, stackguard0):
    sp64 = np.array([sp], dtype=np.uint64)
    guard = np.uint64(stackguard0)
    if frame <= 128:
        return bool(sp64[0] <= guard)
    off = np.uint64(frame - 128)
    if frame > 4096 and sp64[0] < off:
        return True                                   # JCS
    r12 = sp64 - off                                  # array arithmetic wraps silently
    return bool(r12[0] <= guard)
"""),
    Right("instruction-interpreter", """\
MASK = (1 << 64) - 1


def listing(frame):
    if frame <= 128:
        return [("CMPQ", "SP"), ("JLS",)]
    if frame <= 4096:
        return [("LEAQ", frame - 128), ("CMPQ", "R12"), ("JLS",)]
    return [("MOVQ",), ("SUBQ", frame - 128), ("JCS",), ("CMPQ", "R12"), ("JLS",)]


def morestack_needed(sp, frame, stackguard0):
    regs, carry, below_or_same = {"SP": sp, "R12": 0}, False, False
    for ins in listing(frame):
        op = ins[0]
        if op == "MOVQ":
            regs["R12"] = regs["SP"]
        elif op == "LEAQ":
            regs["R12"] = (regs["SP"] - ins[1]) & MASK
        elif op == "SUBQ":
            carry = regs["R12"] < ins[1]
            regs["R12"] = (regs["R12"] - ins[1]) & MASK
        elif op == "JCS" and carry:
            return True
        elif op == "CMPQ":
            below_or_same = regs[ins[1]] <= stackguard0
        elif op == "JLS" and below_or_same:
            return True
    return False
"""),
    Right("named-constants-and-defaults", """\
def morestack_needed(sp, frame=0, stackguard0=0, *, small=gs.arch.STACK_SMALL,
                     big=gs.arch.STACK_BIG, mask=(1 << 64) - 1):
    if frame <= small:
        compared = sp
    else:
        if frame > big and sp < frame - small:
            return True
        compared = (sp - (frame - small)) & mask
    return not compared > stackguard0
"""),
    Right("match-on-the-form", """\
def morestack_needed(sp, frame, stackguard0):
    form = "small" if frame <= 128 else "medium" if frame <= 4096 else "huge"
    match form:
        case "small":
            return sp <= stackguard0
        case "medium":
            return (sp - frame + 128) % 2**64 <= stackguard0
        case _:
            return sp < frame - 128 or (sp - frame + 128) % 2**64 <= stackguard0
"""),
)


EXERCISE = Exercise(
    id="01-prologue",
    title=N_("The prologue check"),
    lesson="03-prologue",
    functions=(("morestack_needed", ("sp", "frame", "stackguard0")),),
    reference={"morestack_needed": "gostack.prologue.morestack_needed"},
    aspects=(
        Aspect("equal", "the boundary: a compared value exactly at the guard (JLS)", 2, same),
        Aspect("small", "frames of at most 128 bytes (CMPQ SP)", 2, same),
        Aspect("large", "frames over 128 bytes (LEAQ or SUBQ, then CMPQ R12)", 2, same),
        Aspect("borrow", "huge frames: a SUBQ that borrows (JCS)", 2, same),
        Aspect("preempt", "stackguard0 = stackPreempt (an unsigned compare)", 2, same),
    ),
    _cases=_prologue_cases,
    _run=_prologue_run,
    call_text=_prologue_call,
    visible_seed=103,
    zoo=ZOO,
    right=RIGHT,
)
