"""Parked goroutines and multi-goroutine scenes (issue 14).

Expected values are derived by hand from go1.27.3's frame sizes (the TEXT lines of
``go build -gcflags=runtime=-S``) or taken from the real runs recorded in
gostack/data/recorded.json ("scenes"); none comes from the code under test.
"""

from __future__ import annotations

import pytest

import gostack as gs
from gostack import realgo
from gostack.arch import PARK_CHAINS, PARK_DEPTH, STACK_NOSPLIT
from gostack.program import Function, Program
from gostack.scene import (
    SCENES,
    ParkAt,
    Scene,
    SceneMove,
    SceneObservation,
    render_go,
    run_simulator,
)

RECORDED = realgo.load_recorded()
RECORDED_SCENES = RECORDED.get("scenes", {})


# ---- the measured park depths -------------------------------------------------------

# hi - g.sched.sp of a goroutine parked in each operation, minus hi - SP of the user frame
# that blocked: measured with go1.27.3 by reading g.sched.sp (offset 56 of runtime.g) of
# parked goroutines, GOMAXPROCS=1 (the probe is described in the commit that added this).
MEASURED = {"recv": 192, "send": 192, "select": 352, "sleep": 120, "gosched": 0,
            "mutex": 272, "wg": 232}


def test_park_depths_are_the_measured_ones():
    # a goroutine in read(2): hi - g.syscallsp (offset 104) minus hi - SP of its frame
    assert PARK_DEPTH == {**MEASURED, "syscall": 160}


def test_park_depth_is_the_chain_of_frames_plus_return_addresses():
    # chanrecv1 $32, chanrecv $112, gopark $24 (TEXT lines): (32+8)+(112+8)+(24+8)
    assert [f for _, f, _ in PARK_CHAINS["recv"]] == [32, 112, 24]
    assert 40 + 120 + 32 == MEASURED["recv"]
    # selectgo $312, gopark $24
    assert 320 + 32 == MEASURED["select"]


# ---- the runtime model ---------------------------------------------------------------


def _parked(op: str, keep: int) -> gs.Goroutine:
    """worker (40) -> keep -> grow (4008) back to keep on an 8 KiB stack, then parked."""
    rt = gs.Runtime()
    g = rt.go(gs.Func("worker", frame=40))
    g.call(gs.Func("keep", frame=keep))
    g.call(gs.Func("grow", frame=4008))
    g.ret()
    assert g.stack_size == 8192
    g.park(op)
    return g


@pytest.mark.parametrize("op", sorted(MEASURED))
def test_a_parked_goroutine_is_scanned_at_its_park_sp(op):
    # in use at the scan: 40 (newproc) + 40 + 8 + keep + park; shrink iff + 800 < 2048
    keep = 2048 - STACK_NOSPLIT - 88 - MEASURED[op]
    g = _parked(op, keep)
    g.rt.gc()
    assert g.stack_size == 8192  # == S/4: no shrink
    g2 = _parked(op, keep - 8)
    g2.rt.gc()
    assert g2.stack_size == 4096
    gcs = [e for e in g2.trace if isinstance(e, gs.GC)]
    assert gcs[-1].used == 88 + keep - 8 + MEASURED[op]


def test_park_and_unpark_events_and_rules():
    g = _parked("recv", 800)
    assert g.status is gs.Status.WAITING and g.parked == "recv"
    with pytest.raises(gs.GoroutineExited, match="parked in recv"):
        g.call(gs.Func("f", frame=8))
    with pytest.raises(gs.GoroutineExited):
        g.runtime_gc()
    with pytest.raises(gs.GoroutineExited):
        g.park("send")
    g.unpark()
    assert g.status is gs.Status.RUNNING and g.parked is None
    with pytest.raises(gs.ProgramError, match="not parked"):
        g.unpark()
    with pytest.raises(gs.ProgramError, match="unknown blocking operation"):
        g.park("nap")
    parks = [e for e in g.trace if isinstance(e, (gs.Park, gs.Unpark))]
    assert parks == [gs.Park(1, "recv", 88 + 800 + 192), gs.Unpark(1, "recv")]


def test_the_park_chain_prologues_can_grow_the_stack():
    """The prologues of the chain's checked frames run at every park. (Real Go can grow
    earlier, in deeper calls whose depth depends on the runtime's caches: acquireSudog
    allocating a sudog, for one; the model has only the chain, a lower bound.)"""
    # selectgo ($312, medium check: E - 184 <= lo + 928) from a frame whose SP is 48
    # bytes above the guard line plus 184: E = SP - 8 -> grows in selectgo's prologue.
    rt = gs.Runtime()
    g = rt.go(gs.Func("worker", frame=40))
    # SP used = 80 + 8 + F; selectgo E used = that + 8; fires when E used + 184 >= 1120
    g.call(gs.Func("keep", frame=1120 - 184 - 8 - 88))
    assert g.stack_size == 2048
    g.park("select")
    assert g.stack_size == 4096
    grow = [e for e in g.trace if isinstance(e, gs.Grow)][-1]
    assert grow.func == "runtime.selectgo" and grow.call_index == 1


