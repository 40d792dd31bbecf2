"""Stage 2 of the scheduler model, mechanism by mechanism: sysmon's sleep schedule and
retake, preemptone, syscalls and handoff, stealOrder and stealWork, wakep, and the
seeded simulation of several Ps (gostack.sched: clock, sysmon, syscall, steal, procs)."""

from __future__ import annotations

import itertools

import pytest

from gostack.sched import machine, procs, syscall, sysmon
from gostack.sched.catalog import PROBES
from gostack.sched.clock import (
    FORCE_PREEMPT_NS,
    SYSMON_MAX_DELAY_US,
    sysmon_delays,
)
from gostack.sched.runq import runqput
from gostack.sched.runtime2 import G, GStatus, P, World
from gostack.sched.steal import RandomOrder, steal_work
from gostack.sched.trace import StartM, StopM


def of(o: procs.Outcome, kind: type) -> list[procs.At]:
    return [a for a in o.trace if isinstance(a.what, kind)]


# ---- clock: sysmon's sleeps ---------------------------------------------------------

def test_sysmon_sleeps_20us_then_doubles_after_1ms_up_to_10ms():
    d = list(sysmon_delays(70))
    assert d[:51] == [20] * 51  # idle 0..50: 20 µs ("start doubling the sleep after 1ms")
    assert d[51:60] == [40, 80, 160, 320, 640, 1280, 2560, 5120, SYSMON_MAX_DELAY_US]
    assert set(d[59:]) == {SYSMON_MAX_DELAY_US}


# ---- steal: randomOrder and stealWork -------------------------------------------------

@pytest.mark.parametrize("count", range(1, 9))
def test_random_order_visits_every_p_once(count):
    order = RandomOrder.reset(count)
    assert all(__import__("math").gcd(c, count) == 1 for c in order.coprimes)
    for i in range(200):
        assert sorted(order.start(i)) == list(range(count))


def test_random_order_is_gos_formula():
    order = RandomOrder.reset(4)
    assert order.coprimes == (1, 3)
    assert list(order.start(5)) == [1, 0, 3, 2]  # pos 5 % 4 = 1, inc coprimes[5/4 % 2] = 3
    assert list(order.start(2)) == [2, 3, 0, 1]  # inc coprimes[0] = 1
    assert RandomOrder.reset(6).coprimes == (1, 5)


