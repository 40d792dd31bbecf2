"""Where freed stacks go (runtime/stack.go stackfree, freeStackSpans; go1.27.3).

Expected addresses are derived by hand from the allocator's rules: small stacks come from
32 KiB spans of fresh pages and go back on the front of their pool; a large stack freed
outside a GC goes back to the heap (never handed out again in this model), one freed
during a GC waits on stackLarge for a stack of its size in the same GC, and the GC's end
returns that list to the heap.
"""

from __future__ import annotations

import gostack as gs
from gostack.stackalloc import ARENA_BASE, StackAllocator, adaptive_start_size

KIB = 1024


def _entry() -> gs.Func:
    return gs.Func("main.w", frame=40)


def test_a_large_stack_freed_outside_a_gc_is_not_reused():
    rt = gs.Runtime()
    a = rt.go(_entry(), stack_size=64 * KIB)
    freed_lo = a.stack.lo
    a.ret()  # the goroutine exits at _GCoff: stackfree -> mheap_.freeManual
    b = rt.go(_entry(), stack_size=64 * KIB)
    assert b.stack.lo != freed_lo
    assert b.stack.lo == freed_lo + 64 * KIB  # the next fresh pages


def test_a_large_stack_freed_during_a_gc_serves_that_gc_then_goes_back():
    rt = gs.Runtime()
    a = rt.go(_entry(), stack_size=128 * KIB)  # scanned first: 128 -> 64 KiB
    b = rt.go(_entry(), stack_size=256 * KIB)  # then 256 -> 128 KiB
    a_old, b_old = a.stack.lo, b.stack.lo
    rt.gc()
    assert (a.stack_size, b.stack_size) == (64 * KIB, 128 * KIB)
    # a's 64 KiB: stackLarge has no 64 KiB span, so fresh pages after b's 256 KiB
    assert a.stack.lo == b_old + 256 * KIB
    # b's 128 KiB: a's old stack, freed earlier in the same GC
    assert b.stack.lo == a_old
    # after the GC (freeStackSpans) b's old 256 KiB is the heap's: a new one is fresh
    c = rt.go(_entry(), stack_size=256 * KIB)
    assert c.stack.lo == a.stack.lo + 64 * KIB


def test_small_stacks_come_back_first_with_what_their_last_owner_left():
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.w", frame=40, locals=[gs.Local("x", gs.SCALAR, 0)]))
    g.store("x", 0x5EED)
    lo, addr = g.stack.lo, g.addr("x")
    g.ret()
    h = rt.go(_entry())  # same order, freed last: the same 2 KiB piece
    assert h.stack.lo == lo
    assert rt.read(addr) == 0x5EED  # never written by h: stale, not zero


def test_pool_pieces_are_handed_out_from_the_top_of_a_fresh_span():
    alloc = StackAllocator()
    first, second = alloc.stackalloc(2 * KIB), alloc.stackalloc(2 * KIB)
    assert first.lo == ARENA_BASE + 32 * KIB - 2 * KIB
    assert second.lo == first.lo - 2 * KIB


def test_adaptive_start_caps_at_the_current_limit_before_the_floor():
    # gcComputeStartingStackSize: avg + 928, capped at maxstacksize, floored at 2048, round2
    assert adaptive_start_size([1000]) == 2048  # 1,928
    assert adaptive_start_size([2000]) == 4096  # 2,928
    assert adaptive_start_size([100_000], max_stack=50_000) == 65_536  # above a limit
    assert adaptive_start_size([5000], max_stack=1000) == 2048  # the floor comes last
    assert adaptive_start_size([5000], max_stack=0) == 2048
    assert adaptive_start_size([]) == 2048


def test_bytes_copied_counts_growths_and_shrinks():
    # newproc1 leaves 32 bytes and goexit's return address above the entry: hi - E = 40
    rt = gs.Runtime()
    g = rt.go(_entry())  # used 40 + 40 = 80
    g.call(gs.Func("main.big", frame=3000))  # E = 88: 2 KiB cannot hold 3000 + 928
    assert [(e.old_size, e.new_size, e.used) for e in g.trace.grows] == [(2048, 4096, 88)]
    g.ret()  # used 80 again
    rt.gc()  # 80 + 800 < 4096 / 4: halve; copystack copies hi - sp = 80 bytes
    assert [(e.old_size, e.new_size) for e in g.trace.shrinks] == [(4096, 2048)]
    assert g.trace.bytes_copied() == 88 + 80


def test_a_nosplit_frame_runs_without_a_check_until_it_leaves_the_stack():
    rt = gs.Runtime(link_check=False)  # what the linker's check prevents
    g = rt.go(_entry())  # used 80
    g.call(gs.Func("main.leaf", frame=1800, nosplit=True))  # 88 + 1800 = 1888 <= 2048
    assert g.stack_size == 2048 and not g.trace.grows  # below the guard, never checked
    call = g.trace.of(gs.Call)[-1]
    assert (call.func, call.checked) == ("main.leaf", False)
    g.ret()
    try:
        g.call(gs.Func("main.huge", frame=2000, nosplit=True))  # 88 + 2000 = 2088
    except gs.NosplitOverflow as e:
        assert e.over == 40 and "40 bytes below the stack" in str(e)
    else:
        raise AssertionError("a nosplit frame past lo must not run")
    assert g.status is gs.Status.FATAL
