"""Exercise 02 · newstack's new size (lesson 04)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import (
    MAX_STACK_CEILING,
    MAX_STACK_DEFAULT,
    STACK_GUARD,
)
from ...errors import StackOverflow
from ..spec import (
    Aspect,
    Exercise,
    as_int,
    draw,
    pick,
    same,
)


def _newstack_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tag: str, old: int, used: int, frame: int, limit: int = MAX_STACK_DEFAULT) -> None:
        cases.append({"tags": [tag], "args": [old, used, frame, limit],
                      "size": old.bit_length() + frame.bit_length()})

    if visible:
        add("double", 2048, 1144, 168)  # lesson 04: the 7th call of the 168-byte recursion
        add("double", 4096, 3160, 168)
        add("fit", 2048, 1144, 10280)  # a huge frame: 2048 -> 16384 in one newstack
        add("boundary", 2048, 2048 + 2048 - 928 - 1000, 1000)
        add("boundary", 2048, 2048 + 2048 - 928 - 1000, 1008)
        add("overflow", 16384, 15000, 168, 32768)
        add("overflow", 32768, 31000, 168, 32768)
        add("overflow", 1 << 29, (1 << 29) - 1000, 168)
        add("ceiling", 1 << 30, (1 << 30) - 1000, 168, 4_000_000_000)
    n = 5 if visible else 8
    for _ in range(n):
        old = 2048 << draw(rng, 1, 12)
        frame = 8 * draw(rng, 0, 64)
        add("double", old, old - 8 * draw(rng, 1, 200), frame)
    for _ in range(n):
        old = 2048 << draw(rng, 0, 8)
        frame = 8 * draw(rng, old // 8, 4 * old // 8)
        add("fit", old, old - 8 * draw(rng, 1, 100), frame)
    for _ in range(n - 2):
        old = 2048 << draw(rng, 0, 6)
        used = old - 8 * draw(rng, 1, 100)
        fit = 2 * old - used - STACK_GUARD  # the largest frame one doubling takes
        if fit >= 0:
            add("boundary", old, used, fit)
            add("boundary", old, used, fit + 8)
    for _ in range(n):
        k = draw(rng, 3, 12)
        limit = pick(rng, (2048 << k, (2048 << k) + 8 * draw(rng, 1, 1000), MAX_STACK_DEFAULT))
        old = 1 << (limit.bit_length() - 1) if limit < MAX_STACK_DEFAULT else 1 << 29
        if draw(rng, 0, 1):
            old //= 2  # one doubling to exactly the limit (or under it): allowed
        add("overflow", old, old - 8 * draw(rng, 1, 100), 8 * draw(rng, 0, 64), limit)
    for _ in range(n // 2):
        old = pick(rng, (1 << 29, 1 << 30))
        add("ceiling", old, old - 8 * draw(rng, 1, 100), 8 * draw(rng, 0, 64),
            pick(rng, (3_000_000_000, 4_000_000_000, 1 << 40)))
    return cases


def _newstack_run(fns: dict[str, Callable], case: dict) -> dict:
    old, used, frame, limit = case["args"]
    try:
        size = fns["new_size"](old, used, frame, limit)
    except StackOverflow:
        return {"overflow": True}
    return {"size": as_int(size, "new_size's result")}


def _newstack_call(case: dict) -> str:
    old, used, frame, limit = case["args"]
    return f"new_size(old_size={old}, used={used}, frame={frame}, max_stack={limit})"


EXERCISE = Exercise(
    id="02-newstack",
    title="newstack's new size",
    lesson="04-newstack",
    functions=(("new_size", ("old_size", "used", "frame", "max_stack")),),
    reference={"new_size": "gostack.newstack.new_size"},
    aspects=(
        Aspect("double", "doubles the stack when the frame fits", 2, same),
        Aspect("fit", "keeps doubling until used + frame + 928 fits (huge frames)", 3, same),
        Aspect("boundary", "the fit test: size - used >= frame + 928 is enough", 1, same),
        Aspect("overflow", "raises StackOverflow past max_stack; exactly max_stack is allowed",
               3, same),
        Aspect("ceiling", "raises StackOverflow past the 2,000,000,000-byte ceiling", 1, same),
    ),
    _cases=_newstack_cases,
    _run=_newstack_run,
    call_text=_newstack_call,
    visible_seed=104,
    notes=f"maxstackceiling = {MAX_STACK_CEILING:,}",
)
