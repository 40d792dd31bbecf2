"""Exercise 02 · newstack's new size (lesson 04).

Every case is a state in which the runtime calls newstack: ``used = hi - E`` leaves the
function's prologue check failing, so the room below E, ``old_size - used``, is at most 928
bytes for a frame of at most 128 bytes and at most ``frame + 800`` above (the check compares
E - (frame - 128) with lo + 928); E is at least a word above lo (newstack throws "split stack
overflow" otherwise) and at least 40 bytes below hi (the goroutine's entry). The old size is a
power of two of at least 2 KiB, never over the limit.

Aspects and the cases where their rule flips:

* once: one doubling is enough, including when the frame and the guard fit exactly
  (``2 * old - used == frame + 928``: a strict test doubles again);
* fit: two doublings or more, including cases where one doubling would do without the guard
  (or with 800 in its place) or without counting ``used``; never exactly fitting at any step;
* exact: one doubling to exactly ``max_stack``, which is allowed;
* limit: one doubling past ``max_stack``, or past the 2,000,000,000-byte ceiling when
  ``max_stack`` is higher (the error names the smaller of the two), and sizes allowed under
  a ``max_stack`` above the ceiling.

A wrong first size (quadrupling, adding) breaks every aspect: it is no zoo entry.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import (
    MAX_STACK_CEILING,
    MAX_STACK_DEFAULT,
    STACK_GUARD,
    STACK_NOSPLIT,
    STACK_SMALL,
)
from ...errors import StackOverflow
from ...i18n import N_
from ..spec import (
    Aspect,
    Exercise,
    Right,
    Wrong,
    as_int,
    draw,
    pick,
    same,
)

ENTRY_USED = 40  # hi - E of a goroutine's entry function: newproc's 32 bytes + the return PC


def max_room(frame: int) -> int:
    """The most room below E with which the prologue check still fails."""
    return STACK_GUARD if frame <= STACK_SMALL else frame + STACK_NOSPLIT


def reachable(old: int, used: int, frame: int, limit: int) -> bool:
    """A state in which newstack runs (tests check every case with this)."""
    room = old - used
    return (old >= 2048 and old & (old - 1) == 0 and used % 8 == 0 and frame % 8 == 0
            and ENTRY_USED <= used and 8 <= room <= max_room(frame)
            and old <= min(limit, MAX_STACK_CEILING))


def sizes_tried(old: int, used: int, frame: int) -> list[int]:
    size = 2 * old
    tried = [size]
    while size - used < frame + STACK_GUARD:
        size *= 2
        tried.append(size)
    return tried


def _newstack_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tag: str, old: int, used: int, frame: int, limit: int = MAX_STACK_DEFAULT,
            first: bool = False) -> None:
        assert reachable(old, used, frame, limit), (tag, old, used, frame, limit)
        cases.append({"tags": [tag], "args": [old, used, frame, limit],  # worked examples first
                      "size": 0 if first else old.bit_length() + frame.bit_length()})

    def never_exact(old: int, used: int, frame: int) -> bool:
        return all(s - used != frame + STACK_GUARD for s in sizes_tried(old, used, frame))

    if visible:
        add("once", 2048, 1144, 168)  # lesson 03's probe: the 7th call of the recursion
        add("once", 4096, 3160, 168)
        add("once", 2048, 1168, 2000)  # 4,096 - 1,168 = 2,928 = 2,000 + 928: it fits exactly
        add("once", 8192, 5392, 2048)
        add("fit", 2048, 1144, 10280, first=True)  # facts sheet's recBig, where call 7 was
        add("fit", 2048, 88, 10272)  # lesson 04's recBig: 2 KiB -> 16 KiB at call 1
        add("fit", 2048, 1176, 2000)  # one word short of fitting: 8 KiB
        add("fit", 2048, 1248, 2000)  # 848 bytes left for the guard: 8 KiB
        add("fit", 4096, 1600, 7000)  # 8,192 >= 7,928, but not below 1,600 bytes in use
        add("exact", 16384, 15424, 168, 32768)
        add("exact", 1 << 29, (1 << 29) - 960, 168, 1 << 30)
        add("limit", 16384, 15912, 168, 30000)
        add("limit", 32768, 31800, 168, 32768)  # lesson 04: the 32 KiB limit, call 190
        add("limit", 1 << 29, (1 << 29) - 960, 168)  # 512 MiB -> 1 GiB: over 1,000,000,000
        add("limit", 1 << 30, (1 << 30) - 960, 168, 4_000_000_000)  # the ceiling
        add("limit", 1 << 29, (1 << 29) - 960, 168, 4_000_000_000)  # 1 GiB: allowed
    n = 5 if visible else 10
    for _ in range(n):
        old = 2048 << draw(rng, 0, 10)
        while True:  # one doubling, with room to spare
            frame = 8 * draw(rng, 0, 512)
            used = old - 8 * draw(rng, 1, max_room(frame) // 8)
            if used >= ENTRY_USED and 2 * old - used > frame + STACK_GUARD:
                break
        add("once", old, used, frame)
        old = 2048 << draw(rng, 0, 6)
        frame = 8 * draw(rng, (old - 920) // 8 + 1, (2 * old - 968) // 8)
        add("once", old, old - (frame + STACK_GUARD - old), frame)  # exactly enough
    for i in range(n):
        old = 2048 << draw(rng, 0, 8)
        kind = i % 4
        while True:
            if kind == 0:  # a huge frame: several doublings
                frame = 8 * draw(rng, old // 8, 4 * old // 8)
                used = old - 8 * draw(rng, 1, min(old - ENTRY_USED, max_room(frame)) // 8)
            elif kind == 1:  # one doubling fits everything but part of the guard
                frame = 8 * draw(rng, (old - 120) // 8, (2 * old - 968) // 8)
                short = 8 * draw(rng, 1, STACK_GUARD // 8 - 1)
                used = old - (frame + STACK_GUARD - old - short)
            elif kind == 2:  # ... but the guard's StackSmall part (800 would fit)
                frame = 8 * draw(rng, (old - 120) // 8, (2 * old - 968) // 8)
                short = 8 * draw(rng, 1, STACK_SMALL // 8 - 1)
                used = old - (frame + STACK_GUARD - old - short)
            else:  # twice the old size holds frame + guard, but not below what is in use
                frame = 8 * draw(rng, (old - STACK_GUARD) // 8 + 1, (2 * old - STACK_GUARD) // 8)
                used = old - 8 * draw(rng, 1, (frame + STACK_GUARD - old) // 8 - 1)
            if (reachable(old, used, frame, MAX_STACK_DEFAULT) and never_exact(old, used, frame)
                    and len(sizes_tried(old, used, frame)) >= 2):
                break
        add("fit", old, used, frame)
    for _ in range(n):
        k = draw(rng, 1, 14)
        old = 2048 << k
        add("exact", old // 2, old // 2 - 8 * draw(rng, 5, 100), 8 * draw(rng, 0, 16), old)
        step = 8 * draw(rng, 1, old // 16)
        over = pick(rng, (old, old + step, 2 * old - step))
        add("limit", old, old - 8 * draw(rng, 5, 100), 8 * draw(rng, 0, 16), over)
        big = pick(rng, (3_000_000_000, 4_000_000_000, 1 << 40))
        add("limit", 1 << 30, (1 << 30) - 8 * draw(rng, 5, 100), 8 * draw(rng, 0, 16), big)
        add("limit", 1 << 29, (1 << 29) - 8 * draw(rng, 5, 100), 8 * draw(rng, 0, 16),
            pick(rng, (MAX_STACK_DEFAULT, big)))
    return cases


def _newstack_run(fns: dict[str, Callable], case: dict) -> dict:
    old, used, frame, limit = case["args"]
    try:
        size = fns["new_size"](old, used, frame, limit)
    except StackOverflow as e:  # what the report prints (spec.fmt shows "raises" as is)
        return {"raises": f"StackOverflow({as_int(e.limit, 'the limit in StackOverflow')})"}
    return {"size": as_int(size, "new_size's result")}


def _newstack_call(case: dict) -> str:
    old, used, frame, limit = case["args"]
    if {"exact", "limit"} & set(case["tags"]):
        note = f"2 * old_size = {2 * old:,}"
    else:
        note = f"used + frame + 928 = {used + frame + STACK_GUARD:,}"
    return (f"new_size(old_size={old}, used={used}, frame={frame}, max_stack={limit})"
            f"  # {note}")


def _outcome(x: dict) -> str:
    return f"raise gs.{x['raises']}" if "raises" in x else f"{x['size']:,}"


def _newstack_fmt(expected: dict, got: dict) -> str:
    return f"expected: {_outcome(expected)}\ngot:      {_outcome(got)}"


# --- the bug zoo --------------------------------------------------------------------------

_HEAD = """\
CEILING = 2_000_000_000


