"""What a blocking call runs before it parks, and a deferred shrink done at a real
synchronous preemption (issue 14).

Expected values are hand arithmetic on go1.27.3's frame sizes (the TEXT lines of
``go build -gcflags=runtime=-S``: chanrecv1 $32, chanrecv $112, gopark $24, selectgo
$312, sellock $32, lock2 $96, acquireSudog $96, newobject $32, mallocgc $40,
mallocgcSmallScanNoHeader $88, time.Sleep $80) or the real runs recorded in
gostack/data/recorded.json; none comes from the code under test.
"""

from __future__ import annotations

import pytest

import gostack as gs
from gostack import parkpath, realgo
from gostack.arch import STACK_GUARD
from gostack.scene import SCENES, SPIN_FUNC, render_go

RECORDED_SCENES = realgo.load_recorded()["scenes"]
SPIN = gs.Func(SPIN_FUNC, frame=8)

# hi - E of gopark (its caller's callees), from the user frame's SP: the frames of the
# chain plus a return address each (chan.go, select.go, sema.go, time.go).
GOPARK_E = {"recv": 8 + 32 + 8 + 112 + 8, "send": 8 + 40 + 8 + 104 + 8,
            "select": 8 + 312 + 8, "mutex": 8 + 72 + 8 + 48 + 8 + 96 + 8,
            "wg": 8 + 32 + 8 + 48 + 8 + 96 + 8, "sleep": 8 + 80 + 8}
# hi - E of the deepest check on the way to gopark, below gopark's E.
SELLOCK_LOCK2 = 32 + 8  # selectgo -> sellock ($32) -> lock2
NEW_SUDOG = 96 + 8 + 32 + 8 + 40 + 8  # acquireSudog -> newobject -> mallocgc -> mSSNH
NEW_TIMER = 32 + 8 + 40 + 8  # timeSleep -> newobject -> mallocgc -> mSSNH
ENTRY_E = 40  # hi - E of a goroutine's entry function (newproc's reserve + goexit's PC)


def test_the_offsets_are_the_frame_arithmetic():
    assert GOPARK_E == {"recv": 168, "send": 168, "select": 328, "mutex": 248, "wg": 208,
                        "sleep": 96}
    deepest = {name: off for name, _, off in parkpath.ALWAYS["select"]}
    assert deepest["runtime.lock2"] == SELLOCK_LOCK2
    assert max(off for _, _, off in parkpath.SUDOG_MALLOC) == NEW_SUDOG == 192
    assert max(off for _, _, off in parkpath.TIMER_MALLOC) == NEW_TIMER == 88
    # every check below gopark has a small frame (<= 128): it compares E itself
    assert all(f <= 128 for c in (parkpath.SUDOG_MALLOC, parkpath.TIMER_MALLOC,
                                  parkpath.ALWAYS["select"]) for _, f, _ in c)


# (scene, goroutine): hi - E of the deepest check before gopark, by hand: the entry's SP
# (40 + $F of worker) plus gopark's E plus the deeper path that goroutine takes.
EDGES = {
    ("park_grows_recv_edge", 1): GOPARK_E["recv"],  # the cached sudog
    ("park_grows_recv_edge", 2): GOPARK_E["recv"],
    ("park_grows_recv_edge", 3): GOPARK_E["recv"],  # takes the cached one and keeps it
    ("park_grows_recv_edge", 4): GOPARK_E["recv"] + NEW_SUDOG,
    ("park_grows_recv_edge", 5): GOPARK_E["recv"] + NEW_SUDOG,
    ("park_grows_select_edge", 1): GOPARK_E["select"] + NEW_SUDOG,  # one cached, one new
    ("park_grows_select_edge", 2): GOPARK_E["select"] + NEW_SUDOG,  # two new
    ("park_grows_select_edge", 3): GOPARK_E["select"] + SELLOCK_LOCK2,  # four cached now
    ("park_grows_select_edge", 4): GOPARK_E["select"] + SELLOCK_LOCK2,
    ("park_grows_sema_edge", 1): GOPARK_E["mutex"],  # the cached sudog, kept
    ("park_grows_sema_edge", 2): GOPARK_E["mutex"] + NEW_SUDOG,
    ("park_grows_sema_edge", 3): GOPARK_E["mutex"] + NEW_SUDOG,
    ("park_grows_sema_edge", 4): GOPARK_E["wg"] + NEW_SUDOG,
    ("park_grows_sema_edge", 5): GOPARK_E["wg"] + NEW_SUDOG,
    ("park_grows_sleep_edge", 1): GOPARK_E["sleep"] + NEW_TIMER,
    ("park_grows_sleep_edge", 2): GOPARK_E["sleep"] + NEW_TIMER,
}


