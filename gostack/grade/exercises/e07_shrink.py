"""Exercise 07 · the shrink rule (lesson 08).

``shrink_size(size, used)``: the runtime's ``shrinkstack`` at a GC (src/runtime/stack.go)
halves a stack when ``used + 800 < size / 4`` (``used = hi - sched.sp`` where the goroutine
is parked, 800 = stackNosplit) and the half is at least fixedStack (2,048 bytes).

On linux/amd64 the floor never decides alone: a 2 KiB stack would need ``used + 800 < 512``.
No bug in the floor can be seen below 4 KiB, so "a 2 KiB stack never shrinks" is taught in
the notebook, not graded; what can break is the other side of the floor: a 4 KiB stack with
fewer than 224 bytes in use still halves, to 2 KiB (lesson 08's running example does).

Aspects, and what each compares (so that a bug in how much to halve does not count against
when to halve, and returning the size instead of None counts only once):

* halve: the new size, on clear halvings (``used + 800`` under an eighth of a stack of 8 KiB
  or more) and clear keeps (at least half in use);
* keep: ``None`` for a stack that stays (not its size), on clear keeps and clear halvings;
* threshold: halve or keep, where the quarter test flips: exactly a quarter, the band where
  only the 800 bytes keep the stack, just under a quarter, between a quarter and a half;
* last: halve or keep at 4 KiB, with few bytes in use (halves to 2 KiB) or many (keeps).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import FIXED_STACK, STACK_NOSPLIT
from ...i18n import N_, _
from ..spec import (
    Aspect,
    Exercise,
    Right,
    Wrong,
    as_opt_int,
    draw,
)

ENTRY_USED = 40  # hi - E of a goroutine's entry function


def reachable(size: int, used: int) -> bool:
    return (size >= FIXED_STACK and size & (size - 1) == 0 and used % 8 == 0
            and ENTRY_USED <= used <= size - 8)


def _shrink_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases = []

    def add(tag: str, size: int, used: int) -> None:
        assert reachable(size, used), (tag, size, used)
        cases.append({"tags": [tag], "args": [size, used], "size": size.bit_length()})

    def clear_halving(size: int) -> int:  # used + 800 under an eighth
        return 8 * draw(rng, ENTRY_USED // 8, (size // 8 - STACK_NOSPLIT) // 8 - 1)

    def clear_keep(size: int) -> int:  # at least half in use
        return 8 * draw(rng, size // 16, size // 8 - 1)

    if visible:
        add("halve", 131072, 216)  # lesson 08: 128 KiB halves after the recursion returned
        add("halve", 8192, 216)
        add("halve", 8192, 6000)
        add("halve", 65536, 40000)
        add("keep", 2048, 1400)
        add("keep", 16384, 9000)
        add("keep", 8192, 200)
        add("threshold", 8192, 1248)  # 1,248 + 800 = 2,048: exactly a quarter keeps it
        add("threshold", 8192, 1240)  # 2,040: just under, halves
        add("threshold", 8192, 1800)  # under a quarter, but not with the 800 bytes
        add("threshold", 4096, 232)  # lesson 08's 56-byte worker: 1,032 stays at 4 KiB
        add("threshold", 8192, 3000)  # between a quarter and a half: keeps
        add("last", 4096, 216)  # lesson 08's running example: the last halving, to 2 KiB
        add("last", 4096, 2504)
        add("last", 2048, 1504)
    n = 4 if visible else 8
    for _i in range(n):
        size = 8192 << draw(rng, 0, 12)
        add("halve", size, clear_halving(size))
        size = 2048 << draw(rng, 0, 14)
        add("halve", size, clear_keep(size))
        size = 8192 << draw(rng, 0, 12)
        add("keep", size, clear_halving(size))
        size = 2048 << draw(rng, 0, 14)
        add("keep", size, clear_keep(size))
    for _i in range(n):
        size = 4096 << draw(rng, 0, 12)
        quarter = size // 4
        add("threshold", size, quarter - STACK_NOSPLIT)  # exactly a quarter
        add("threshold", size, 8 * draw(rng, (quarter - STACK_NOSPLIT) // 8 + 1,
                                        quarter // 8 - 1))  # kept by the 800 bytes alone
        add("threshold", size, 8 * draw(rng, quarter // 8, (size // 2 - STACK_NOSPLIT) // 8))
        size = 8192 << draw(rng, 0, 12)
        quarter = size // 4
        add("threshold", size, quarter - STACK_NOSPLIT - 8 * draw(rng, 1, size // 64))
    for _i in range(n):
        add("last", 4096, 8 * draw(rng, ENTRY_USED // 8, (1024 - STACK_NOSPLIT) // 8 - 1))
        size = 4096 if draw(rng, 0, 2) else 2048
        add("last", size, 8 * draw(rng, 1248 // 8, size // 8 - 1))  # keeps
    return cases


def _shrink_run(fns: dict[str, Callable], case: dict) -> int | None:
    size, used = case["args"]
    return as_opt_int(fns["shrink_size"](size, used), "shrink_size's result")


def _shrink_call(case: dict) -> str:
    size, used = case["args"]
    return (f"shrink_size(size={size}, used={used})"
            f"  # used + 800 = {used + STACK_NOSPLIT:,}; size / 4 = {size // 4:,}")


# What each aspect compares -------------------------------------------------------------------

KEEPS, HALVES = N_("keeps the stack"), N_("halves the stack")  # translated where shown


def _new_size(case: dict, out):
    """The new size; a stack that stays is None, whether said with None or with its size."""
    return None if out is None or out == case["args"][0] else out


def _none_when_kept(case: dict, out):
    """None, the same size (the bug), or 'halves' whatever the new size."""
    return None if out is None else out if out == case["args"][0] else HALVES


def _decision(case: dict, out) -> str:
    return KEEPS if out is None or out == case["args"][0] else HALVES


def _show(x) -> str:
    if x is None:
        return _("None (the stack stays)")
    if isinstance(x, int):
        return f"{x:,}"
    return _(x) if x in (KEEPS, HALVES) else x


def _fmt(expected, got) -> str:
    return f"expected: {_show(expected)}\ngot:      {_show(got)}"


def _fmt_keep(expected, got) -> str:
    if isinstance(got, int):
        got = _("{size}: the size it already has, not None").format(size=f"{got:,}")
    return _fmt(expected, got)


# --- the bug zoo --------------------------------------------------------------------------

_HEAD = "def shrink_size(size, used):\n"

ZOO = (
    Wrong("at-exactly-a-quarter", ("threshold",), _HEAD + """\
    if size // 2 < 2048 or used + 800 > size // 4:    # a quarter itself still shrinks
        return None
    return size // 2