def new_size(old_size, used, frame, max_stack):
"""
_LIMIT = """\
    limit = min(max_stack, CEILING)
    if size > limit:
        raise gs.StackOverflow(limit)
    return size
"""

ZOO = (
    Wrong("single-doubling", ("fit",), _HEAD + """\
    size = 2 * old_size                               # and never more
""" + _LIMIT),
    Wrong("strict-fit-test", ("once",), _HEAD + """\
    size = 2 * old_size
    while size - used <= frame + gs.STACK_GUARD:      # exactly enough is enough
        size *= 2
""" + _LIMIT),
    Wrong("no-guard", ("fit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame:
        size *= 2
""" + _LIMIT),
    Wrong("nosplit-for-guard", ("fit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + 800:                  # StackNosplit, not the whole guard
        size *= 2
""" + _LIMIT),
    Wrong("forgets-used", ("fit",), _HEAD + """\
    size = 2 * old_size
    while size < frame + gs.STACK_GUARD:
        size *= 2
""" + _LIMIT),
    Wrong("doubles-the-frame", ("fit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size += 2 * frame                             # grows by twice the frame
""" + _LIMIT),
    Wrong("limit-itself-refused", ("exact",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    limit = min(max_stack, CEILING)
    if size >= limit:
        raise gs.StackOverflow(limit)
    return size
"""),
    Wrong("no-ceiling", ("limit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    if size > max_stack:
        raise gs.StackOverflow(max_stack)
    return size
"""),
    Wrong("names-max-stack", ("limit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    if size > max_stack or size > CEILING:
        raise gs.StackOverflow(max_stack)             # the message names the wrong limit
    return size
"""),
    Wrong("returns-the-error", ("limit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    limit = min(max_stack, CEILING)
    if size > limit:
        return gs.StackOverflow(limit)                # returned, not raised
    return size
"""),
    Wrong("clamps-to-the-limit", ("limit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    return min(size, max_stack, CEILING)              # returns a size instead of raising
"""),
    Wrong("another-exception", ("limit",), _HEAD + """\
    size = 2 * old_size
    while size - used < frame + gs.STACK_GUARD:
        size *= 2
    limit = min(max_stack, CEILING)
    if size > limit:
        raise RecursionError(f"goroutine stack exceeds {limit}-byte limit")
    return size
"""),
)

RIGHT = (
    Right("bit-length", """\
def new_size(old_size, used, frame, max_stack):
    need = used + frame + gs.STACK_GUARD
    size = max(2 * old_size, 1 << (need - 1).bit_length())  # the power of two that holds it
    limit = min(max_stack, 2_000_000_000)
    if size > limit:
        raise gs.StackOverflow(limit)
    return size
"""),
    Right("shift-loop-numpy", """\
import numpy as np


def new_size(old_size, used, frame, max_stack):
    size = np.int64(old_size) << 1
    while size - used < frame + gs.STACK_GUARD:
        size <<= 1
    limit = np.int64(min(max_stack, 2 * 10**9))
    if size > limit:
        raise gs.StackOverflow(int(limit), new_size=int(size))
    return size
"""),
    Right("log2", """\
import math


def new_size(old_size, used, frame, max_stack):
    doublings = max(1, math.ceil(math.log2((used + frame + gs.STACK_GUARD) / old_size)))
    size = old_size << doublings
    for limit in sorted((max_stack, 2_000_000_000)):
        if size > limit:
            raise gs.StackOverflow(limit)
    return size
"""),
    Right("recursive-helper-args", """\
def grow(size, used, need):
    return size if size - used >= need else grow(2 * size, used, need)


def new_size(*args):
    old_size, used, frame, max_stack = args
    size = grow(2 * old_size, used, frame + gs.STACK_GUARD)
    limit = max_stack if max_stack < 2_000_000_000 else 2_000_000_000
    if not size <= limit:
        raise gs.StackOverflow(limit)
    return size
"""),
)


EXERCISE = Exercise(
    id="02-newstack",
    title=N_("newstack's new size"),
    lesson="04-newstack",
    functions=(("new_size", ("old_size", "used", "frame", "max_stack")),),
    reference={"new_size": "gostack.newstack.new_size"},
    aspects=(
        Aspect("once", "one doubling when the frame fits (exactly fitting is enough)", 1,
               same, _newstack_fmt),
        Aspect("fit", "more doublings until the frame fits below what is in use", 3, same,
               _newstack_fmt),
        Aspect("exact", "a stack of exactly max_stack is allowed", 1, same, _newstack_fmt),
        Aspect("limit", "past the limit (max_stack or the ceiling): gs.StackOverflow", 5,
               same, _newstack_fmt),
    ),
    _cases=_newstack_cases,
    _run=_newstack_run,
    call_text=_newstack_call,
    visible_seed=104,
    notes=f"maxstackceiling = {MAX_STACK_CEILING:,}",
    zoo=ZOO,
    right=RIGHT,
)
