"""Where stage 1 stops: probes it refuses (OutOfScope) instead of predicting wrongly, the
crashes it predicts, and probe descriptions it rejects (ProbeError).

Expected values are real go1.27.3 runs (GOMAXPROCS=1 GOGC=off, 2026-12-07, this kit's
probes rendered by sched.render), quoted in each test, or rules of the Go source.
"""

from __future__ import annotations

import dataclasses

import pytest

from gostack import sched
from gostack.errors import GostackError, ProgramError
from gostack.sched import probe as pr
from gostack.sched.chan import ChanPanic
from gostack.sched.machine import COST_NS, SLICE_REFUSE_NS
from gostack.sched.probe import OutOfScope, ProbeError
from gostack.sched.schedule import Deadlock
from gostack.sched.sync import STARVATION_THRESHOLD_NS, SyncPanic


def starve(n: int) -> pr.Probe:
    """x waits on a Mutex while h starts n goroutines and yields; h then unlocks and, with
    x in runnext, locks again and yields: x wakes to a locked Mutex."""
    return pr.Probe(
        f"starve_{n}", main=(pr.WgAdd(2 + n), pr.Go("x"), pr.Go("h"), pr.WgWait(),
                             pr.Emit("end")),
        funcs={"h": (pr.Lock(), pr.Emit("h"), pr.Gosched(), pr.Go("z", n), pr.Gosched(),
                     pr.Emit("h"), pr.Unlock(), pr.Emit("h"), pr.Lock(), pr.Gosched(),
                     pr.Emit("h"), pr.Unlock(), pr.Emit("h"), pr.WgDone()),
               "x": (pr.Emit("x"), pr.Lock(), pr.Emit("x"), pr.Unlock(), pr.WgDone()),
               "z": (pr.WgDone(),)},
        wgs=("wg",), mutexes=("mu",))


def test_a_short_mutex_wait_stays_in_normal_mode():
    """Real, 300 goroutines during x's wait: 20 of 20 runs print this (normal mode: the
    second Unlock readies x into runnext and h records first)."""
    assert sched.run(starve(300)).output == ("h0", "x0", "h0", "h0", "h0", "h0", "x0",
                                             "end0")


def test_a_starving_mutex_wait_is_refused():
    """Real, 1,500 goroutines during x's wait: 0 of 20 runs in normal mode (starvation:
    the Unlock hands x the Mutex and yields, so x records before h's last record)."""
    with pytest.raises(OutOfScope, match="starvation mode"):
        sched.run(starve(1500))


def test_without_starvation_the_normal_mode_order_is_predicted():
    """Built with realrun.MUTEX_PATCHES (starvationThresholdNs 1e15), 3,000 goroutines:
    5 of 5 real runs print the normal-mode order."""
    out = sched.run(starve(3000), starvation=False).output
    assert out == ("h0", "x0", "h0", "h0", "h0", "h0", "x0", "end0")


def test_the_estimate_is_pessimistic():
    """Real: 1,000 goroutines started and run during the wait took about 1 ms (3 of 20
    runs still in normal mode), 700 less (18 of 20): the estimate refuses from 400."""
    assert STARVATION_THRESHOLD_NS == 1_000_000  # mutex.go starvationThresholdNs
    assert 350 * (COST_NS["go"] + COST_NS["round"]) < STARVATION_THRESHOLD_NS
    assert 400 * (COST_NS["go"] + COST_NS["round"]) >= STARVATION_THRESHOLD_NS
    assert SLICE_REFUSE_NS == 10_000_000  # proc.go forcePreemptNS


@pytest.mark.parametrize("n,refused", [(3000, False), (6000, True)])
def test_a_long_spawning_slice_is_refused(n, refused):
    """Real, main starting n goroutines in one slice: 3,000: 5 of 5 runs in the model's
    order; 6,000: 2 of 5 preempted by sysmon (the spawn order broken)."""
    p = dataclasses.replace(sched.catalog.spawn(n), long_slice=False)
    if refused:
        with pytest.raises(OutOfScope, match="10 ms"):
            sched.run(p)
    else:
        assert len(sched.run(p).output) == n + 1


def spin(n: int) -> pr.Probe:
    return pr.Probe(f"spin_{n}", main=(pr.WgAdd(2), pr.Go("w", 2), pr.Emit("m"),
                                       pr.Loop(n, ()), pr.Emit("m"), pr.WgWait(),
                                       pr.Emit("end")),
                    funcs={"w": (pr.Emit("w"), pr.WgDone())}, wgs=("wg",))


