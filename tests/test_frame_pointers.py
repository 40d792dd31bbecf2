"""Frame pointers and the closure context across stack moves (issue 14).

go1.27.3 linux/amd64 always keeps frame pointers (runtime/runtime2.go
framepointer_enabled). A frame of $N > 0 bytes saves its caller's BP in its top word,
E - 8, and points BP at that slot (cmd/internal/obj/x86/obj6.go preprocess: the split
check, then PUSHQ BP; MOVQ SP, BP; the TEXT line's $N counts the slot); a frameless
leaf ($0) saves none. copystack moves every saved BP that points into the old stack
(stack.go adjustframe), and gp.sched.bp and gp.sched.ctxt (adjustctxt), which
morestack filled from BP and DX (asm_amd64.s morestack).

The expected values are derived by hand from the layout: a new goroutine's entry E is
hi - 40 (newproc1's 32-byte reserve and goexit's return PC), each frame's E is its
caller's E minus the caller's frame and one return address, its slot is E - 8.
"""

from __future__ import annotations

import random

import pytest

import gostack as gs
from gostack import realgo
from gostack.errors import EscapeError, ProgramError

MAIN, A, B, C = (gs.Func("main.main", frame=56), gs.Func("main.a", frame=400),
                 gs.Func("main.b", frame=200), gs.Func("main.c", frame=1000))

# The first stack of a fresh runtime: [0xc000007800, 0xc000008000), 2 KiB.
HI = 0xC000008000
# E:  main hi-40, a hi-(40+56+8)=hi-104, b hi-(104+400+8)=hi-512, c hi-(512+200+8)=hi-720
MAIN_BP, A_BP, B_BP = HI - 48, HI - 112, HI - 520  # each slot is E - 8


def three_frames() -> gs.Goroutine:
    g = gs.Runtime().go(MAIN)
    g.call(A)
    g.call(B)
    return g


def test_three_frames_before_a_move():
    g = three_frames()
    s = g.snapshot()
    assert s.hi == HI
    assert [(f.func, f.bp, f.saved_bp) for f in s.frames] == [
        ("main.main", 0xC000007FD0, 0),  # newproc1 cleared g.sched: the entry saves BP 0
        ("main.a", 0xC000007F90, 0xC000007FD0),
        ("main.b", 0xC000007DF8, 0xC000007F90),
    ]
    assert (MAIN_BP, A_BP, B_BP) == (0xC000007FD0, 0xC000007F90, 0xC000007DF8)
    assert all(f.bp == f.e - 8 for f in s.frames)
    assert s.bp == B_BP  # the BP register in the innermost frame
    assert s.bp_chain() == ((B_BP, A_BP), (A_BP, MAIN_BP), (MAIN_BP, 0))


def test_three_frames_after_a_growth_by_a_known_delta():
    g = three_frames()
    # main.c: E at hi - 720; its check fires (720 + 1000 - 128 >= 2048 - 928), and
    # newstack's first doubling fits (4096 - 720 >= 1000 + 928): 2 KiB -> 4 KiB.
    g.call(C)
    (grow,) = g.trace.grows
    assert (grow.old_size, grow.new_size, grow.used) == (2048, 4096, 720)
    assert (grow.new_lo, grow.new_hi) == (0xC00000F000, 0xC000010000)
    delta = 0xC000010000 - HI
    assert grow.delta == delta == 0x8000
    # morestack ran before main.c's PUSHQ BP: sched.bp was main.b's slot
    assert grow.sched_bp == (B_BP, B_BP + delta) == (0xC000007DF8, 0xC00000FDF8)
    assert grow.ctxt == (0, 0)  # a plain call: DX is no closure context
    assert grow.adjusted == ()  # the stack map's pointers: none here; BPs are not in it
    s = g.snapshot()
    assert [(f.func, f.bp, f.saved_bp) for f in s.frames] == [
        ("main.main", MAIN_BP + delta, 0),
        ("main.a", A_BP + delta, MAIN_BP + delta),
        ("main.b", B_BP + delta, A_BP + delta),
        ("main.c", 0xC000010000 - 728, B_BP + delta),  # main.c's E is new hi - 720
    ]
    assert s.bp_chain() == ((0xC00000FD28, 0xC00000FDF8), (0xC00000FDF8, 0xC00000FF90),
                            (0xC00000FF90, 0xC00000FFD0), (0xC00000FFD0, 0))


def test_frameless_leaf_keeps_its_callers_bp():
    g = gs.Runtime().go(MAIN)
    g.call(gs.Func("main.leaf", frame=0))
    s = g.snapshot()
    assert (s.frames[-1].bp, s.frames[-1].saved_bp) == (0, 0)
    assert s.bp == MAIN_BP
    assert s.bp_chain() == ((MAIN_BP, 0),)


def test_shrink_of_a_goroutine_parked_in_recv_moves_sched_bp():
    rt = gs.Runtime()
    g = rt.go(MAIN)
    g.call(gs.Func("main.big", frame=5000))
    g.ret()
    g.park("recv")  # chanrecv1 32 -> chanrecv 112 -> gopark 24: sched.sp at used + 192
    rt.gc()
    (shrink,) = g.trace.shrinks
    # used = 40 + 56 = 96, sched.sp at 96 + 192 = 288; gopark's E at 288 - 24 = 264,
    # its slot (mcall's caller's BP) at 264 + 8 = 272 below hi
    assert shrink.used == 288
    assert shrink.sched_bp == (shrink.old_hi - 272, shrink.new_hi - 272)
    s = g.snapshot()
    assert s.bp_chain() == ((s.hi - 48, 0),)