def test_random_order_steps_by_a_coprime():
    order = RandomOrder.reset(4)
    for i in range(64):
        pos = i % 4
        inc = order.coprimes[i // 4 % 2]
        assert list(order.start(i)) == [(pos + inc * k) % 4 for k in range(4)]


def _world(n: int) -> World:
    w = World.new(n)
    return w


def _fill(w: World, pp: P, k: int, first: int = 100) -> list[G]:
    gs = [G(first + i, "main.w", i, GStatus.RUNNABLE) for i in range(k)]
    w.m = pp.m
    for g in gs:
        runqput(w, pp, g, False)
    return gs


def test_steal_work_takes_half_of_the_first_nonempty_victim():
    w = _world(4)
    gs = _fill(w, w.allp[0], 9)
    thief = w.allp[2]
    gp, st, _ = steal_work(thief, w.allp, lambda p: False, lambda p: True,
                           itertools.count().__next__, RandomOrder.reset(4))
    assert st.victim == 0 and st.n == 5  # n - n/2 of 9
    assert gp is gs[4]  # the last grabbed runs; the others go to the thief's ring
    assert thief.local() == tuple(gs[:4])
    assert w.allp[0].local() == tuple(gs[5:])


def test_steal_work_takes_runnext_only_on_the_last_pass_with_a_backoff():
    w = _world(2)
    g = G(7, "main.w", 0, GStatus.RUNNABLE)
    w.allp[0].runnext = g
    gp, st, backoff = steal_work(w.allp[1], w.allp, lambda p: False, lambda p: True,
                                 itertools.count().__next__, RandomOrder.reset(2))
    assert gp is g and st.runnext and st.tries == 4  # 3 passes found nothing
    assert backoff == 3_000  # runqgrab's usleep(3) before robbing a running P


def test_steal_work_skips_idle_ps():
    w = _world(2)
    _fill(w, w.allp[0], 4)
    gp, st, _ = steal_work(w.allp[1], w.allp, lambda p: p is w.allp[0], lambda p: True,
                           itertools.count().__next__, RandomOrder.reset(2))
    assert gp is None and st.victim == -1 and st.tries == 0


# ---- syscalls, retake, handoff ---------------------------------------------------------

def test_blocking_syscalls_cost_a_thread_each_channel_waits_none():
    n = 20
    sl = procs.simulate(procs.Workload("nanosleep", n, 1, 50_000_000), seed=3)
    ch = procs.simulate(procs.Workload("chan", n, 1), seed=3)
    # the first sleeper keeps m0; each retake hands P0 to a new M; the last handoff
    # (nothing queued, nobody spinning) starts one spinning M: 1 idle + 19 new
    assert sl.threads_created == n - 1
    assert sl.threads_blocked == n + 2  # n Ms in the kernel + the P's M + sysmon
    assert ch.threads_created == 0 and ch.per_m == (n,)


def test_retake_takes_each_blocked_p_at_sysmons_next_look():
    o = procs.simulate(procs.Workload("nanosleep", 5, 1, 50_000_000), seed=0)
    enters = of(o, syscall.SyscallEnter)
    retakes = of(o, sysmon.Retake)
    assert len(retakes) == 5
    for e, r in zip(enters, retakes, strict=True):
        assert r.what.m == e.what.m
        # P0's syscalltick has not moved (no syscall returned on it), so the first look
        # takes it; a retake resets sysmon to 20 µs sleeps
        assert 0 <= r.t - e.t <= 20_000


def _in_syscall(sim: procs.Sim) -> procs.Thread:
    th = sim.threads[0]
    th.g = th.m.curg = G(1, "main.main", 0, GStatus.WAITING)
    th.state, th.oldp = "syscall", sim.w.allp[0]
    return th


def test_retake_waits_a_cycle_when_the_syscalltick_moved():
    sim = procs.Sim(procs.Workload("read", 1, 1))
    _in_syscall(sim)
    _fill(sim.w, sim.w.allp[0], 1)  # something queued: no 10 ms grace
    sim.syscalltick[0] = 3  # a syscall returned on P0 since sysmon's last look
    assert sysmon.retake(sim, 20_000) == 0  # remembers tick 3 and waits
    assert sysmon.retake(sim, 40_000) == 1  # same tick one cycle later: taken
    assert sim.w.allp[0].m is not sim.threads[0].m


def test_retake_leaves_an_idle_ps_syscall_alone_for_10ms():
    sim = procs.Sim(procs.Workload("read", 1, 2))  # P1 idle, nothing queued on P0
    _in_syscall(sim)
    assert sysmon.retake(sim, 20_000) == 0
    assert sysmon.retake(sim, 5_000_000) == 0
    assert sysmon.retake(sim, 20_000 + 10_000_000) == 1


def test_exitsyscall_after_a_retake_finds_no_p_and_the_m_stops():
    o = procs.simulate(procs.Workload("nanosleep", 5, 1, 50_000_000), seed=0)
    paths = [a.what.path for a in of(o, syscall.SyscallExit)]
    assert "fast" not in paths  # every P was retaken during 50 ms
    assert paths.count("no P") + paths.count("idle P") == 5
    assert len(of(o, StopM)) >= paths.count("no P")


def test_entersyscallblock_hands_the_p_off_at_once():
    sim = procs.Sim(procs.Workload("nanosleep", 1, 1, 1_000_000))
    sim.main = G(1, "main.main", 0, GStatus.RUNNING)
    th = sim.threads[0]
    th.g = th.m.curg = sim.main
    sim.job[1] = ["main", 0]
    w = sim.w
    w.m = th.m
    g = G(2, "main.w", 0, GStatus.RUNNABLE)
    runqput(w, w.allp[0], g, False)  # work queued: handoffp starts an M for it
    syscall.entersyscallblock(sim, th, until=None)
    assert th.m.p is None and th.state == "syscall"
    start = [a.what for a in sim.trace if isinstance(a.what, StartM)]
    assert start and start[0].why == "handoffp" and start[0].p == 0
    assert sim.syscalltick[0] == 1


# ---- sysmon's preemption ----------------------------------------------------------------

def test_a_loop_without_calls_is_preempted_by_signal_after_10ms():
    o = procs.simulate(procs.Workload("hog", 20, 1, 20_000_000), seed=0)
    pre = of(o, sysmon.Preempt)
    assert len(pre) == 1 and pre[0].what.how == "stackguard0+signal"
    assert pre[0].what.ran_ns >= FORCE_PREEMPT_NS
    # sysmon has slept its doubling schedule: the preemption comes at its first look
    # after 10 ms, here 11.22 ms; the others then run before the hog ends
    assert FORCE_PREEMPT_NS <= pre[0].t <= 2 * FORCE_PREEMPT_NS
    assert o.hog["first_other_ns"] < o.hog["end_ns"] and o.hog["others_during"] == 20


def test_with_asyncpreemptoff_the_loop_keeps_the_p():
    o = procs.simulate(procs.Workload("hog", 20, 1, 20_000_000, async_preempt=False), seed=0)
    assert [a.what.how for a in of(o, sysmon.Preempt)] == ["stackguard0"]
    assert o.hog["first_other_ns"] > o.hog["end_ns"] and o.hog["others_during"] == 0


def test_short_goroutines_are_never_preempted():
    o = procs.simulate(procs.Workload("spin", 200, 1, 30_000), seed=0)
    assert not of(o, sysmon.Preempt)


# ---- several Ps ---------------------------------------------------------------------------

def test_one_p_runs_everything_on_one_m_without_steals():
    o = procs.simulate(procs.Workload("spin", 300, 1, 10_000), seed=5)
    assert o.per_p == {0: 300} and o.per_m == (300,) and not o.steals
    assert o.threads_created == 0


@pytest.mark.parametrize("n", [10, 257, 300, 1000, 5000])
def test_one_p_runs_them_in_stage_1s_exact_order(n):
    """With GOMAXPROCS=1 the stochastic model reduces to stage 1: runnext, the ring,
    runqputslow's halves on the global queue, the 61st tick (spawn_N probes)."""
    stage1 = [int(t[1:].split("_")[0].split(".")[0]) for t in
              machine.run(PROBES[f"spawn_{n}"]).output if t.startswith("w")]
    sim = procs.Sim(procs.Workload("spin", n, 1, 10_000), seed=n)
    sim.run()
    workers = range(3, n + 3)  # goid 1 is main, 2 the runtime's GOMAXPROCS updater
    order = [sim.w.allgs[g - 1].arg for g in sorted(workers, key=lambda g: sim.started[g])]
    assert order == stage1


def test_same_seed_same_run_and_seeds_vary():
    wl = procs.Workload("spin", 500, 4, 30_000, idle_ms=3)
    a, b = procs.simulate(wl, 7), procs.simulate(wl, 7)
    assert a.per_p == b.per_p and a.trace == b.trace
    assert len({tuple(procs.simulate(wl, s).per_p.values()) for s in range(6)}) > 1


def test_four_ps_share_the_work_through_steals():
    o = procs.simulate(procs.Workload("spin", 1000, 4, 40_000, idle_ms=3), seed=1)
    assert o.ps_used == 4 and o.steals
    assert all(s.victim != s.thief for s in o.steals)
    assert 600 <= o.off_main_p <= 900


def test_wakep_starts_at_most_one_spinning_m_at_a_time():
    o = procs.simulate(procs.Workload("spin", 400, 4, 30_000, idle_ms=3), seed=2)
    spinning = 0
    for a in o.trace:  # a wakep StartM only while no M was started spinning and unmet
        if isinstance(a.what, StartM) and a.what.why == "wakep":
            spinning += 1
    assert spinning >= 1
    assert o.threads_created == 0  # the startup's idle Ms suffice: no newm


def test_trace_is_frozen():
    o = procs.simulate(procs.Workload("chan", 3, 1), seed=0)
    with pytest.raises(AttributeError):
        o.trace[0].t = 5  # type: ignore[misc]


@pytest.mark.parametrize("wl", [
    procs.Workload("spin", 300, 4, 20_000, idle_ms=3),
    procs.Workload("spin", 300, 2, 3_000, idle_ms=1),
    procs.Workload("nanosleep", 12, 4, 5_000_000, idle_ms=3),
    procs.Workload("read", 12, 1),
    procs.Workload("chan", 12, 4, idle_ms=3),
    procs.Workload("hog", 8, 1, 12_000_000),
    procs.Workload("hog", 8, 2, 12_000_000, idle_ms=2),
], ids=lambda wl: f"{wl.mode}-p{wl.gomaxprocs}")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_invariants_hold_after_every_event(wl, seed):
    """Every P idle xor held by one M in a live state; idle Ms hold no P and do not
    spin; nmspinning counts the spinning Ms; stage 1's queue invariants."""
    procs.Sim(wl, seed).run(check=True)
