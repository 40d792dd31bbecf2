"""Exercise 01 · the prologue check (lesson 03)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import (
    STACK_BIG,
    STACK_GUARD,
    STACK_PREEMPT,
)
from ..spec import (
    Aspect,
    Exercise,
    as_bool,
    draw,
    pick,
    same,
    stack_base,
)


def _prologue_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tags: str, sp: int, frame: int, guard: int) -> None:
        cases.append({"tags": tags.split(), "args": [sp, frame, guard], "size": frame})

    lo = stack_base(rng)
    guard = lo + STACK_GUARD
    if visible:  # the worked examples of lesson 03
        add("small", guard, 56, guard)
        add("small", guard + 8, 56, guard)
        add("small", guard + 8, 128, guard)
        add("medium", guard + 168 - 128, 168, guard)
        add("medium", guard + 168 - 128 + 8, 168, guard)
        add("medium", guard + STACK_BIG - 128 + 8, STACK_BIG, guard)
        add("huge", guard + 10280 - 128, 10280, guard)
        add("huge", guard + 10280 - 128 + 8, 10280, guard)
        add("underflow", 0x800, 100_000, 0x400)
        add("preempt", guard + 4096, 56, STACK_PREEMPT)
    n = 6 if visible else 10
    below, above = (-64, -2, -1, 0, 0), (1, 1, 2, 64)  # in words from the boundary
    for i in range(n):  # alternate sides, so that no constant answer passes
        d = 8 * pick(rng, below if i % 2 else above)
        add("small", guard + d, 8 * draw(rng, 0, 16), guard)
        f = 8 * draw(rng, 17, 512)
        add("medium", guard + f - 128 + d, f, guard)
        f = 8 * draw(rng, 513, 25_000)
        add("huge underflow", guard + f - 128 + d, f, guard)
    for _ in range(n):  # SP below frame-128: SUBQ borrows, JCS goes to morestack
        f = 8 * draw(rng, 513, 25_000)
        g = 8 * draw(rng, 0, 512)
        add("underflow", 8 * draw(rng, 0, (f - 128) // 8 - 1), f, g)
        add("underflow", f - 128 + g + 8 * draw(rng, 1, 64), f, g)  # no borrow, and above
    for _ in range(n // 2 + 1):  # preempt: every checked prologue fails, whatever SP is
        f = pick(rng, (8 * draw(rng, 0, 16), 8 * draw(rng, 17, 512), 8 * draw(rng, 513, 9000)))
        add("preempt", guard + 8 * draw(rng, 0, 4000) + f, f, STACK_PREEMPT)
        f = 8 * draw(rng, 0, 512)
        add("preempt", guard + max(0, f - 128) + 8 * draw(rng, 1, 64), f, guard)
    return cases


def _prologue_run(fns: dict[str, Callable], case: dict) -> bool:
    sp, frame, guard = case["args"]
    return as_bool(fns["morestack_needed"](sp, frame, guard), "morestack_needed's result")


def _prologue_call(case: dict) -> str:
    sp, frame, guard = case["args"]
    g = "stackPreempt" if guard == STACK_PREEMPT else f"{guard:#x}"
    return f"morestack_needed(sp={sp:#x}, frame={frame}, stackguard0={g})"


EXERCISE = Exercise(
    id="01-prologue",
    title="The prologue check",
    lesson="03-prologue",
    functions=(("morestack_needed", ("sp", "frame", "stackguard0")),),
    reference={"morestack_needed": "gostack.prologue.morestack_needed"},
    aspects=(
        Aspect("small", "small frames (<= 128 bytes): SP <= stackguard0", 2, same),
        Aspect("medium", "medium frames (129..4096): SP - (frame - 128) <= stackguard0", 2,
               same),
        Aspect("huge", "huge frames (> 4096): the same compare after SUBQ", 2, same),
        Aspect("underflow", "huge frames: when SUBQ would borrow, go to morestack (JCS)", 2,
               same),
        Aspect("preempt", "unsigned compare: stackguard0 = stackPreempt fails every check", 2,
               same),
    ),
    _cases=_prologue_cases,
    _run=_prologue_run,
    call_text=_prologue_call,
    visible_seed=103,
)
