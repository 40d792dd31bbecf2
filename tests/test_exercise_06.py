"""Exercise 06's cases against answers worked out by hand, its pools against its zoo, and the
printed rerun line against the documented tools (pb.show, python -m gostack.problems)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gostack.problems as pb
from gostack import exercises as ex
from gostack.grade import catalog
from gostack.grade.exercises import e06_predict as e06

EX = catalog.BY_ID["06-predict-the-trace"]

# Offsets from hi. The entry's E is 40 below hi (newproc's 32 bytes and a return address);
# a call's E is its caller's SP + 8; SP = E + frame. A prologue with frame F fails when
# E + max(0, F - 128) >= size - 928, and newstack doubles until E + F + 928 fits.
HAND = {
    # recursion: entry (frame 96), parse (frame 104) x225. E = 144 + 112 (k - 1).
    # 1,120: k = 10 (E = 1,152); 3,168: k = 28 (E = 3,168: exactly on the boundary);
    # 7,264: k = 65 (E = 7,312); 15,456: k = 138 (E = 15,488); 31,840 is never reached
    # (call 225: E = 25,232).
    (286431159, "recursion"): [[10, 4096], [28, 8192], [65, 16384], [138, 32768]],
    # huge: entry (40), sort (96) x36, load (23,736), sort x41, load x2. Sort's E =
    # 88 + 104 (k - 1): k = 11 (1,128 >= 1,120), k = 31 (3,208 >= 3,168). Call 37: E =
    # 3,832 needs 3,832 + 23,736 + 928 = 28,496: two doublings, 8,192 -> 32,768. Sorts
    # 38-78 end at E = 27,576 + 104 * 40 = 31,736 < 31,840. Call 79: E = 31,840 needs
    # 56,504: 65,536. Call 80: E = 55,584 needs 80,248: 131,072.
    (1692715624, "huge"): [[11, 4096], [31, 8192], [37, 32768], [79, 65536],
                           [80, 131072]],
    # entry: entry frame 7,168: 40 + 7,040 >= 1,120 at call 0; 40 + 7,168 + 928 = 8,136
    # needs 8,192. fold (120): E = 7,216 < 7,264. merge (824) at call 2: E = 7,344,
    # 7,344 + 696 >= 7,264: 16,384. Merges up to call 9 stay below 15,456 - 696; splits (56)
    # from E = 14,000 by 64: call 33 (E = 15,472 >= 15,456): 32,768. After the return the
    # merges start at E = 17,584 and end at 24,240: far below 31,144.
    (454906841, "entry"): [[0, 8192], [2, 16384], [33, 32768]],
    # returns: entry (80), sort (136) x49, 47 returns, eval (80) x76. Sort's E = 128 +
    # 144 (k - 1), extra 8: k = 8 (1,136 + 8 >= 1,120), k = 23 (3,296); the deepest, call
    # 49, E = 7,040 + 8 < 7,264: no third growth. The returns leave SP at sort 2's:
    # 272 + 136 = 408. Evals from E = 416 by 88 end at 7,016 < 7,264: no growth. (Without
    # popping, SP stays at 7,176 and eval 51 grows to 16,384.)
    (435715264, "returns"): [[8, 4096], [23, 8192]],
}


@pytest.mark.parametrize("key", list(HAND), ids=[f"{c}-{s}" for s, c in HAND])
def test_reference_matches_the_hand_answers(key):
    seed, category = key
    case = {"tags": [], "args": pb.generate(seed, "predict", category).to_dict()}
    assert catalog.reference_outputs(EX, [case])[0] == HAND[key]


def test_the_hand_cases_are_visible():
    seeds = {(c["args"]["seed"], c["args"]["category"]) for c in EX.visible_cases()}
    assert set(HAND) <= seeds


def _zoo() -> list:
    out = []
    for w in EX.zoo:
        ns: dict = {}
        exec(w.code, ns)
        out.append((w, ns["predict"]))
    return out


def _rights() -> list:
    out = []
    for r in EX.right:
        ns: dict = {}
        exec(r.code, ns)
        out.append(ns["predict"])
    return out


@pytest.mark.parametrize("category", list(e06.POOLS))
def test_every_pooled_problem_blames_the_right_rule(category):
    """Visible, hidden and per-student cases all come from the pools: on every pooled
    problem, each wrong answer changes its own rule's view only, the right ones are right."""
    pool = e06.POOLS[category]
    assert len(set(pool)) == len(pool) >= 20
    (tag,) = e06.TAGS[category]
    aspect = next(a for a in EX.aspects if a.tag == tag)
    zoo, rights = _zoo(), _rights()
    for seed in pool:
        case = {"tags": [tag], "args": pb.generate(seed, "predict", category).to_dict()}
        want = catalog.reference_outputs(EX, [case])[0]
        assert want, "a problem whose stack never grows tells nothing"
        for wrong, fn in zoo:
            got = EX.run({"predict": fn}, case)
            if tag not in wrong.breaks:
                assert aspect.project(case, got) == aspect.project(case, want), (
                    seed, wrong.name)
        for fn in rights:
            assert EX.run({"predict": fn}, case) == want, seed


def test_the_printed_line_regenerates_the_same_problem(capsys):
    """The failing case's line, pb.show with the same seed and category and the command
    line all give the very problem that failed, described in full."""
    ns: dict = {}
    exec(EX.zoo[0].code, ns)
    ex.check_predict(ns["predict"])
    out = capsys.readouterr().out
    case = next(c for c in EX.visible_cases() if c["args"]["category"] == "recursion")
    seed = case["args"]["seed"]
    line = f'predict(pb.generate({seed}, "predict", "recursion"))'
    assert f"reproduce: {line}" in out and "…" not in out
    problem = pb.Problem.from_dict(case["args"])
    assert eval(line[len("predict("):-1], {"pb": pb}) == problem
    for step in problem.describe_steps():
        assert " ".join(step.split()) in out
    pb.show(seed, kind="predict", category="recursion")
    shown = capsys.readouterr().out
    assert shown == problem.question() + "\n"
    run = subprocess.run([sys.executable, "-m", "gostack.problems", "-s", str(seed),
                          "--category", "recursion"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and run.stdout == shown


def test_a_seed_alone_keeps_its_old_problem():
    """Naming the category is new; a seed alone still picks the problem it always did
    (seed 7 is the notebook's practice problem)."""
    assert pb.generate(7).category == "mixed"
    assert pb.generate(7).answer()[0] == (5, 4096)
