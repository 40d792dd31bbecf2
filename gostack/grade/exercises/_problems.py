"""What exercises 05 and 06 share: cases that are generated programs (gostack.problems).

A case is the plain data of one :class:`gostack.problems.Problem`, drawn from a *pool* of
seeds per category. The pools are fixed lists, vetted against the exercise's bug zoo (see
tests/test_exercise_05.py and test_exercise_06.py): on every pooled program each known
wrong answer shows up under its own rule only, so the visible, hidden and per-student cases
all blame the same rule for the same bug. Every case names its seed, kind and category, so
one pasted line regenerates exactly that program: ``pb.generate(seed, kind, category)``.
"""

from __future__ import annotations

import random

from ...arch import MAX_STACK_DEFAULT
from ...i18n import _
from ...problems import Problem, generate
from ..spec import draw


def pooled_cases(kind: str, pools: dict[str, list[int]], visible: dict[str, list[int]],
                 hidden_per_category: int, tags: dict[str, list[str]]):
    """A case generator: the ``visible`` seeds (the boundary cases the check cell shows),
    or ``hidden_per_category`` other seeds of each category's pool, drawn with ``rng``."""

    def make(rng: random.Random, is_visible: bool) -> list[dict]:
        cases = []
        for cat, pool in pools.items():
            if is_visible:
                seeds = list(visible.get(cat, ()))
            else:
                rest = [s for s in pool if s not in visible.get(cat, ())]
                seeds = []
                while len(seeds) < min(hidden_per_category, len(rest)):
                    s = rest[draw(rng, 0, len(rest) - 1)]
                    if s not in seeds:
                        seeds.append(s)
            for seed in seeds:
                p = generate(seed, kind, cat)
                cases.append({"tags": list(tags[cat]), "args": p.to_dict(),
                              "size": len(p.steps)})
        return cases

    return make


def regenerate(case: dict) -> str:
    """The expression that rebuilds the case's program: ``pb.generate(seed, kind, cat)``."""
    a = case["args"]
    return f'pb.generate({a["seed"]}, "{a["kind"]}", "{a["category"]}")'


def describe(case: dict) -> str:
    """The program in one line, whole: seed, category, limit, entry and every step group."""
    p = Problem.from_dict(case["args"])
    steps = "; ".join(" ".join(step.split()) for step in p.describe_steps())
    limit = "" if p.max_stack == MAX_STACK_DEFAULT else f", max_stack={p.max_stack:,}"
    return (_("program {call}: ").format(call=regenerate(case) + limit)
            + _("{entry} (frame {frame}) at call 0; {steps}").format(
                entry=p.entry.name, frame=p.entry.frame, steps=steps))

