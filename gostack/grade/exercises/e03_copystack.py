"""Exercise 03 · copystack (lesson 05)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ...stackalloc import Stack
from ..spec import (
    WORD,
    Aspect,
    Exercise,
    as_int,
    as_words,
    draw,
    stack_base,
    word_diff,
)


def _copystack_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []
    n = 4 if visible else 8
    for k in range(n * 2):
        old_size = 2048 << draw(rng, 0, 2)
        shrink = k % 4 == 3
        new_size = old_size // 2 if shrink and old_size > 2048 else old_size * 2
        old_lo = stack_base(rng)
        new_lo = stack_base(rng)
        while abs(new_lo - old_lo) < 4 * old_size:
            new_lo = stack_base(rng)
        old_hi, new_hi = old_lo + old_size, new_lo + new_size
        used = 8 * draw(rng, 3, min(old_size, new_size) // 8 - 16)
        old_words = {}
        for _ in range(draw(rng, 6, 24)):
            if rng.random() < 0.75:  # mostly in the used part, some stale ones below it
                addr = old_hi - 8 * draw(rng, 1, used // 8)
            else:
                addr = old_lo + 8 * draw(rng, 0, (old_size - used) // 8 - 1)
            old_words[addr] = _value(rng, old_lo, old_hi)
        new_words = {}
        stale = k % 2 == 1
        if stale:  # memory reused from an earlier stack: old contents in the destination
            for _ in range(draw(rng, 2, 8)):
                new_words[new_hi - 8 * draw(rng, 1, used // 8)] = _value(rng, new_lo, new_hi)
        for _ in range(draw(rng, 0, 4)):
            new_words[new_lo + 8 * draw(rng, 0, (new_size - used) // 8 - 1)] = draw(rng, 1, 999)
        tags = ["delta", "copy", "old"] + (["stale"] if stale else [])
        cases.append({"tags": tags, "size": len(old_words) + len(new_words),
                      "args": {"old": [old_lo, old_hi, sorted(old_words.items())],
                               "new": [new_lo, new_hi, sorted(new_words.items())],
                               "used": used}})
    return cases


def _value(rng: random.Random, lo: int, hi: int) -> int:
    if rng.random() < 0.3:
        return lo + 8 * draw(rng, 0, (hi - lo) // 8 - 1)  # an address in the same stack
    return draw(rng, 0, WORD)


def _copystack_run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    old = Stack(a["old"][0], a["old"][1], {k: v for k, v in a["old"][2]})
    new = Stack(a["new"][0], a["new"][1], {k: v for k, v in a["new"][2]})
    delta = fns["copystack"](old, new, a["used"])
    return {"delta": as_int(delta, "copystack's result (the delta)"),
            "new": as_words(new.words, "new.words"), "old": as_words(old.words, "old.words")}


def _copystack_call(case: dict) -> str:
    a = case["args"]
    (olo, ohi, ow), (nlo, nhi, nw) = a["old"], a["new"]
    return (f"copystack(old=Stack({olo:#x}, {ohi:#x}, {len(ow)} words), "
            f"new=Stack({nlo:#x}, {nhi:#x}, {len(nw)} words), used={a['used']})")


def _dst(case: dict) -> tuple[int, int, int]:
    a = case["args"]
    return a["new"][1] - a["used"], a["new"][1], a["new"][1] - a["old"][1]


def _copied(case: dict, out: dict) -> list:
    lo, hi, delta = _dst(case)
    src = {addr + delta for addr, _ in case["args"]["old"][2]}
    return [w for w in out["new"] if lo <= w[0] < hi and w[0] in src]


EXERCISE = Exercise(
    id="03-copystack",
    title="copystack",
    lesson="05-copystack",
    functions=(("copystack", ("old", "new", "used")),),
    reference={"copystack": "gostack.copystack.copystack"},
    aspects=(
        Aspect("delta", "returns delta = new.hi - old.hi (negative when the new stack is lower)",
               2, lambda c, o: o["delta"]),
        Aspect("copy", "copies each used word to the same distance from hi", 4, _copied,
               word_diff),
        Aspect("stale", "memmove: stale words in the destination go; nothing from below "
               "hi - used comes along", 2, lambda c, o: o["new"], word_diff),
        Aspect("old", "copies without changing the old stack", 2,
               lambda c, o: [o["old"], _copied(c, o)],
               lambda e, g: word_diff(e[0] + e[1], g[0] + g[1])),
    ),
    _cases=_copystack_cases,
    _run=_copystack_run,
    call_text=_copystack_call,
    visible_seed=105,
)
