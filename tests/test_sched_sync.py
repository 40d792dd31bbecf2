"""Channels, semaphores, Mutex and WaitGroup: who is readied, in which order, into which
queue (go1.27.3 runtime/chan.go, runtime/sema.go, internal/sync/mutex.go,
sync/waitgroup.go)."""

from __future__ import annotations

import pytest

from gostack import sched
from gostack.sched import probe as pr
from gostack.sched.chan import ChanPanic, Hchan, chanrecv, chansend, closechan
from gostack.sched.runtime2 import G, GStatus, World
from gostack.sched.sema import SemTable, semacquire1, semrelease1
from gostack.sched.sync import SyncPanic


def run(p: pr.Probe) -> tuple[str, ...]:
    return sched.run(p, check=True).output


def waiting(w: World, goid: int) -> G:
    g = G(goid, "main.w", goid, GStatus.WAITING)
    w.allgs.append(g)
    return g


def running(w: World, goid: int = 1) -> G:
    g = G(goid, "main.main", 0, GStatus.RUNNING)
    w.m.curg = g
    return g


def drive(coro):
    """Run a coroutine that must not block; return its result."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    raise AssertionError("it blocked")


def test_close_readies_waiters_from_a_stack_so_the_first_lands_in_runnext():
    w = World.new(1)
    running(w)
    c = Hchan("c")
    from gostack.sched.chan import Sudog
    gs = [waiting(w, k) for k in (10, 11, 12)]
    c.recvq.extend(Sudog(g) for g in gs)
    closechan(w, c)
    # gList.push for 10, 11, 12 -> pop 12, 11, 10: each goready displaces the last
    assert w.p.runnext is gs[0]
    assert [g.goid for g in w.p.local()] == [12, 11]


def test_a_send_hands_the_value_to_the_first_receiver_and_readies_it():
    w = World.new(1)
    running(w)
    c = Hchan("c")
    from gostack.sched.chan import Sudog
    a, b = Sudog(waiting(w, 10)), Sudog(waiting(w, 11))
    c.recvq.extend([a, b])
    drive(chansend(w, c, 7))
    assert (a.elem, a.success, w.p.runnext.goid) == (7, True, 10)
    assert list(c.recvq) == [b]


def test_receiving_from_a_full_buffer_moves_the_first_blocked_senders_value_in():
    w = World.new(1)
    running(w)
    c = Hchan("c", 2)
    c.buf.extend([1, 2])
    from gostack.sched.chan import Sudog
    s = Sudog(waiting(w, 10), elem=3)
    c.sendq.append(s)
    assert drive(chanrecv(w, c)) == (1, True)
    assert list(c.buf) == [2, 3] and w.p.runnext.goid == 10


def test_send_on_a_closed_channel_panics():
    w = World.new(1)
    running(w)
    c = Hchan("c")
    closechan(w, c)
    with pytest.raises(ChanPanic, match="send on closed channel"):
        drive(chansend(w, c, 1))
    with pytest.raises(ChanPanic, match="close of closed channel"):
        closechan(w, c)
    assert drive(chanrecv(w, c)) == (0, False)


def test_sema_queue_is_fifo_and_lifo_puts_a_waiter_in_front():
    sem = SemTable()
    from gostack.sched.sema import SemaWaiter
    w = World.new(1)
    a, b, c = (SemaWaiter(waiting(w, k)) for k in (10, 11, 12))
    sem.queue("x", a, False)
    sem.queue("x", b, False)
    sem.queue("x", c, True)
    assert sem.waiting("x") == (12, 10, 11)


def test_semrelease_readies_the_head_waiter_into_runnext_and_it_takes_the_count():
    w = World.new(1)
    me = running(w)
    sem = SemTable()
    co = semacquire1(w, sem, "x", False, "test")
    assert co.send(None) == "stop"  # parked: count 0
    me.status = GStatus.WAITING
    other = running(w, 2)
    drive(semrelease1(w, sem, "x", False))
    assert w.p.runnext is me and sem.count["x"] == 1
    other.status = GStatus.WAITING
    w.m.curg = me
    me.status = GStatus.RUNNING
    drive(co)  # cansemacquire succeeds
    assert sem.count["x"] == 0


def test_mutex_normal_mode_is_not_fifo_a_woken_waiter_requeues_at_the_front():
    out = run(sched.catalog.PROBES["mutex_requeue_front"])
    # h holds and yields; w1 then w0 queue; h's Unlock wakes w1 but h re-locks first,
    # so w1 goes back to the front and still gets the mutex before w0.
    assert out == ("try1", "w1", "h0", "try0", "h0", "w0", "end0")


def test_waitgroup_releases_waiters_head_first_so_the_last_runs_first():
    out = run(sched.catalog.PROBES["wg_gate"])
    assert out == ("a4", "a0", "a1", "a2", "a3", "m0", "b3", "b4", "b0", "b1", "b2", "end0")


def test_negative_waitgroup_counter_and_unlock_of_unlocked_mutex_panic():
    with pytest.raises(SyncPanic, match="negative WaitGroup counter"):
        run(pr.Probe("neg", main=(pr.WgDone(),), wgs=("wg",)))
    with pytest.raises(SyncPanic, match="unlock of unlocked mutex"):
        run(pr.Probe("unl", main=(pr.Unlock(),), mutexes=("mu",)))


def test_a_readied_receiver_runs_right_after_its_sender():
    assert run(sched.catalog.PROBES["chan_ready_runnext"]) == (
        "w3", "r0<3", "w0", "w1", "w2", "end0")


def test_closing_wakes_receivers_last_waiter_first():
    assert run(sched.catalog.PROBES["chan_close_wakes"]) == (
        "w4<closed", "w3<closed", "w2<closed", "w1<closed", "w0<closed", "end0")


def test_a_handoff_release_gives_the_waiter_the_count_and_yields_to_the_local_ring():
    """sema.go semrelease1 with handoff (a starving Mutex): ticket = 1, goready, goyield."""
    w = World.new(1)
    sem = SemTable()
    from gostack.sched.sema import SemaWaiter
    waiter = SemaWaiter(waiting(w, 10))
    sem.queue("x", waiter, False)
    me = running(w, 1)
    co = semrelease1(w, sem, "x", True)
    assert co.send(None) == "stop"  # goyield stopped the releaser
    assert waiter.ticket == 1 and sem.count["x"] == 0
    assert w.p.runnext is waiter.g
    assert [g.goid for g in w.p.local()] == [1] and me.status is GStatus.RUNNABLE


def test_the_invariant_checker_catches_a_g_queued_twice():
    from gostack.sched.runtime2 import check_invariants
    w = World.new(1)
    g = G(7, "main.w", 0, GStatus.RUNNABLE)
    w.allgs.append(g)
    w.p.runnext = g
    w.sched.runq.append(g)
    with pytest.raises(AssertionError, match="is in P0.runnext and in sched.runq"):
        check_invariants(w)
    w.sched.runq.clear()
    w.p.runnext = None
    with pytest.raises(AssertionError, match="runnable but in no run queue"):
        check_invariants(w)


def test_cond_broadcast_readies_oldest_first_so_the_newest_runs_first():
    w = World.new(1)
    from gostack.sched.sync import Cond, Mutex
    cv = Cond("cv", Mutex("mu"))
    gs = [waiting(w, k) for k in (10, 11, 12)]
    cv.parked = [(0, gs[0]), (1, gs[1]), (2, gs[2])]
    cv.wait = 3
    running(w)
    cv.broadcast(w)
    assert w.p.runnext is gs[2] and [g.goid for g in w.p.local()] == [10, 11]
    assert (cv.notify, cv.parked) == (3, [])


def test_cond_signal_readies_the_waiter_with_the_oldest_ticket():
    w = World.new(1)
    from gostack.sched.sync import Cond, Mutex
    cv = Cond("cv", Mutex("mu"))
    gs = [waiting(w, k) for k in (10, 11)]
    cv.parked = [(0, gs[0]), (1, gs[1])]
    cv.wait = 2
    running(w)
    cv.signal(w)
    assert w.p.runnext is gs[0] and cv.notify == 1 and cv.parked == [(1, gs[1])]
    cv.signal(w)
    cv.signal(w)  # nobody left: notify == wait
    assert cv.notify == 2 and w.p.runnext is gs[1]
