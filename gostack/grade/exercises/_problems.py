"""What exercises 05 and 06 share: cases that are generated programs (gostack.problems)."""

from __future__ import annotations

import random

from ...arch import MAX_STACK_DEFAULT
from ...problems import Problem, generate
from ..spec import draw


def problem_cases(kind: str, per_category: dict[str, int]):
    def make(rng: random.Random, visible: bool) -> list[dict]:
        cases = []
        for cat, count in per_category.items():
            for _ in range(count):
                p = generate(draw(rng, 0, 2**31 - 1), kind, cat)
                cases.append({"tags": problem_tags(kind, cat), "args": p.to_dict(),
                              "size": len(p.steps)})
        return cases
    return make


def problem_tags(kind: str, cat: str) -> list[str]:
    if kind == "predict":
        return [cat]
    return {"grow": ["grow", "copy", "pointers"], "huge": ["grow", "copy", "pointers"],
            "shrink": ["shrink", "pointers"], "overflow": ["overflow"]}[cat]


def problem_call(case: dict) -> str:
    p = Problem.from_dict(case["args"])
    steps = "; ".join(" ".join(step.split()) for step in p.describe_steps())
    if len(steps) > 240:
        steps = steps[:237] + "..."
    limit = "" if p.max_stack == MAX_STACK_DEFAULT else f", max_stack={p.max_stack:,}"
    return (f"problem seed {p.seed} ({p.category}{limit}): {p.entry.name} "
            f"(frame {p.entry.frame}); {steps}")