def test_gc_caller_none_scans_everyone_at_their_own_depth():
    rt = gs.Runtime()
    a = rt.go(gs.Func("a", frame=40))
    b = rt.go(gs.Func("b", frame=40))
    b.park("wg")
    rt.gc()
    used = {e.used for g in (a, b) for e in g.trace if isinstance(e, gs.GC)}
    assert used == {80, 80 + 232}


# ---- scenes: description, rendering ---------------------------------------------------


def _g(k: int, depth: int = 3) -> Program:
    return Program(f"g{k}", Function(f"w{k}"), cycle=(Function(f"r{k}", words=4),),
                   depth=depth)


@pytest.mark.parametrize("kwargs, message", [
    (dict(goroutines=(_g(1), _g(1)), parks=((), ()), steps=()), "must differ"),
    (dict(goroutines=(_g(1),), parks=((ParkAt(9, "recv"),),), steps=()), "no call index 9"),
    (dict(goroutines=(_g(1),), parks=((ParkAt(2, "recv"), ParkAt(1, "recv")),), steps=()),
     "in the order"),
    (dict(goroutines=(_g(1),), parks=((),), steps=("run 1", "run 1")), "run 2 times"),
    (dict(goroutines=(_g(1),), parks=((),), steps=("run 2",)), "'run K'"),
    (dict(goroutines=(_g(1),), parks=(), steps=()), "one tuple of parks"),
])
def test_scene_rejects_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Scene("bad", **kwargs)


def test_park_at_rejects_unknown_operations():
    with pytest.raises(ValueError, match="unknown blocking operation"):
        ParkAt(1, "nap")


def test_rendered_scene_is_deterministic_and_has_each_operation():
    src = render_go(SCENES["interleave_three"])
    assert src == render_go(SCENES["interleave_three"])
    for needle in ("<-probeCh1_0", "probeCh1_1 <- uint64(d)*3+2", "select {",
                   "probeMu2_1.Lock()", "probeWg3_0.Wait()", "time.Sleep(time.Millisecond)",
                   "runtime.GC()", "probeStep1 != 1"):
        assert needle in src
    assert "runtime.Gosched()" in render_go(SCENES["gosched_ladder"])
    assert "debug.SetMaxStack(65536)" in render_go(SCENES["overflow_while_others_park"])


def test_scene_observation_round_trips():
    obs = SceneObservation((SceneMove(1, "main", 3, 2, 4096),), None)
    assert SceneObservation.from_dict(obs.to_dict()) == obs


# ---- scenes against the recorded real runs --------------------------------------------


def test_every_scene_is_recorded_and_current():
    assert set(RECORDED_SCENES) == set(SCENES), "run scripts/record_go.py"
    stale = [n for n, s in SCENES.items() if RECORDED_SCENES[n]["fingerprint"] != s.fingerprint()]
    assert not stale, f"re-record: {stale}"


@pytest.mark.parametrize("name", list(SCENES))
def test_simulator_matches_real_go_on_scenes(name):
    c = realgo.compare_recorded(SCENES[name], RECORDED)
    assert c.agree, "\n" + c.table()


@pytest.mark.parametrize("op", sorted(MEASURED))
def test_recorded_edges_shrink_exactly_one_goroutine(op):
    moves = RECORDED_SCENES[f"park_{op}_edge"]["moves"]
    shrinks = [m for m in moves if m[1] == "main"]
    assert shrinks == [[2, "main", 1, 1, 4096]]


def test_recorded_ladders_stop_where_the_park_depth_says():
    # recv in the entry: 40 + 40 + 192 + 800 = 1072 >= 4096/4; Gosched: 880 < 1024
    last = {n: RECORDED_SCENES[n]["moves"][-1][-1] for n in ("parked_shrink_ladder",
                                                               "gosched_ladder")}
    assert last == {"parked_shrink_ladder": 4096, "gosched_ladder": 2048}


def test_simulator_without_park_depths_disagrees(monkeypatch):
    """The mutant that scans parked goroutines at their own SP (the old model) fails."""
    from gostack import runtime
    monkeypatch.setattr(runtime, "PARK_DEPTH", dict.fromkeys(runtime.PARK_DEPTH, 0))
    wrong = [n for n in SCENES
             if not realgo.compare_recorded(SCENES[n], RECORDED).agree]
    assert {f"park_{op}_edge" for op in MEASURED if op != "gosched"} <= set(wrong)


