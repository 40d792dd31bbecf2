"""runqput/runqget/runqputslow/runqgrab/runqsteal and the global queue, against values
derived by hand from go1.27.3 runtime/proc.go."""

from __future__ import annotations

import pytest

from gostack.sched import runq as rq
from gostack.sched.runtime2 import RUNQ_SIZE, G, GStatus, World, check_invariants
from gostack.sched.trace import RunqPut, RunqPutSlow


def gs(n: int, start: int = 100) -> list[G]:
    return [G(start + k, "main.w", k, GStatus.RUNNABLE) for k in range(n)]


def ids(seq) -> list[int]:
    return [g.goid for g in seq]


@pytest.fixture
def w() -> World:
    return World.new(1)


def test_runqput_next_kicks_the_old_runnext_to_the_tail(w):
    a, b, c = gs(3)
    pp = w.p
    rq.runqput(w, pp, a, True)
    rq.runqput(w, pp, b, True)
    rq.runqput(w, pp, c, True)
    assert pp.runnext is c
    assert ids(pp.local()) == [100, 101]  # a, then b: kicked in turn
    assert w.events[-1] == RunqPut(0, 102, True, kicked=101)


def test_runqget_takes_runnext_with_inherit_time_then_the_ring_head(w):
    a, b, c = gs(3)
    pp = w.p
    for g in (a, b):
        rq.runqput(w, pp, g, False)
    rq.runqput(w, pp, c, True)
    assert rq.runqget(pp) == (c, True)
    assert rq.runqget(pp) == (a, False)
    assert rq.runqget(pp) == (b, False)
    assert rq.runqget(pp) == (None, False)
    assert rq.runqempty(pp)


def test_the_ring_holds_256_and_the_257th_moves_half_plus_it_to_the_global_queue(w):
    pp = w.p
    many = gs(257)
    for g in many[:256]:
        rq.runqput(w, pp, g, False)
    assert ids(pp.local()) == ids(many[:256]) and not w.sched.runq
    rq.runqput(w, pp, many[256], False)
    # runqputslow: exactly the first half (128) of the ring, head first, then the new G.
    assert ids(w.sched.runq) == ids(many[:128]) + [many[256].goid]
    assert len(w.sched.runq) == RUNQ_SIZE // 2 + 1 == 129
    assert ids(pp.local()) == ids(many[128:256])
    assert w.events[-1] == RunqPutSlow(0, tuple(ids(many[:128]) + [356]))
    check_invariants(w)


def test_overflow_through_runnext_moves_the_kicked_g_last(w):
    """go f() with a full ring: the new G takes runnext; the kicked one is the '+1'."""
    pp = w.p
    ring, old_next, new = gs(256), G(900, "main.w", 0, GStatus.RUNNABLE), \
        G(901, "main.w", 1, GStatus.RUNNABLE)
    for g in ring:
        rq.runqput(w, pp, g, False)
    rq.runqput(w, pp, old_next, True)
    rq.runqput(w, pp, new, True)
    assert pp.runnext is new
    assert ids(w.sched.runq)[-1] == 900 and len(w.sched.runq) == 129


def test_head_and_tail_are_uint32_counters_that_wrap(w):
    pp = w.p
    pp.runqhead = pp.runqtail = (1 << 32) - 2
    a, b, c = gs(3)
    for g in (a, b, c):
        rq.runqput(w, pp, g, False)
    assert pp.runqtail == 1 and ids(pp.local()) == [100, 101, 102]
    assert [rq.runqget(pp)[0] for _ in range(3)] == [a, b, c]


def test_runqgrab_takes_half_rounded_up_from_the_head():
    w = World.new(2)
    victim = w.allp[1]
    five = gs(5)
    for g in five:
        rq.runqput(w, victim, g, False)
    assert ids(rq.runqgrab(victim, False)) == [100, 101, 102]  # 5 - 5/2 = 3
    assert ids(victim.local()) == [103, 104]


def test_runqgrab_takes_runnext_only_from_an_empty_ring_and_only_when_asked():
    w = World.new(2)
    victim = w.allp[1]
    (a,) = gs(1)
    rq.runqput(w, victim, a, True)
    assert rq.runqgrab(victim, False) == []
    assert rq.runqgrab(victim, True) == [a] and victim.runnext is None


def test_runqsteal_keeps_all_but_the_last_stolen_and_returns_it():
    w = World.new(2)
    thief, victim = w.allp
    six = gs(6)
    for g in six:
        rq.runqput(w, victim, g, False)
    got = rq.runqsteal(thief, victim, False)
    assert got is six[2]
    assert ids(thief.local()) == [100, 101]
    assert ids(victim.local()) == [103, 104, 105]


def test_globrunqgetbatch_takes_min_of_n_size_and_size_over_procs_plus_one(w):
    many = gs(300)
    w.sched.runq.extend(many)
    gp, rest = rq.globrunqgetbatch(w, 128)
    assert gp is many[0] and ids(rest) == ids(many[1:128])  # min(128, 300, 301) = 128
    w2 = World.new(4)
    w2.sched.runq.extend(gs(10))
    gp, rest = rq.globrunqgetbatch(w2, 128)
    assert len(rest) + 1 == 10 // 4 + 1 == 3


def test_runqputbatch_returns_what_does_not_fit(w):
    pp = w.p
    for g in gs(250):
        rq.runqput(w, pp, g, False)
    left = rq.runqputbatch(pp, gs(10, 500))
    assert ids(left) == [506, 507, 508, 509]
    assert len(pp.local()) == 256


def test_runqdrain_gives_runnext_first():
    w = World.new(1)
    pp = w.p
    a, b, c = gs(3)
    rq.runqput(w, pp, a, False)
    rq.runqput(w, pp, b, False)
    rq.runqput(w, pp, c, True)
    assert ids(rq.runqdrain(pp)) == [102, 100, 101] and rq.runqempty(pp)
