"""The public runtime (gs.Runtime, rt.go, g.call, g.ret, g.runtime_gc, g.trace).

Expected values are the facts sheet's measured numbers (section 10, via the tables
in mutants.py) or derivations written in the test. Call index d is probe depth d:
call 0 is the goroutine's entry function.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from mutants import (
    MEASURED_GROWTH,
    MEASURED_SHRINK,
    MUTUAL_TRIGGERS,
    overflow_failures,
    pointer_failures,
    run_recursion,
    runtime_factory,
)

import gostack as gs
from gostack.adjust import no_adjust
from gostack.arch import POISON_NEW, POISON_OLD

REFERENCE = runtime_factory()
SP_LINE = re.compile(r"runtime: sp=0x([0-9a-f]+) stack=\[0x([0-9a-f]+), 0x([0-9a-f]+)\]")


def off(d: int, entry: int = 56, frame: int = 168) -> int:
    """hi - E at depth d of a self-recursion (section 10): 40 + entry + 8, then F + 8 a level."""
    return 40 + entry + 8 + (d - 1) * (frame + 8)


# ---- growth points --------------------------------------------------------------


@pytest.mark.parametrize("case", MEASURED_GROWTH, ids=lambda c: c.name)
def test_measured_growth_points(case):
    g = run_recursion(REFERENCE, case)
    assert tuple(g.trace.growth_points()) == case.growths
    sizes = [e.old_size for e in g.trace.grows] + [g.stack_size]
    assert sizes[0] == 2048 and sizes[-1] == case.growths[-1][1]


def test_recA_growth_points_follow_the_closed_form():
    # d = 1 + ceil((S - 928 - 104 - (168 - 128)) / 176) for S = 2 KiB .. 64 KiB.
    derived = [1 + math.ceil((2048 * 2**k - 1072) / 176) for k in range(6)]
    assert derived == [7, 19, 42, 88, 182, 368]
    g = run_recursion(REFERENCE, MEASURED_GROWTH[0])
    assert [e.call_index for e in g.trace.grows] == derived


def test_depth_88_is_the_equality_case():
    g = run_recursion(REFERENCE, MEASURED_GROWTH[0])
    grow = g.trace.grows[3]
    assert (grow.call_index, grow.old_size) == (88, 16384)
    assert grow.used == off(88) == 15416
    e = grow.old_hi - grow.used
    assert e - (168 - 128) == grow.old_lo + 928  # equal, and it grew: JLS, not JCS


def test_depth_734_is_the_small_form_equality_case():
    case = next(c for c in MEASURED_GROWTH if c.name == "t")
    g = run_recursion(REFERENCE, case)
    grow = g.trace.grows[-1]
    assert (grow.call_index, grow.old_size) == (734, 65536)
    assert grow.used == off(734, frame=80) == 64608
    assert grow.old_hi - grow.used == grow.old_lo + 928  # F <= 128: E itself == guard


def test_fourth_growth_from_a_40_byte_entry_comes_one_call_later():
    g = run_recursion(REFERENCE, next(c for c in MEASURED_GROWTH if c.name == "a40"))
    assert g.trace.growth_points()[3] == (89, 32768)
    # off(88) from a 40-byte entry is 16 bytes short of the equality case at 88.
    assert off(88, entry=40) + 40 == 16384 - 928 - 16


def test_mutual_recursion_triggers():
    case = next(c for c in MEASURED_GROWTH if c.name == "c")
    g = run_recursion(REFERENCE, case)
    assert tuple(e.func for e in g.trace.grows) == MUTUAL_TRIGGERS
    assert [e.call_index % 2 for e in g.trace.grows] == [0] * 6 + [1]  # M even, S odd


def test_huge_frame_grows_to_16k_in_one_copy():
    case = next(c for c in MEASURED_GROWTH if c.name == "b")
    g = run_recursion(REFERENCE, case)
    first = g.trace.grows[0]
    assert (first.call_index, first.old_size, first.new_size) == (1, 2048, 16384)
    assert first.doublings == 3
    assert first.used == 104
    assert len([e for e in g.trace.grows if e.call_index == 1]) == 1


def test_large_entry_frame_grows_at_call_index_0(rt):
    g = rt.go(gs.Func("main.big", frame=10280))
    (grow,) = g.trace.grows
    # used = 40: 4096 - 40 and 8192 - 40 < 11208 <= 16384 - 40.
    assert (grow.call_index, grow.used, grow.old_size, grow.new_size) == (0, 40, 2048, 16384)
    assert g.used == 40 + 10280


def test_entry_frame_equality_boundary(rt):
    # E = hi - 40; E - (F - 128) <= lo + 928  <=>  F >= 2048 - 40 - 928 + 128 = 1208.
    assert rt.go(gs.Func("main.e1200", frame=1200)).trace.grows == ()
    (grow,) = rt.go(gs.Func("main.e1208", frame=1208)).trace.grows
    assert (grow.call_index, grow.new_size) == (0, 4096)


def test_used_and_sp_follow_calls_and_rets(rt, worker, rec_a):
    g = rt.go(worker)
    assert g.used == 40 + 56 and g.sp == g.hi - 96
    g.call(rec_a)
    assert g.used == 96 + 8 + 168
    assert g.frame().used == 104 and g.frame().sp_used == 272
    g.ret()
    assert g.used == 96 and g.depth == 1
    g.ret()
    assert g.status is gs.Status.DEAD and g.depth == 0
    assert g.stack.freed


# ---- overflow -------------------------------------------------------------------


def test_set_max_stack_32768_overflows_at_182(rt, worker, rec_a):
    assert rt.set_max_stack(32768) == 1_000_000_000
    g = rt.go(worker)
    with pytest.raises(gs.StackOverflow) as info:
        for _ in range(400):
            g.call(rec_a)
    e = info.value
    lines = str(e).splitlines()
    assert len(lines) == 3
    assert lines[0] == "runtime: goroutine stack exceeds 32768-byte limit"
    m = SP_LINE.fullmatch(lines[1])
    assert m, lines[1]
    sp, lo, hi = (int(x, 16) for x in m.groups())
    assert hi - lo == 32768
    assert hi - sp == 31968 == off(182) + 8  # newstack prints sched.sp - 8
    assert lines[2] == "fatal error: stack overflow"
    assert e.call_index == 182 and e.func == "main.recA"
    assert g.status is gs.Status.FATAL
    assert g.calls == 183  # calls 0..182 were made; 182 died in its prologue
    ov = g.trace.overflow
    assert (ov.call_index, ov.old_size, ov.new_size, ov.used, ov.limit) == (
        182, 32768, 65536, off(182), 32768)
    with pytest.raises(gs.GoroutineExited):
        g.call(rec_a)


def test_overflow_check_function_passes_on_the_reference():
    assert overflow_failures(REFERENCE) == []


def test_default_limit_overflows_at_52185_from_512_mib():
    rt = gs.Runtime(trace=False)
    g = rt.go(gs.Func("main.worker", frame=56))
    big = gs.Func("main.recBig", frame=10280)
    with pytest.raises(gs.StackOverflow) as info:
        for _ in range(100_000):
            g.call(big)
    e = info.value
    assert e.call_index == 52185
    assert e.hi - e.lo == 0x20000000 == 512 * 2**20
    assert e.new_size == 2**30
    assert str(e).splitlines()[0] == "runtime: goroutine stack exceeds 1000000000-byte limit"
    assert g.trace.grows[-1].new_size == 2**29
    # Derivation: off(d) = 104 + 10288(d-1); growth from S = 2^29 at the first d with
    # off(d) + 10152 >= S - 928.
    s = 2**29
    assert 1 + math.ceil((s - 928 - 10152 - 104) / 10288) == 52185


# ---- shrinking ------------------------------------------------------------------


@pytest.mark.parametrize("entry", sorted(MEASURED_SHRINK))
def test_shrink_experiments_d_and_s(entry, rt, rec_a):
    g = rt.go(gs.Func("main.worker", frame=entry))
    for _ in range(400):
        g.call(rec_a)
    assert g.stack_size == 131072
    for _ in range(400):
        g.ret()
    sizes = []
    for _ in range(8):
        g.runtime_gc()
        sizes.append(g.stack_size)
    assert tuple(sizes) == MEASURED_SHRINK[entry]
    parked = 40 + entry + 136  # 232 for (d), 216 for (s)
    assert {e.used for e in g.trace.of(gs.GC)} == {parked}
    shrinks = g.trace.shrinks
    assert [s.gc for s in shrinks] == list(range(1, len(shrinks) + 1))  # one per GC
    assert all(s.new_size == s.old_size // 2 for s in shrinks)


def test_gc_while_unwinding(rt, worker, rec_a):
    g = rt.go(worker)
    for _ in range(400):
        g.call(rec_a)
    for _ in range(300):
        g.ret()
    # Innermost is recA at depth 100: parked used = off(100) + 168 + 136.
    parked = off(100) + 168 + 136
    assert parked == 17832
    g.runtime_gc()  # 17832 + 800 < 131072/4: halve
    g.runtime_gc()  # 18632 >= 65536/4 = 16384: stay
    assert [e.used for e in g.trace.of(gs.GC)] == [parked, parked]
    assert g.stack_size == 65536
    for _ in range(80):
        g.ret()
    parked = off(20) + 168 + 136  # 3752: + 800 = 4552
    assert parked == 3752
    sizes = []
    for _ in range(4):
        g.runtime_gc()
        sizes.append(g.stack_size)
    assert sizes == [32768, 16384, 16384, 16384]  # 4552 < 8192 (32 KiB/4), 4552 >= 4096
    assert g.trace.of(gs.GC)[-1].used == parked


def test_other_goroutines_are_scanned_where_they_stand(rt, rec_a):
    a = rt.go(gs.Func("main.worker", frame=56))
    b = rt.go(gs.Func("main.gcer", frame=0))
    for _ in range(100):
        a.call(rec_a)  # 32 KiB
    for _ in range(95):
        a.ret()
    b.runtime_gc()
    gc_a = a.trace.of(gs.GC)[-1]
    # 5 recA frames remain: innermost at depth 5, and no park frames below it.
    assert gc_a.used == off(5) + 168 == a.used == 976
    assert gc_a.gc == rt.gcs == 1


# ---- checks inside runtime.GC ----------------------------------------------------
# runtime.GC() runs on its caller's stack. Recorded on go1.27.3 (gostack/data/
# recorded.json, gc_first_edge_* and gc_later_edge_*): the process's first GC reaches a
# small-form check (frame 88) at E = SP - 752 before the scan, every GC one (frame 32)
# at E = SP - 544 after the scan. Small form: it fires when hi - E >= S - 928.


@pytest.mark.parametrize(("entry", "grows"), [(320, False), (328, True)])
def test_first_gc_grows_its_caller_at_a_margin_of_752(rt, entry, grows):
    g = rt.go(gs.Func("main.worker", frame=entry))
    used = 40 + entry
    assert (used + 752 >= 2048 - 928) is grows  # 1112 vs 1120, 1120 vs 1120
    g.runtime_gc()
    kinds = [type(e).__name__ for e in g.trace if not isinstance(e, gs.Call)]
    if not grows:
        assert kinds == ["GC"] and g.stack_size == 2048
        return
    assert kinds == ["Grow", "GC"]  # before the scan
    (grow,) = g.trace.grows
    # 4096 - 1120 = 2976 >= 88 + 928: one doubling.
    assert (grow.call_index, grow.used, grow.new_size) == (0, used + 752, 4096)
    assert grow.func == "runtime.mallocgcSmallScanNoHeader"


@pytest.mark.parametrize(("frame", "grows"), [(480, False), (488, True)])
def test_every_gc_grows_its_caller_in_the_sweep_at_a_margin_of_544(rt, frame, grows):
    g = rt.go(gs.Func("main.worker", frame=40))
    g.runtime_gc()  # the first GC, from 80 bytes in use: 80 + 752 < 1120, no growth
    g.call(gs.Func("main.gz", frame=frame))
    used = 40 + 40 + 8 + frame
    assert (used + 544 >= 1120) is grows  # 1112 vs 1120, 1120 vs 1120
    n = len(g.trace)
    g.runtime_gc()
    kinds = [type(e).__name__ for e in g.trace[n:]]
    assert kinds == (["GC", "Grow"] if grows else ["GC"])  # after the scan
    if grows:
        (grow,) = g.trace.grows
        assert (grow.call_index, grow.used, grow.new_size) == (1, used + 544, 4096)


def test_runtime_gc_takes_a_pending_preemption_in_its_own_prologue(rt, rec_a):
    # runtime.GC is an ordinary checked function (frame 48): after g.preempt() its
    # own prologue is "the next checked prologue" (facts sheet section 2), which
    # yields before any of the GC runs. So the Preempt comes first, and it is not
    # lost when the scan then shrinks the stack and resets stackguard0.
    g = rt.go(gs.Func("main.sworker", frame=40))
    for _ in range(50):
        g.call(rec_a)  # 16 KiB
    for _ in range(50):
        g.ret()
    g.runtime_gc()  # 16 KiB -> 8 KiB, and the process's first GC is behind us
    n = len(g.trace)
    g.preempt()
    g.runtime_gc()
    events = g.trace[n:]
    assert [type(e).__name__ for e in events] == ["Preempt", "GC", "Shrink"]
    assert events[0] == gs.Preempt(0, "runtime.GC")


# ---- preemption -----------------------------------------------------------------


def test_preempt_is_seen_by_the_next_checked_call_only(rt, worker, rec_a):
    leaf = gs.Func("main.leaf", frame=16, nosplit=True)
    g = rt.go(worker)
    for _ in range(3):
        g.call(rec_a)
    lo, hi = g.lo, g.hi
    g.preempt()
    g.call(leaf)  # NOSPLIT: no prologue, does not see stackPreempt
    assert g.trace.of(gs.Preempt) == ()
    g.ret()
    g.call(rec_a)  # call index 5
    assert g.trace.of(gs.Preempt) == (gs.Preempt(5, "main.recA"),)
    assert g.trace.grows == () and (g.lo, g.hi) == (lo, hi)  # no copy
    g.call(rec_a)
    assert len(g.trace.of(gs.Preempt)) == 1  # the guard is back to lo + 928
    assert g.stackguard0 == g.lo + 928


def test_preempt_then_growth_in_the_same_prologue(rt, worker, rec_a):
    g = rt.go(worker)
    for _ in range(6):
        g.call(rec_a)
    g.preempt()
    g.call(rec_a)  # depth 7: also the first growth of experiment (a)
    kinds = [type(e).__name__ for e in g.trace if not isinstance(e, (gs.Call, gs.Ret))]
    assert kinds == ["Preempt", "Grow"]
    assert g.trace.grows[0].call_index == 7 and g.stack_size == 4096


# ---- poisoning ------------------------------------------------------------------

VALUE = 0x0123456789ABCDEF


def _dangling(stages: gs.Stages, poison: bool) -> tuple[gs.Goroutine, gs.Grow]:
    rt = gs.Runtime(stages=stages, poison=poison)
    g = rt.go(gs.Func("main.worker", frame=56, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8))))
    g.store("x", VALUE)
    g.take_addr("p", "x")
    g.call(gs.Func("main.recBig", frame=10280))
    (grow,) = g.trace.grows
    return g, grow


def test_poisoned_dangling_pointer_reads_0xfc():
    g, grow = _dangling(gs.REFERENCE.replace(adjustframe=no_adjust), poison=True)
    p = g.load("p", 0)
    assert grow.old_lo <= p < grow.old_hi  # still points into the freed stack
    assert g.deref("p", 0) == POISON_OLD == 0xFCFCFCFCFCFCFCFC
    assert g.load("x", 0) == VALUE  # the copy itself is fine


def test_unpoisoned_dangling_pointer_reads_the_stale_value():
    g, grow = _dangling(gs.REFERENCE.replace(adjustframe=no_adjust), poison=False)
    assert grow.old_lo <= g.load("p", 0) < grow.old_hi
    assert g.deref("p", 0) == VALUE  # freed but not reused: stale, looks right


def test_adjusted_pointer_reads_the_stored_value_under_poisoning():
    g, grow = _dangling(gs.REFERENCE, poison=True)
    assert g.load("p", 0) == g.addr("x", 0)
    assert grow.new_lo <= g.load("p", 0) < grow.new_hi
    assert g.deref("p", 0) == VALUE


def test_poisoned_grow_preserves_words_never_written():
    # copystack memmoves the whole used region: every byte of [E, hi) reads the
    # same after the move, written or not. Only memory outside it shows 0xfd.
    rt = gs.Runtime(poison=True)
    g = rt.go(gs.Func("main.worker", frame=56, locals=(gs.Local("x", gs.SCALAR, 0),)))
    before = g.load("x")  # never stored: the fresh stack's contents
    g.call(gs.Func("main.recBig", frame=10280))
    assert g.stack.read(g.lo) == POISON_NEW  # below the copied region: poison
    assert g.load("x", 0) == before


# ---- pointers, uintptrs, heap pointers ----------------------------------------------


def test_pointers_uintptrs_and_heap_pointers_across_growths():
    assert pointer_failures(REFERENCE) == []


def test_uintptr_is_stale_by_the_sum_of_deltas(rt, rec_a):
    w = gs.Func("main.worker", frame=56, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8), gs.Local("u", gs.UINTPTR, 16)))
    g = rt.go(w)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    hi0, u0 = g.hi, g.addr("x")
    for _ in range(400):
        g.call(rec_a)
    assert len(g.trace.grows) == 6
    assert g.load("u", 0) == u0
    assert g.load("p", 0) - g.load("u", 0) == sum(e.delta for e in g.trace.grows) == g.hi - hi0


def test_pointer_in_an_inner_frame_to_an_outer_frame_follows_every_move(rt):
    w = gs.Func("main.worker", frame=56, locals=(gs.Local("x", gs.SCALAR, 0),))
    rec = gs.Func("main.rec", frame=616, locals=(
        gs.Local("p", gs.POINTER, 0), gs.Local("y", gs.SCALAR, 8), gs.Local("py", gs.POINTER, 16)))
    g = rt.go(w)
    g.store("x", 11)
    for i in range(1, 60):
        g.call(rec)
        g.take_addr("p", "x", src_frame=0)
        g.store("y", i)
        g.take_addr("py", "y", src_frame=i // 2 if i > 1 else 1)
    assert len(g.trace.grows) >= 4
    for i in range(1, 60):
        assert g.load("p", i) == g.addr("x", 0)
        assert g.deref("p", i) == 11
        src = i // 2 if i > 1 else 1
        assert g.load("py", i) == g.addr("y", src)
        assert g.deref("py", i) == src


# ---- invalid pointers -----------------------------------------------------------


def _with_locals() -> gs.Func:
    return gs.Func("main.worker", frame=56, locals=(
        gs.Local("p", gs.POINTER, 0), gs.Local("u", gs.UINTPTR, 8)))


@pytest.mark.parametrize("bad", [1, 0xFFF])
def test_invalid_pointer_is_found_at_the_next_move(rt, rec_a, rec_big, bad):
    g = rt.go(_with_locals())
    g.store("p", bad)  # accepted: the runtime only judges it when it scans the frame
    g.call(rec_a)  # no move yet: nothing happens
    g.ret()
    depth = g.hi - g.addr("p")
    with pytest.raises(gs.InvalidPointer) as info:
        g.call(rec_big)
    e = info.value
    assert (e.func, e.value) == ("main.worker", bad)
    # adjustframe scans the copy: the slot it names is in the new stack, same offset.
    new = rt.alloc.find(e.addr)
    assert new is not None and new.size == 16384 and new.hi - e.addr == depth
    assert str(e).splitlines() == [
        f"runtime: bad pointer in frame main.worker at {e.addr:#x}: {bad:#x}",
        "fatal error: invalid pointer found on stack",
    ]
    assert g.status is gs.Status.FATAL


def test_same_value_in_a_uintptr_slot_is_fine(rt, rec_big):
    g = rt.go(_with_locals())
    g.store("u", 5)
    g.call(rec_big)
    assert g.trace.grows and g.load("u", 0) == 5


def test_invalid_pointer_is_also_found_by_a_shrink(rt, rec_a):
    g = rt.go(_with_locals())
    for _ in range(50):
        g.call(rec_a)
    for _ in range(50):
        g.ret()
    g.store("p", 8)
    with pytest.raises(gs.InvalidPointer):
        g.runtime_gc()


def test_pointer_slot_of_a_fresh_frame_does_not_inherit_a_dead_frames_scalar(rt, rec_big):
    # A Go pointer variable starts out nil (or is dead in the stack map until
    # assigned). Here main.a leaves the scalar 5 in a word that main.b's pointer
    # local then occupies; b never assigns p, so the next move must not throw.
    g = rt.go(gs.Func("main.worker", frame=56))
    a = gs.Func("main.a", frame=24, locals=(gs.Local("n", gs.SCALAR, 0),))
    b = gs.Func("main.b", frame=24, locals=(gs.Local("p", gs.POINTER, 0),))
    g.call(a)
    g.store("n", 5)
    g.ret()
    g.call(b)
    assert g.load("p") == 0  # nil, not the 5 main.a left there
    g.call(rec_big)
    assert g.trace.grows and g.load("p", 1) == 0


# ---- negative deltas -----------------------------------------------------------


def test_grow_to_a_lower_address_still_fixes_pointers(rt):
    w = gs.Func("main.worker", frame=56, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8)))
    big = gs.Func("main.big", frame=2048)
    a = rt.go(w)
    a.call(big)  # a takes the first 4 KiB stack span
    # Sixteen more goroutines use up the first 2 KiB span, so the next one gets a
    # 2 KiB stack in a span above a's 4 KiB span, and its 4 KiB stack comes from below.
    for i in range(16):
        rt.go(gs.Func(f"main.filler{i}", frame=0))
    b = rt.go(w)
    b.store("x", 77)
    b.take_addr("p", "x")
    b.call(big)
    (grow,) = b.trace.grows
    assert grow.delta < 0
    assert grow.delta == grow.new_hi - grow.old_hi
    assert b.load("p", 0) == b.addr("x", 0) == grow.old_hi - 96 + grow.delta
    assert b.deref("p", 0) == 77


def test_shrink_to_a_lower_address_still_fixes_pointers(rt):
    w = gs.Func("main.sworker", frame=40, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8)))
    g = rt.go(w)
    g.store("x", 99)
    g.take_addr("p", "x")
    g.call(gs.Func("main.big", frame=2048))  # 4 KiB
    g.ret()
    g.runtime_gc()  # 216 + 800 < 1024: back to 2 KiB, the stack it just freed
    (shrink,) = g.trace.shrinks
    assert (shrink.old_size, shrink.new_size) == (4096, 2048)
    assert shrink.delta < 0
    assert g.load("p") == g.addr("x")
    assert g.deref("p") == 99


# ---- the trace ------------------------------------------------------------------


def test_trace_events_are_frozen(rt, worker, rec_big):
    g = rt.go(worker)
    g.call(rec_big)
    for event in g.trace:
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.call_index = 99  # type: ignore[misc]
    assert not hasattr(g.trace, "append") and not hasattr(g.trace, "__setitem__")


def test_trace_is_taken_once_per_new_event(rt, worker, rec_big):
    g = rt.go(worker)
    first = g.trace
    assert g.trace is first  # no event since: the same frozen trace, not a new copy
    g.call(rec_big)
    later = g.trace
    assert later is not first and len(later) > len(first)
    assert tuple(first) == tuple(later[: len(first)])  # taken traces never change


def test_trace_off_keeps_moves_and_drops_calls():
    rt = gs.Runtime(trace=False)
    g = rt.go(gs.Func("main.worker", frame=56))
    for _ in range(10):
        g.call(gs.Func("main.recA", frame=168))
    g.ret()
    assert g.trace.of(gs.Call) == () and g.trace.of(gs.Ret) == ()
    assert g.trace.growth_points() == [(7, 4096)]


def test_trace_calls_and_rets_agree_with_state(rt, worker, rec_a):
    g = rt.go(worker)
    g.call(rec_a)
    g.ret()
    calls = g.trace.of(gs.Call)
    assert calls == (
        gs.Call(0, "main.worker", 56, 40, True),
        gs.Call(1, "main.recA", 168, 104, True),
    )
    assert g.trace.of(gs.Ret) == (gs.Ret("main.recA", 96),)


def test_stages_may_return_numpy_integers_but_not_bools():
    """A stage's integer result is read with operator.index (np.int64 works, as it does in
    a notebook); a bool is still refused where a size is asked."""
    np = pytest.importorskip("numpy")
    from gostack import copystack, newstack, shrink

    def run(**stages):
        rt = gs.Runtime(trace=True, stages=gs.Stages().replace(**stages))
        g = rt.go(gs.Func("main.entry", frame=56))
        for _ in range(200):
            g.call(gs.Func("main.rec", frame=168))
        for _ in range(200):
            g.ret()
        rt.gc()
        return [type(e).__name__ + repr(e.new_size) for e in g.trace
                if type(e).__name__ in ("Grow", "Shrink")]

    want = run()
    got = run(newsize=lambda *a: np.int64(newstack.new_size(*a)),
              copystack=lambda *a: np.int64(copystack.copystack(*a)),
              shrink=lambda s, u: None if shrink.shrink_size(s, u) is None
              else np.int64(shrink.shrink_size(s, u)))
    assert got == want and "Shrink" in "".join(want)
    with pytest.raises(gs.RuntimeThrow, match="new size True does not grow"):
        run(newsize=lambda *a: True)