@pytest.mark.parametrize("name", sorted({n for n, _ in EDGES}))
def test_recorded_park_edges_grow_where_the_deepest_check_reaches_the_guard(name):
    rec = RECORDED_SCENES[name]
    grown = {m[0] for m in rec["moves"]}
    assert all(m[1:] == ["main", 0, 0, 4096] for m in rec["moves"])  # before parking
    reached = set()
    for (scene, k), below in EDGES.items():
        if scene != name:
            continue
        e = ENTRY_E + rec["frames"][f"main.worker{k}"] + below
        reached.add(e)
        # the check fires once hi - E reaches 2048 - 928
        assert (k in grown) == (e >= 2048 - STACK_GUARD), (k, e)
    # the scene's pairs sit one word apart, on either side of the edge
    assert {2048 - STACK_GUARD - 8, 2048 - STACK_GUARD} <= reached


def test_without_the_park_path_the_recorded_edges_disagree(monkeypatch):
    monkeypatch.setattr(gs.Goroutine, "_park_path", lambda self, op: ())
    for name in ("park_grows_recv_edge", "park_grows_select_edge", "park_grows_sleep_edge",
                 "park_grows_sema_edge"):
        assert not realgo.compare_recorded(SCENES[name]).agree, name


def test_a_new_sudog_only_when_the_cache_is_empty():
    rt = gs.Runtime()
    assert rt.sudogs == 1
    g1 = rt.go(gs.Func("main.a", frame=40))
    g1.park("select")  # one cached, one allocated: both held
    assert rt.sudogs == 0
    g2 = rt.go(gs.Func("main.b", frame=40))
    g2.park("recv")
    g1.unpark()
    g2.unpark()
    assert rt.sudogs == 3  # releaseSudog puts back every one taken or allocated


def test_a_second_sleep_allocates_no_timer():
    rt = gs.Runtime()
    # SP at 40 + 896 = 936: the first sleep's malloc reaches 936 + 184 = 1120 and grows;
    # a goroutine that slept once (at its entry) does not allocate again at that depth.
    g = rt.go(gs.Func("main.w", frame=40))
    g.park("sleep")
    g.unpark()
    g.call(gs.Func("main.deep", frame=896 - 40 - 8))  # SP at 936 again
    g.park("sleep")  # 936 + 96 < 1120
    assert g.stack_size == 2048


# ---- a deferred shrink done in newstack, at sysmon's preemption ----------------------


def test_spin_is_preempted_in_its_prologue_and_does_the_pending_shrink():
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.keep", frame=64))
    g.call(gs.Func("main.grow", frame=12000))  # 16 KiB
    g.ret()
    g.park("syscall")
    rt.gc()
    g.unpark()
    g.spin(SPIN)
    assert g.status is gs.Status.RUNNABLE and g.parked == "spin"
    # shrinkstack from sched.sp = probeSpin's E: 40 + 40 + 8 + 64 + 8 = 160
    shrinks = [(e.old_size, e.new_size, e.used) for e in g.trace if isinstance(e, gs.Shrink)]
    assert shrinks == [(16384, 8192, 160)] and not g.shrink_pending
    assert isinstance(g.trace[-1], gs.Preempt) and g.trace[-1].func == SPIN_FUNC
    with pytest.raises(gs.GoroutineExited, match="unpark"):
        g.call(gs.Func("main.x", frame=8))
    rt.gc()  # a preempted goroutine is scanned at sched.sp: 160
    assert [e.used for e in g.trace if isinstance(e, gs.GC)][-1] == 160
    g.unpark()
    assert g.status is gs.Status.RUNNING and g.parked is None
    g.ret(), g.ret()
    assert g.status is gs.Status.DEAD


def test_spin_needs_a_checked_function():
    g = gs.Runtime().go(gs.Func("main.worker", frame=40))
    with pytest.raises(gs.ProgramError, match="NOSPLIT"):
        g.spin(gs.Func("main.leaf", frame=0, nosplit=True))


def test_recorded_deferred_shrink_happens_at_the_preemption():
    moves = RECORDED_SCENES["deferred_shrink_at_preemption"]["moves"]
    main = [m for m in moves if m[1] == "main"]
    # goroutine 1 in read(2) through GCs 1 and 2: no shrink; back and spinning at call 1,
    # sysmon's preemption halves it once (the flag is a bool) before GC 3
    assert [m for m in main if m[0] == 1] == [[1, "main", 1, 2, 65536],
                                             [1, "main", 1, 3, 32768],
                                             [1, "main", 0, 4, 16384]]
    # goroutine 2, parked in recv, is shrunk by each GC, and its spin has none pending
    assert [m for m in main if m[0] == 2] == [[2, "main", 2, 1, 65536],
                                             [2, "main", 2, 2, 32768],
                                             [2, "main", 1, 3, 16384]]


def test_a_spin_scene_runs_without_asynchronous_preemption():
    scene = SCENES["deferred_shrink_at_preemption"]
    assert "asyncpreemptoff=1" in scene.godebug
    assert "func probeSpin()" in render_go(scene)
    assert "probeSpin" not in render_go(SCENES["syscall_defers_shrink"])