def test_gosched_and_runtime_gc_sched_bp():
    rt = gs.Runtime()
    g = rt.go(MAIN)
    g.call(gs.Func("main.big", frame=5000))
    g.ret()
    g.park("gosched")  # mcall from main.main itself: sched.bp is main.main's BP
    rt.gc()
    assert g.trace.shrinks[0].sched_bp == (g.trace.shrinks[0].old_hi - 48, g.hi - 48)

    rt2 = gs.Runtime()
    h = rt2.go(MAIN)
    h.call(gs.Func("main.big", frame=5000))
    h.ret()
    h.runtime_gc()  # GC 48 -> gcWaitOnMark 40 -> gopark 24: sched.sp at 96 + 136 = 232
    (shrink,) = h.trace.shrinks
    assert shrink.used == 232
    assert shrink.sched_bp == (shrink.old_hi - 216, shrink.new_hi - 216)  # 232 - 24 + 8


def test_closure_context_on_the_stack_moves_with_it():
    main = gs.Func("main.main", frame=56, locals=(gs.Local("fv", gs.Kind.SCALAR, 8),))
    g = gs.Runtime().go(main)
    fv = g.addr("fv")  # a non-escaping closure's funcval, in main's frame
    assert fv == HI - 96 + 8
    dx = g.call_closure(gs.Func("main.main.func1", frame=3000), fv)
    (grow,) = g.trace.grows
    assert grow.ctxt == (fv, fv + grow.delta)
    assert dx == fv + grow.delta == g.addr("fv", 0)
    # gogo cleared sched.ctxt: a later plain growth carries none
    g.call(gs.Func("main.deep", frame=20000))
    assert g.trace.grows[-1].ctxt == (0, 0)


def test_closure_context_in_the_heap_or_without_growth_stays():
    rt = gs.Runtime()
    g = rt.go(MAIN)
    obj = rt.new_object(2)
    dx = g.call_closure(gs.Func("main.main.func1", frame=3000), obj)
    assert dx == obj and g.trace.grows[-1].ctxt == (obj, obj)
    assert g.call_closure(gs.Func("main.main.func2", frame=16), obj) == obj


def test_closure_context_is_checked():
    rt = gs.Runtime()
    g = rt.go(MAIN)
    f = gs.Func("main.main.func1", frame=16)
    with pytest.raises(ProgramError):
        g.call_closure(f, 8)
    with pytest.raises(EscapeError):
        g.call_closure(f, g.sp - 8)  # below SP: no live frame
    other = rt.go(MAIN)
    with pytest.raises(EscapeError):
        g.call_closure(f, other.hi - 8)
    assert g.depth == 1  # nothing was called


@pytest.mark.parametrize("seed", range(20))
def test_bp_chain_follows_every_move(seed):
    rnd = random.Random(seed)
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.main", frame=rnd.choice([8, 56, 200])))
    for i in range(rnd.randint(5, 60)):
        if g.depth > 1 and rnd.random() < 0.3:
            g.ret()
        else:
            g.call(gs.Func(f"main.f{i}", frame=rnd.choice([0, 8, 24, 168, 1000, 5000])))
        if rnd.random() < 0.1:
            g.runtime_gc()
        s = g.snapshot()
        slots = [f.bp for f in reversed(s.frames) if f.frame]
        chain = s.bp_chain()
        assert [a for a, _ in chain] == slots
        assert [v for _, v in chain] == slots[1:] + [0]
        assert all(s.lo <= a < s.hi and a == f.e - 8
                   for f in s.frames if f.frame for a in (f.bp,))
    for ev in (*g.trace.grows, *g.trace.shrinks):
        old, new = ev.sched_bp
        assert old == 0 or (ev.old_lo <= old < ev.old_hi and new == old + ev.delta)


@pytest.mark.go
@pytest.mark.parametrize("name", sorted(realgo.FP_CASES))
def test_frame_pointer_probe_live(name):
    """Real go1.27.3: main.walk follows BP from its own slot to the entry's saved 0
    before and after main.probe's stack grew, and a closure with its context on the
    stack grows its stack in its prologue; both as recorded and as simulated."""
    if not realgo.available().ok:
        pytest.skip("Go is not installed")
    run = realgo.run_fp(name)
    assert run == realgo.load_recorded()["frame_pointers"][name]
    assert realgo.simulate_fp(name, run["frames"]) == run


def test_deferred_shrink_takes_sched_bp_from_morestack():
    rt = gs.Runtime()
    g = rt.go(MAIN)
    g.call(gs.Func("main.big", frame=5000))
    g.ret()
    g.park("syscall")  # isShrinkStackSafe refuses: gp.preemptShrink
    rt.gc()
    assert g.shrink_pending and not g.trace.shrinks
    g.unpark()
    g.preempt()
    g.call(gs.Func("main.f", frame=24))  # newstack's preempt path does the shrink
    (shrink,) = g.trace.shrinks
    assert shrink.used == 96 + 8  # sched.sp: main.f's E
    # morestack ran in main.f's prologue: sched.bp is main.main's slot, hi - 48
    assert shrink.sched_bp == (shrink.old_hi - 48, shrink.new_hi - 48)
    assert g.snapshot().bp_chain() == ((g.hi - 112, g.hi - 48), (g.hi - 48, 0))
