"""Exercise 10 (findRunnable's order): the reference against a table worked out by hand from
go1.27.3's runtime/proc.go (findRunnable, globrunqget, globrunqgetbatch, stealWork,
runqsteal, randomOrder), and the cases against the rules they are meant to isolate."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e10_find_runnable import (
    reference_find_runnable,
    snapshot,
)

EX = catalog.BY_ID["10-find-runnable"]
E = [None, []]  # an empty P

# (why, snapshot, (goid, source, moved)): by hand
BY_HAND = [
    # findRunnable: "if pp.schedtick%61 == 0 && !sched.runq.empty()" -> globrunqget: one G
    ("tick 61: the global head before runnext", snapshot(61, [(7, [8])], glob=[20, 21]),
     (20, "global61", [])),
    ("tick 0 is a multiple of 61 too", snapshot(0, [(7, [])], glob=[20, 21]),
     (20, "global61", [])),
    ("tick 60: no check", snapshot(60, [(7, [])], glob=[20, 21]), (7, "runnext", [])),
    ("tick 62: no check", snapshot(62, [(None, [8, 9])], glob=[20]), (8, "runq", [])),
    ("tick 61 with an empty global queue: local", snapshot(61, [(7, [])]),
     (7, "runnext", [])),
    ("the check takes one G even when the local queue is empty",
     snapshot(61, [(None, [])], glob=[20, 21, 22, 23, 24]), (20, "global61", [])),
    ("tick 4,270,000,000 = 61 * 70,000,000", snapshot(61 * 70_000_000, [(None, [8])], glob=[20]),
     (20, "global61", [])),
    # runqget: runnext, then the ring's head
    ("runnext before the ring", snapshot(5, [(7, [8, 9])]), (7, "runnext", [])),
    ("the ring's head", snapshot(5, [(None, [8, 9, 10])]), (8, "runq", [])),
    ("this P is P1", snapshot(5, [(30, [31]), (None, [8])], me=1), (8, "runq", [])),
    # globrunqgetbatch(len(pp.runq)/2): n = min(128, size, size/gomaxprocs + 1)
    ("10 Gs, 4 Ps: 10/4 + 1 = 3", snapshot(5, [E] * 4, glob=list(range(20, 30))),
     (20, "global", [21, 22])),
    ("200 Gs, 1 P: capped at 128", snapshot(5, [E], glob=list(range(100, 300))),
     (100, "global", list(range(101, 228)))),
    ("300 Gs, 8 Ps: 300/8 + 1 = 38", snapshot(5, [E] * 8, glob=list(range(100, 400))),
     (100, "global", list(range(101, 138)))),
    ("1000 Gs, 8 Ps: 1000/8 + 1 = 126 < 128", snapshot(5, [E] * 8, glob=list(range(1000, 2000))),
     (1000, "global", list(range(1001, 1126)))),
    ("1 G, 4 Ps: it runs, nothing moves", snapshot(5, [E] * 4, glob=[20]), (20, "global", [])),
    ("3 Gs, 4 Ps: 3/4 + 1 = 1", snapshot(5, [E] * 4, glob=[20, 21, 22]), (20, "global", [])),
    # stealWork: 4 passes; randomOrder.start(i): pos i % count, inc coprimes[i/count % len]
    # 4 Ps: coprimes (1, 3). start 3 -> P3 P0 P1 P2; start 1 -> P1 P2 P3 P0;
    # start 6 -> P2 P1 P0 P3; start 7 -> P3 P2 P1 P0
    ("P3 first in the order", snapshot(5, [E, E, (None, [30]), (None, [40])],
                                       starts=[3, 0, 0, 0]), (40, "steal", [])),
    ("P2 first in the order", snapshot(5, [E, E, (None, [30]), (None, [40])],
                                       starts=[1, 0, 0, 0]), (30, "steal", [])),
    ("a ring anywhere beats a runnext met earlier",
     snapshot(5, [E, (31, []), E, (None, [40])], starts=[1, 1, 1, 1]), (40, "steal", [])),
    ("runnexts only: the last pass's order decides",
     snapshot(5, [E, (31, []), (32, []), E], starts=[1, 1, 1, 6]), (32, "steal", [])),
    ("runnexts only: the last pass starts at P3",
     snapshot(5, [E, (31, []), (32, []), (33, [])], starts=[1, 2, 2, 7]), (33, "steal", [])),
    ("3 Ps, this P is P1: start 2 -> P2 P0 P1",
     snapshot(5, [(None, [50]), E, (None, [30])], me=1, starts=[2, 0, 0, 0]),
     (30, "steal", [])),
    ("nothing anywhere: idle", snapshot(5, [E] * 4, starts=[0, 1, 2, 3]), (None, "idle", [])),
    ("one P, nothing: idle", snapshot(5, [E]), (None, "idle", [])),
]


@pytest.mark.parametrize("why, snap, want", BY_HAND, ids=[b[0][:40] for b in BY_HAND])
def test_the_reference_agrees_with_the_hand_table(why, snap, want):
    assert reference_find_runnable(snap) == want, why


@pytest.mark.parametrize("count, start, order", [
    (4, 6, (2, 1, 0, 3)), (4, 7, (3, 2, 1, 0)), (6, 13, (1, 2, 3, 4, 5, 0)),
    (6, 6, (0, 5, 4, 3, 2, 1)), (3, 2, (2, 0, 1)), (1, 12345, (0,)),
])
def test_steal_orders_follow_random_order(count, start, order):
    """randomOrder.reset(count) keeps the coprimes of count in 1..count; start(i) begins at
    i % count and steps by coprimes[i / count % len(coprimes)] (6: 1 and 5)."""
    assert snapshot(5, [E] * count, starts=[start] * 4).steal_orders[3] == order


def test_every_case_keeps_to_its_rule():
    """global61 cases hold one local G (their order inside the local queue never matters);
    the others have ticks where no off-by-one of the check fires; local cases have an
    empty global queue; batch cases an empty local queue; steal cases nothing local or
    global, and at most one G in any other ring."""
    cases = EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                      for c in EX.varied_cases(s)]
    for c in cases:
        a = c["args"]
        mine = a["ps"][a["me"]]
        tag = c["tags"][0]
        if tag == "global61":
            assert (1 if mine[0] else 0) + len(mine[1]) <= 1, c["id"]
            continue
        t = a["schedtick"]
        assert t % 61 not in (0, 60) and t % 60, c["id"]
        if tag == "local":
            assert not a["glob"] and (mine[0] or mine[1])
        elif tag == "batch":
            assert a["glob"] and not mine[0] and not mine[1]
        else:
            assert not a["glob"] and not mine[0] and not mine[1]
            assert all(len(r) <= 1 for _, r in a["ps"])


def test_the_visible_cases_hold_the_boundaries():
    v = EX.visible_cases()
    fair = [c["args"] for c in v if "global61" in c["tags"]]
    assert {0, 60, 61, 62} <= {a["schedtick"] for a in fair}
    assert any(a["schedtick"] % 61 == 0 and not a["glob"] for a in fair)
    batch = [c["args"] for c in v if "batch" in c["tags"]]
    assert any(len(a["glob"]) > 128 and len(a["ps"]) == 1 for a in batch)  # the cap
    assert any(1 < len(a["glob"]) // len(a["ps"]) + 1 < len(a["glob"]) for a in batch)


def test_memorising_the_visible_answers_fails_every_aspect():
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    outputs = [{"ok": known.get(json.dumps(c["args"]), [None, "idle", []])} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]