def test_a_slice_long_enough_for_sysmon_is_refused():
    """Real, main spinning 300M loop iterations: 0 of 5 runs in the unpreempted order
    (m0 w1 w0 m0: sysmon preempted main after 10 ms); 3 of 3 with SYSMON_PATCHES."""
    with pytest.raises(OutOfScope, match="sysmon preempts after 10 ms"):
        sched.run(spin(300_000_000))
    assert sched.run(spin(300_000_000), preemption=False).output == (
        "m0", "m0", "w1", "w0", "end0")
    assert sched.run(spin(100_000)).output == ("m0", "m0", "w1", "w0", "end0")  # 5 of 5


def test_runnext_hand_offs_are_one_slice():
    """100,000 ping-pong exchanges never change schedtick (runnext inherits), so sysmon
    sees one 10 ms slice: real runs, 0 of 5 in the unpreempted order."""
    p = pr.Probe("pingpong_long", main=(pr.WgAdd(5), pr.Go("pong"), pr.Go("ping"),
                                        pr.WgWait(), pr.Emit("end")),
                 funcs={"ping": (pr.Go("z", 3), pr.Loop(100_000, (pr.Send("to"),
                                                                   pr.Recv("fro"))),
                                 pr.WgDone()),
                        "pong": (pr.Loop(100_000, (pr.Recv("to"), pr.Send("fro"))),
                                 pr.WgDone()),
                        "z": (pr.Emit("z"), pr.WgDone())},
                 chans={"to": 0, "fro": 0}, wgs=("wg",))
    with pytest.raises(OutOfScope, match="runnext"):
        sched.run(p)
    # each round costs COST_NS["round"]: the refusal comes within the first exchanges
    assert SLICE_REFUSE_NS // COST_NS["round"] < 2 * 100_000


def test_long_slice_probes_are_predicted_anyway():
    p = sched.catalog.PROBES["spawn_5000"]
    assert p.long_slice and len(sched.run(p).output) == 5001


def test_waitgroup_reused_before_the_woken_waiter_ran_panics():
    """Real: ``panic: sync: WaitGroup is reused before previous Wait has returned``
    (waitgroup.go Wait: isReset), in every run."""
    p = pr.Probe("reuse", main=(pr.WgAdd(1, "gate"), pr.WgAdd(1), pr.Go("w"),
                                pr.Gosched(), pr.WgDone("gate"), pr.WgAdd(1, "gate"),
                                pr.Emit("m"), pr.WgWait(), pr.Emit("end")),
                 funcs={"w": (pr.WgWait("gate"), pr.Emit("w"), pr.WgDone(),
                              pr.WgDone("gate"))},
                 wgs=("wg", "gate"))
    with pytest.raises(SyncPanic, match="reused before previous Wait has returned"):
        sched.run(p)


def test_waitgroup_reused_after_the_waiter_ran_is_fine():
    """The gate is re-armed only after w left Wait: real, 5 of 5 runs."""
    p = pr.Probe("rearm", main=(pr.WgAdd(1, "gate"), pr.WgAdd(1), pr.Go("w"),
                                pr.Gosched(), pr.WgDone("gate"), pr.WgAdd(1, "gate"),
                                pr.Emit("m"), pr.WgDone("gate"), pr.WgWait(),
                                pr.Emit("end")),
                 funcs={"w": (pr.WgWait("gate"), pr.Emit("w"), pr.WgDone())},
                 wgs=("wg", "gate"))
    assert sched.run(p).output == ("m0", "w0", "end0")


@pytest.mark.parametrize("main,funcs,err,match", [
    # real: "fatal error: all goroutines are asleep - deadlock!"
    ((pr.Go("w", 2), pr.Recv("c", "m")), {"w": (pr.Recv("c", "r"),)}, Deadlock,
     "all goroutines are asleep"),
    # real: "panic: send on closed channel" (a sender blocked on a full buffer)
    ((pr.Go("w", 3), pr.Gosched(), pr.Close("c"), pr.Gosched()), {"w": (pr.Send("c"),)},
     ChanPanic, "send on closed channel"),
])
def test_crashes_are_typed(main, funcs, err, match):
    p = pr.Probe("crash", main=main, funcs=funcs, chans={"c": 1 if err is ChanPanic else 0})
    with pytest.raises(err, match=match) as e:
        sched.run(p)
    assert isinstance(e.value, GostackError)


def test_a_tag_has_one_kind():
    """parse_output keeps the tag, not the statement: an Emit sharing a Recv's tag would
    be read as a receive ("m0<0")."""
    with pytest.raises(ProbeError, match="one kind per tag"):
        pr.Probe("mix", main=(pr.Go("w"), pr.Recv("c", "m"), pr.Emit("m")),
                 funcs={"w": (pr.Send("c"),)}, chans={"c": 0})
    assert issubclass(ProbeError, ProgramError) and issubclass(ProbeError, ValueError)


def test_what_has_no_statement_is_refused_by_name():
    with pytest.raises(ProbeError, match="no timers, select, netpoller or GC"):
        pr.Probe("sleep", main=("time.Sleep(1)",))