"""),
    Wrong("no-nosplit-budget", ("threshold",), _HEAD + """\
    if size // 2 < 2048 or used >= size // 4:         # forgets the 800 bytes
        return None
    return size // 2
"""),
    Wrong("half-rule", ("threshold",), _HEAD + """\
    if size // 2 < 2048 or used + 800 >= size // 2:   # "under half in use"
        return None
    return size // 2
"""),
    Wrong("algebra-slip", ("threshold",), _HEAD + """\
    if size // 2 < 2048 or 4 * used + 800 >= size:   # multiplied used, not used + 800
        return None
    return size // 2
"""),
    Wrong("halves-twice", ("halve",), _HEAD + """\
    if size // 2 < 2048 or used + 800 >= size // 4:
        return None
    return max(size // 4, 2048)                       # down to where it would fit
"""),
    Wrong("shrinks-by-a-quarter", ("halve",), _HEAD + """\
    if size // 2 < 2048 or used + 800 >= size // 4:
        return None
    return size - size // 4
"""),
    Wrong("returns-the-size", ("keep",), _HEAD + """\
    if size // 2 < 2048 or used + 800 >= size // 4:
        return size                                   # "the size after the GC"
    return size // 2
"""),
    Wrong("floor-off-by-one", ("last",), _HEAD + """\
    if size // 2 <= 2048 or used + 800 >= size // 4:  # 2 KiB itself is allowed
        return None
    return size // 2
"""),
)

RIGHT = (
    Right("shifts", """\
def shrink_size(size, used):
    if size >> 1 >= 2048 and used + 800 < size >> 2:
        return size >> 1
    return None
"""),
    Right("float-quarter-numpy", """\
import numpy as np


def shrink_size(size, used):
    half = np.int64(size) // 2
    if half >= 2048 and used + 800 < size / 4:       # exact: sizes are powers of two
        return half
    return None
"""),
    Right("free-space-and-defaults", """\
def shrink_size(size, used, *, nosplit=gs.arch.STACK_NOSPLIT, floor=2048):
    free = size - used - nosplit
    if free > 3 * size // 4 and size // 2 >= floor:  # more than three quarters free
        return size // 2
"""),
    Right("no-floor-test", """\
def shrink_size(size, used):
    # No floor test: at 2 KiB, used + 800 < 512 never holds, so the quarter test keeps it.
    return size // 2 if used + 800 < size // 4 else None
"""),
)


EXERCISE = Exercise(
    id="07-shrink",
    title=N_("The shrink rule"),
    lesson="08-beyond-growth",
    functions=(("shrink_size", ("size", "used")),),
    reference={"shrink_size": "gostack.shrink.shrink_size"},
    aspects=(
        Aspect("halve", "the new size: half the old one", 3, _new_size, _fmt),
        Aspect("keep", "a stack that stays: None", 2, _none_when_kept, _fmt_keep),
        Aspect("threshold", "when to halve: the quarter test, with the NOSPLIT budget", 3,
               _decision, _fmt),
        Aspect("last", "the last halving: 4 KiB to 2 KiB, and no further", 2, _decision,
               _fmt),
    ),
    _cases=_shrink_cases,
    _run=_shrink_run,
    call_text=_shrink_call,
    visible_seed=108,
    zoo=ZOO,
    right=RIGHT,
)
