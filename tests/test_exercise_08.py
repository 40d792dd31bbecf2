"""Exercise 08 (runqput and runqget with runnext): the reference against the orders go1.27.3
printed (gostack/data/sched_recorded.json, the spawn_N probes) and against a table worked
out by hand from runtime/proc.go (runqput, runqputslow, runqget)."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e08_runq import (
    FIRST_W,
    MAIN_RUNNEXT,
    RECORDED_SPAWNS,
    _ranges,
    make_p,
    reference_runqget,
    reference_runqput,
    replay,
    spawn_case,
    state,
)
from gostack.sched.realrun import load_recorded
from gostack.sched.runtime2 import UINT32, G, GStatus

EX = catalog.BY_ID["08-runq"]
RECORDED = load_recorded()["probes"]
REF = {"runqput": reference_runqput, "runqget": reference_runqget}


def _names(goids) -> list[str]:
    return [f"w{g - FIRST_W}" for g in goids if g >= FIRST_W]


def _user_output(probe: str) -> list[str]:
    return [t for t in RECORDED[probe]["output"] if t.startswith("w")]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 100, 255, 256])
def test_spawn_orders_are_the_recorded_ones(n):
    """Up to 256 goroutines nothing reaches the global queue (G5 and w0..w254 fill the ring
    exactly at 256): the gets alone give the order go1.27.3 printed, in every recorded run."""
    assert RECORDED[f"spawn_{n}"]["as_model"] == RECORDED[f"spawn_{n}"]["runs"]
    out = replay(*_spawn(n), REF["runqput"], REF["runqget"])
    assert out["global"] == []
    assert _names(g for g, _ in out["gets"]) == _user_output(f"spawn_{n}")


def _spawn(n: int) -> tuple[dict, list]:
    a = spawn_case(n)["args"]
    return a["state"], a["ops"]


@pytest.mark.parametrize("n", [257, 258, 300])
def test_overflow_sends_the_goroutines_real_go_ran_late(n):
    """From 257 goroutines on, runqputslow moves the ring's older half and the new G to the
    global queue. What go1.27.3 printed, split by where the reference left each G (the
    local queue, or the global queue), keeps each side's order: the Gs left local in the
    order runqget hands them out, the others in the global queue's order (the scheduler
    takes the global queue from its head, every 61 ticks and by batches; with one overflow
    the global queue is never overtaken by a batch of itself, as it is from 513 on)."""
    st, ops = _spawn(n)
    pp, _ = make_p(st)
    glob: list = []
    for _, goid, nxt in ops[:-1]:
        reference_runqput(pp, G(goid, "main.w", goid, status=GStatus.RUNNABLE), nxt, glob)
    local = []
    while (gp := reference_runqget(pp)[0]) is not None:
        local.append(gp.goid)
    printed = _user_output(f"spawn_{n}")
    assert set(printed) == set(_names(local)) | set(_names(g.goid for g in glob))
    assert [w for w in printed if w in set(_names(local))] == _names(local)
    assert [w for w in printed if w in set(_names(g.goid for g in glob))] == \
        _names(g.goid for g in glob)
    assert glob[0].goid == MAIN_RUNNEXT and _names([glob[1].goid]) == ["w0"]


# (starting state, operations, goids handed out with inheritTime, global queue): by hand
BY_HAND = [
    ("three puts with next: the newest first, then the others in order",
     state(), [["put", 1, True], ["put", 2, True], ["put", 3, True], ["drain"]],
     [[3, True], [1, False], [2, False], [0, False]], []),
    ("a put without next queues behind the ring, not behind runnext",
     state(9, [4]), [["put", 5, False], ["drain"]],
     [[9, True], [4, False], [5, False], [0, False]], []),
    ("the displaced runnext goes to the tail, after what was queued",
     state(9, [4]), [["put", 5, True], ["drain"]],
     [[5, True], [4, False], [9, False], [0, False]], []),
    ("255 in the ring: the 256th still fits",
     state(0, list(range(100, 355))), [["put", 400, False]],
     [], []),
    ("256 in the ring: 100..227 (the older half) and the new G go to the global tail",
     state(0, list(range(100, 356)), glob=[7]), [["put", 400, False], ["get"]],
     [[228, False]], [7, *range(100, 228), 400]),
    ("the counters wrap at 2**32: head 2**32 - 2, tail 1",
     state(0, [20, 21, 22], head=UINT32 - 1), [["put", 23, False], ["drain"]],
     [[20, False], [21, False], [22, False], [23, False], [0, False]], []),
]


@pytest.mark.parametrize("why, st, ops, gets, glob", BY_HAND, ids=[b[0][:30] for b in BY_HAND])
def test_the_reference_agrees_with_the_hand_table(why, st, ops, gets, glob):
    out = replay(st, ops, reference_runqput, reference_runqget)
    assert out == {"gets": gets, "global": glob}, why


def test_the_visible_cases_hold_the_recorded_probes_and_the_boundaries():
    v = EX.visible_cases()
    names = {c["args"]["name"] for c in v}
    assert {f"spawn_{n}" for n in RECORDED_SPAWNS} <= names
    overflow = [c["args"]["state"] for c in v if "overflow" in c["tags"]]
    assert any(len(s["ring"]) == 255 for s in overflow)  # the off-by-one at 256
    assert any(s["head"] + len(s["ring"]) > UINT32 for s in overflow)  # wraps at 2**32
    assert any(s["global"] for s in overflow)  # a batch goes behind what waits there
    ring = [c["args"]["state"] for c in v if "ring" in c["tags"]]
    assert any(s["head"] % 256 + len(s["ring"]) >= 254 for s in ring)


def test_every_case_keeps_to_its_rule():
    """runnext cases never fill the ring; inherit cases only get; ring cases never put with
    next; overflow cases start with a full ring, or one short of full."""
    cases = EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                      for c in EX.varied_cases(s)]
    for c in cases:
        st, ops = c["args"]["state"], c["args"]["ops"]
        puts = [op for op in ops if op[0] == "put"]
        tag = c["tags"][0]
        if tag == "runnext":
            assert len(st["ring"]) + len(puts) + 1 < 255, c["id"]
        elif tag == "inherit":
            assert not puts
        elif tag == "ring":
            assert not any(op[2] for op in puts) and not st["runnext"]
        else:
            assert len(st["ring"]) >= 255 and not any(op[2] for op in puts)


def test_memorising_the_visible_answers_fails_every_aspect():
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    outputs = [{"ok": known.get(json.dumps(c["args"]), {"gets": [], "global": []})}
               for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]


def test_queue_contents_read_in_the_right_number():
    assert _ranges([]) == "[] (empty)"
    assert _ranges([7]) == "[G7] (1 G)"
    assert _ranges([6, 7, 8, 10]) == "[G6–G8, G10] (4 Gs)"
