"""Exercise 07 · the shrink rule (lesson 08)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import STACK_NOSPLIT
from ..spec import (
    Aspect,
    Exercise,
    as_opt_int,
    draw,
    pick,
    same,
)


def _shrink_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases = []

    def add(tag: str, size: int, used: int) -> None:
        cases.append({"tags": [tag], "args": [size, used], "size": size.bit_length()})

    if visible:
        add("halve", 131072, 120)  # lesson 08: 128 KiB halves after the recursion returned
        add("keep", 8192, 8192 // 4 - STACK_NOSPLIT)
        add("keep", 8192, 8192 // 4 - STACK_NOSPLIT - 8)
        add("floor", 4096, 40)
        add("floor", 2048, 40)
    n = 4 if visible else 8
    for _ in range(n):
        size = 2048 << draw(rng, 1, 14)
        add("halve", size, 8 * draw(rng, 0, max(0, (size // 4 - STACK_NOSPLIT) // 8 - 1)))
    for _ in range(n):
        size = 2048 << draw(rng, 1, 14)
        edge = size // 4 - STACK_NOSPLIT
        add("keep", size, max(0, edge + 8 * pick(rng, (-1, 0, 0, 1, 50))))
        add("keep", size, 8 * draw(rng, max(0, edge // 8), size // 8))
    for _ in range(n // 2):
        add("floor", 2048, 8 * draw(rng, 0, 60))
        add("floor", 4096, 8 * draw(rng, 0, 200))
        add("floor", 4096, 8 * draw(rng, 0, 20))
    return cases


def _shrink_run(fns: dict[str, Callable], case: dict) -> int | None:
    size, used = case["args"]
    return as_opt_int(fns["shrink_size"](size, used), "shrink_size's result")


EXERCISE = Exercise(
    id="07-shrink",
    title="The shrink rule",
    lesson="08-beyond-growth",
    functions=(("shrink_size", ("size", "used")),),
    reference={"shrink_size": "gostack.shrink.shrink_size"},
    aspects=(
        Aspect("halve", "halves when used + 800 is under a quarter of the stack", 4, same),
        Aspect("keep", "keeps the stack otherwise (exactly a quarter keeps it)", 3, same),
        Aspect("floor", "never below 2 KiB: a 4 KiB stack may halve, a 2 KiB one never", 3,
               same),
    ),
    _cases=_shrink_cases,
    _run=_shrink_run,
    call_text=lambda c: f"shrink_size(size={c['args'][0]}, used={c['args'][1]})",
    visible_seed=108,
)
