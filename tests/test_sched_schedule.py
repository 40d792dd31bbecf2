"""findRunnable, execute and the startup, against values derived by hand from go1.27.3
runtime/proc.go (schedule, findRunnable, execute, main) and mgc.go (gcenable)."""

from __future__ import annotations

import pytest

from gostack import sched
from gostack.sched import probe as pr
from gostack.sched.runq import runqput
from gostack.sched.runtime2 import G, GStatus, World
from gostack.sched.schedule import Deadlock, execute, find_runnable
from gostack.sched.trace import Execute, HandoffP, NewProc


def g(goid: int) -> G:
    return G(goid, "main.w", goid, GStatus.RUNNABLE)


def test_the_global_queue_goes_first_when_schedtick_is_a_multiple_of_61():
    w = World.new(1)
    local, glob = g(10), g(20)
    runqput(w, w.p, local, True)
    w.sched.runq.append(glob)
    w.p.schedtick = 122
    assert find_runnable(w) == (glob, False, "global61")
    w.sched.runq.append(glob)
    w.p.schedtick = 123
    assert find_runnable(w) == (local, True, "runnext")


def test_a_runnext_g_inherits_the_slice_and_does_not_tick():
    w = World.new(1)
    a, b = g(1), g(2)
    runqput(w, w.p, a, False)
    runqput(w, w.p, b, True)
    gp, inherit, _ = find_runnable(w)
    execute(w, gp, inherit, "runnext")
    assert w.p.schedtick == 0
    w.m.curg = None
    gp, inherit, _ = find_runnable(w)
    execute(w, gp, inherit, "runq")
    assert (gp, w.p.schedtick) == (a, 1)


def test_an_empty_local_queue_takes_a_batch_of_at_most_128_from_the_global_queue():
    w = World.new(1)
    w.sched.runq.extend(g(k) for k in range(1, 301))
    w.p.schedtick = 1
    gp, inherit, where = find_runnable(w)
    assert (gp.goid, inherit, where) == (1, False, "global")
    assert [x.goid for x in w.p.local()] == list(range(2, 129))  # 127 on the ring
    assert len(w.sched.runq) == 300 - 128


def test_nothing_runnable_is_a_deadlock():
    w = World.new(1)
    with pytest.raises(Deadlock, match="all goroutines are asleep"):
        find_runnable(w)


def test_a_probe_that_blocks_forever_deadlocks():
    p = pr.Probe("stuck", main=(pr.Recv("c"),), chans={"c": 0})
    with pytest.raises(Deadlock, match=r"G1\(runtime.main 0\) \[chan receive\]"):
        sched.run(p)


def _at_main_main(r: sched.Result) -> Execute:
    """The Execute event that started main.main's code (the last one of G1 before G6)."""
    first_user = next(e for e in r.trace.of(NewProc) if e.name.startswith("main."))
    events = r.trace.events
    k = events.index(first_user)
    return [e for e in events[:k] if isinstance(e, Execute) and e.goid == 1][-1]


def test_main_main_starts_at_tick_4_with_the_gomaxprocs_updater_in_runnext():
    p = pr.Probe("one", main=(pr.Emit("m"), pr.Go("w"), pr.Gosched()),
                 funcs={"w": (pr.Emit("w"),)})
    r = sched.run(p, check=True)
    ex = _at_main_main(r)
    assert (ex.schedtick, ex.where, ex.m) == (4, "locked", 0)
    made = [(e.goid, e.name) for e in r.trace.of(NewProc)][:5]
    assert made == [(1, "runtime.main"), (2, "runtime.forcegchelper"), (3, "runtime.bgsweep"),
                    (4, "runtime.bgscavenge"), (5, "runtime.updateMaxProcsGoroutine")]
    # main's receives in gcenable hand the P to a second thread and back, twice
    hand = [(e.from_m, e.to_m, e.why, e.new_m) for e in r.trace.of(HandoffP)]
    assert hand == [(0, 1, "handoffp", True), (1, 0, "startlockedm", False),
                    (0, 1, "handoffp", False), (1, 0, "startlockedm", False)]
    assert r.threads == 2
    assert r.output == ("m0", "w0")  # main yields to the global queue; w runs first


