"""Exercise 11 (stealing half): the reference against a table worked out by hand from
go1.27.3's runtime/proc.go (runqgrab: n = t - h; n = n - n/2, from the head, runnext only
when n == 0 and stealRunNextG; runqsteal: the last grabbed is returned, runqtail = t + n - 1),
and the cases against the rules they are meant to isolate."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e11_steal_half import reference_runqsteal, side, steal
from gostack.sched.runtime2 import UINT32

EX = catalog.BY_ID["11-steal-half"]
R = list(range(100, 110))  # G100..G109

# (why, victim, thief, steal_runnext, expected: gp, thief ring, thief tail, victim ring,
#  victim head, victim runnext): by hand
BY_HAND = [
    ("1 G: 1 - 0 = 1 taken, it runs, nothing queued",
     side(R[:1]), side(), False, (100, [], 0, [], 1, 0)),
    ("2 Gs: 2 - 1 = 1: the head runs, the newer one stays",
     side(R[:2]), side(), False, (100, [], 0, [101], 1, 0)),
    ("3 Gs: 3 - 1 = 2: G100 queued, G101 runs",
     side(R[:3]), side(), False, (101, [100], 1, [102], 2, 0)),
    ("5 Gs: 5 - 2 = 3", side(R[:5]), side(), False,
     (102, [100, 101], 2, [103, 104], 3, 0)),
    ("10 Gs: 10 - 5 = 5", side(R), side(), False,
     (104, [100, 101, 102, 103], 4, [105, 106, 107, 108, 109], 5, 0)),
    ("a full ring of 256: 128 taken, 127 queued", side(list(range(1000, 1256))), side(),
     False, (1127, list(range(1000, 1127)), 127, list(range(1128, 1256)), 128, 0)),
    ("the victim's head wraps 2**32: head 2**32 - 2 + 3 = 1", side(R[:5], UINT32 - 1),
     side(), False, (102, [100, 101], 2, [103, 104], 1, 0)),
    ("a ring and runnext, allowed: the ring wins, runnext stays",
     side(R[:2], runnext=7), side(), True, (100, [], 0, [101], 1, 7)),
    ("an empty ring and runnext, allowed: runnext runs and leaves",
     side([], 40, runnext=7), side(), True, (7, [], 0, [], 40, 0)),
    ("an empty ring and runnext, not allowed: nothing",
     side([], 40, runnext=7), side(), False, (0, [], 0, [], 40, 7)),
    ("nothing at all", side([], 3), side(), True, (0, [], 0, [], 3, 0)),
    ("the thief at 254: its 4 Gs in slots 254, 255, 0, 1", side(R), side([], 254), False,
     (104, [100, 101, 102, 103], 258, [105, 106, 107, 108, 109], 5, 0)),
    ("the thief at 2**32 - 2: 2 queued, its tail wraps to 0", side(R[:6]),
     side([], UINT32 - 1), False,
     (102, [100, 101], 0, [103, 104, 105], 3, 0)),
]


@pytest.mark.parametrize("why, victim, thief, allowed, want", BY_HAND,
                         ids=[b[0][:40] for b in BY_HAND])
def test_the_reference_agrees_with_the_hand_table(why, victim, thief, allowed, want):
    out = steal(victim, thief, allowed, reference_runqsteal)
    got = (out["gp"], out["thief"]["ring"], out["thief"]["tail"], out["victim"]["ring"],
           out["victim"]["head"], out["victim"]["runnext"])
    assert got == want, why
    assert out["thief"]["head"] == thief["head"]


def test_the_thief_uses_the_slots_after_its_tail():
    """runqgrab writes into the thief's runq from batchHead = runqtail, modulo 256."""
    from gostack.grade.exercises.e11_steal_half import make_p

    thief, victim = make_p(0, side([], 254)), make_p(1, side(R))
    reference_runqsteal(thief, victim, False)
    assert [thief.runq[i].goid for i in (254, 255, 0, 1)] == [100, 101, 102, 103]


def test_every_case_keeps_to_its_rule():
    """half cases never allow runnext; runnext cases have 0 or 2 Gs (half of 2 is 1 both
    ways); last and thief cases even rings (floor and ceiling agree); only thief cases move
    the thief's counters."""
    cases = EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                      for c in EX.varied_cases(s)]
    for c in cases:
        a = c["args"]
        n = len(a["victim"]["ring"])
        tag = c["tags"][0]
        assert not a["thief"]["ring"]
        if tag != "thief":
            assert a["thief"]["head"] == 0 or tag == "runnext", c["id"]
        if tag == "half":
            assert not a["steal_runnext"] and n >= 1
        elif tag == "runnext":
            assert n in (0, 2)
        else:
            assert n % 2 == 0 and n >= 2 and not a["steal_runnext"]


def test_the_visible_cases_hold_the_boundaries():
    v = [c["args"] for c in EX.visible_cases()]
    sizes = {len(a["victim"]["ring"]) for a in v}
    assert {1, 2, 3, 255, 256} <= sizes
    assert any(a["thief"]["head"] % 256 + len(a["victim"]["ring"]) // 2 > 256 for a in v)
    assert any(a["thief"]["head"] + len(a["victim"]["ring"]) // 2 > UINT32 for a in v)
    assert any(not a["victim"]["ring"] and a["victim"]["runnext"] and not a["steal_runnext"]
               for a in v)


def test_memorising_the_visible_answers_fails_every_aspect():
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    empty = {"ring": [], "head": 0, "tail": 0, "runnext": 0}
    outputs = [{"ok": known.get(json.dumps(c["args"]),
                                {"gp": 0, "thief": empty, "victim": empty})} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]