def test_verify_go_recorded_runs_scenes(capsys):
    assert realgo.verify_main(["--recorded", "--case", "interleave_three"]) == 0
    out = capsys.readouterr().out
    assert "interleave_three" in out and "AGREE" in out and "script:" in out


def test_scene_comparison_marks_differences():
    sc = SCENES["park_recv_edge"]
    c = realgo.compare_recorded(sc, RECORDED)
    wrong = SceneObservation(c.real.moves[:-1], None)
    bad = realgo.SceneComparison(sc, c.frames, c.nosplit, wrong, c.real, "x")
    assert not bad.agree and "!!" in bad.table() and "DISAGREE" in bad.table()


def test_run_simulator_scene_takes_recorded_frames():
    case = RECORDED_SCENES["exit_then_start"]
    obs = run_simulator(SCENES["exit_then_start"], case["frames"], case["nosplit"])
    assert obs == SceneObservation.from_dict(case)


# ---- channel waiters: the sudog's elem follows the stack (stack.go adjustsudogs) ------


def _parked_with_slot(op: str) -> gs.Goroutine:
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.keep", frame=64, locals=(gs.Local("v", gs.SCALAR, 8),)))
    g.call(gs.Func("main.grow", frame=12000))
    g.ret()
    assert g.stack_size == 16384
    g.park(op, elem="v")
    return g


def test_a_receive_into_a_moved_slot_gets_the_value():
    g = _parked_with_slot("recv")
    old = g.addr("v")
    g.rt.gc()  # 88 + 64 + 192 + 800 < 4096: halves while parked
    assert g.stack_size == 8192 and g.addr("v") != old
    g.unpark(42)
    assert g.load("v") == 42


def test_a_send_from_a_moved_slot_gives_the_value():
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.keep", frame=64, locals=(gs.Local("v", gs.SCALAR, 8),)))
    g.store("v", 7)
    g.call(gs.Func("main.grow", frame=12000))
    g.ret()
    g.park("send", elem="v")
    rt.gc()
    assert g.stack_size == 8192
    assert g.unpark() == 7


def test_without_adjustsudogs_the_value_would_be_lost():
    """The mutant: the elem not adjusted, the sender writes into the freed old stack."""
    g = _parked_with_slot("recv")
    stale = g._elem
    g.rt.gc()
    g._elem = stale  # undo adjustsudogs
    g.unpark(42)
    assert g.load("v") == 0


def test_elem_is_for_channel_operations():
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40, locals=(gs.Local("v", gs.SCALAR, 8),)))
    with pytest.raises(gs.ProgramError, match="elem= is for recv"):
        g.park("mutex", elem="v")


# ---- deferred shrink: isShrinkStackSafe refuses, gp.preemptShrink, newstack does it ------


def _in_syscall() -> gs.Goroutine:
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.keep", frame=64))
    g.call(gs.Func("main.grow", frame=12000))
    g.ret()
    assert g.stack_size == 16384
    g.park("syscall")
    return g


def test_a_goroutine_in_a_syscall_is_not_shrunk_but_marked():
    g = _in_syscall()
    g.rt.gc()  # 88 + 64 + 160 + 800 < 4096, but isShrinkStackSafe says no
    assert g.stack_size == 16384 and g.shrink_pending
    assert [e.used for e in g.trace if isinstance(e, gs.GC)] == [88 + 64 + 160]


def test_the_pending_shrink_happens_at_the_next_synchronous_preemption():
    g = _in_syscall()
    g.rt.gc()
    g.unpark()
    g.preempt()
    g.call(gs.Func("main.next", frame=32))  # its prologue enters newstack: preempt path
    # shrinkstack from sched.sp = next's E: 88 + 64 + 8 = 160 in use, + 800 < 4096
    shrink = [e for e in g.trace if isinstance(e, gs.Shrink)]
    assert [(s.old_size, s.new_size, s.used) for s in shrink] == [(16384, 8192, 160)]
    assert not g.shrink_pending
    assert isinstance(g.trace[-1], gs.Call) and g.stack_size == 8192


def test_a_later_safe_scan_shrinks_and_the_flag_stays():
    """scanstack shrinks a shrink-safe goroutine at once; only newstack clears the flag."""
    g = _in_syscall()
    g.rt.gc()
    g.unpark()
    g.park("recv")
    g.rt.gc()
    assert g.stack_size == 8192 and g.shrink_pending


def test_recorded_syscall_scene_shrinks_only_after_the_syscall():
    moves = RECORDED_SCENES["syscall_defers_shrink"]["moves"]
    assert [m for m in moves if m[1] == "main"] == [[1, "main", 1, 3, 65536],
                                                   [1, "main", 1, 4, 32768]]