def test_sysmons_first_look_adds_one_tick_before_main_main():
    p = pr.Probe("one", main=(pr.Emit("m"),))
    # main never stops, so P0's last tick is the tick main.main started with
    assert sched.run(p).schedtick == 4
    r = sched.run(p, sysmon_first_look=True)
    assert r.schedtick == 5
    assert [(e.goid, e.to) for e in r.trace.of(sched.Yield)] == [(1, "global (preempted)")]


def test_the_startup_preemption_only_shifts_the_61_tick_phase():
    p = sched.catalog.PROBES["tick61_once"]
    pred = sched.machine.predictions(p)
    a, b = pred["model"], pred["startup_preempted"]
    assert sorted(a) == sorted(b) and a != b
    last = [len(x) - 1 - x[::-1].index("y0") for x in (a, b)]  # y's second record
    assert last[0] == last[1] + 1  # one G earlier: the check comes a tick sooner


def test_gosched_goes_behind_the_whole_local_queue():
    r = sched.run(sched.catalog.PROBES["main_gosched"])
    assert r.output == ("m0", "w2", "w0", "w1", "m0", "end0")


@pytest.mark.parametrize("n,first", [(10, ["w9", "w0", "w1"]), (256, ["w255", "w0", "w1"]),
                                     (257, ["w256", "w127", "w128"])])
def test_spawn_order_runnext_then_ring_then_global(n, first):
    r = sched.run(sched.catalog.spawn(n))
    assert list(r.output[:3]) == first
    assert sorted(r.output[:-1]) == sorted(f"w{k}" for k in range(n))


def test_every_small_probe_keeps_the_invariants():
    for p in sched.catalog.PROBES.values():
        if p.max_records() <= 700:
            sched.run(p, check=True)


def test_snapshots_show_the_queues_after_each_execute():
    r = sched.run(sched.catalog.spawn(3), snapshots=True)
    q = r.trace.of(sched.Queues)
    assert len(q) == len(r.trace.of(Execute))
    # main waits; w2 (goid 8) runs from runnext; the ring holds the updater (5), w0, w1
    first_user = next(x for x in q if x.running == 8)
    assert (first_user.runnext, first_user.runq, first_user.global_) == (0, (5, 6, 7), ())
    assert sched.run(sched.catalog.spawn(3)).trace.of(sched.Queues) == ()


def test_a_locked_g_readied_into_runnext_still_starts_a_new_slice():
    """startlockedm: the P goes to the G's own M, which runs it with execute(lockedg,
    false). The readying is the same; only the tick differs, by one."""
    outs = [sched.run(sched.catalog.PROBES[f"tick61_{k}_wake"], check=True)
            for k in ("unlocked", "locked")]
    last = [len(r.output) - 1 - r.output[::-1].index("y0") for r in outs]
    assert last[1] == last[0] - 1
    wake = [e for e in outs[1].trace.of(Execute) if e.where == "locked" and e.goid != 1]
    assert len(wake) == 1 and wake[0].m == 0 and not wake[0].inherit


def test_a_goroutine_that_returns_locked_takes_its_thread_along():
    """gdestroy + mexit: the P goes to another M (a new thread), the order is an
    unlocked exit's. Expected: real go1.27.3, 5 of 5 runs (catalog ``locked_exit``)."""
    r = sched.run(sched.catalog.PROBES["locked_exit"], check=True)
    assert r.output == ("w1", "l0", "w0", "w1", "w0", "end0")
    assert [e.why for e in r.trace.of(HandoffP)][-1] == "handoffp"


def test_lockosthread_nests():
    """proc.go LockOSThread counts (m.lockedExt): locked twice, unlocked once, still
    locked: the wake-up is a locked execute, one tick more than unlocked. Real go1.27.3:
    y's second record comes one G earlier, as with one lock (5 of 5 runs each)."""
    outs = [sched.run(sched.catalog.PROBES[n], check=True).output
            for n in ("tick61_unlocked_wake", "tick61_locked_wake", "tick61_locked_twice_wake")]
    last = [len(o) - 1 - o[::-1].index("y0") for o in outs]
    assert last[2] == last[1] == last[0] - 1
