"""Segmented stacks (Go 1.2 and 1.1): every expected number is derived here by hand.

Go 1.2 linux/amd64 facts used in the derivations (stack.h, runtime.h, 6l/pass.c):
a segment is 8192 bytes; its top 96 bytes hold the Stktop; the guard is 256 bytes
above its bottom; a CALL pushes an 8-byte return PC; the prologue splits when
SP - max(0, frame - 128) <= guard; a new segment is max(8192, more + args + 2048)
where more = frame only if 96 + args + 8 + frame + 8 + 128 >= 8192, else 0.

So on a fresh goroutine with no entry arguments the entry function starts at
SP = 8192 - 96 - 8 = 8088, and the k-th nested call of a frame F starts at
SP_k = 8088 - (k - 1) * (F + 8).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gostack.segmented import (
    GO1_1,
    GO1_2,
    ContiguousCosts,
    NoBoundaryError,
    SegmentedOpError,
    SegmentedOverflowError,
    SegmentedSizeError,
    SegmentedStack,
    SegmentedThrow,
    SegmentedUnderflowError,
    StackSegmentCache,
    boundary_depth,
    compare_with_contiguous,
    hot_split_program,
    run_ops,
)

KIB8 = 8192


def test_go12_constants_are_the_release_values() -> None:
    p = GO1_2
    assert (p.stack_min, p.stack_extra, p.stack_big) == (8192, 2048, 4096)
    assert (p.stack_guard, p.stack_small, p.stack_system) == (256, 128, 0)
    # Stktop on amd64: 2 words + Gobuf (6 words) + 2 uint32 + argp + free + bool (padded).
    assert p.stktop_size == 8 * (2 + 6 + 1 + 1 + 1 + 1) == 96 == p.stack_top
    assert (p.stack_cache_size, p.stack_cache_batch) == (32, 16)
    assert p.max_stack_size == 1_000_000_000
    assert p.fixed_stack == 8192 and p.stack_limit == 128
    # Go 1.1: 4 KiB segments, 1 KiB extra, 3-word Gobuf and no panicwrap: 9 words.
    assert (GO1_1.stack_min, GO1_1.stack_extra, GO1_1.stktop_size) == (4096, 1024, 72)
    assert GO1_1.max_stack_size is None and GO1_1.unconditional_split_from == 4096


def test_fresh_goroutine_owns_one_cached_segment() -> None:
    s = SegmentedStack()
    c = s.costs
    assert (c.depth, c.live_segments, c.reserved_bytes, c.segments_allocated) == (0, 1, KIB8, 0)
    (seg,) = s.segments
    assert (seg.size, seg.used, seg.guard, seg.cached) == (8192, 96, 256, True)
    # malg took the first segment from an empty per-M cache: one batch of 16 from the OS.
    assert c.cache.refills_from_os == 1 and c.cache.per_m_count == 15
    assert c.cache.os_bytes == 16 * 8192


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        # F=1000 (medium form): split iff SP_k - 872 <= 256, i.e. 8088 - (k-1)*1008 <= 1128,
        # (k-1) >= 6960/1008 = 6.9 -> k = 8 is the first split: 7 frames fit.
        (1000, 7),
        # F=0 (small form): split iff SP_k <= 256: (k-1)*8 >= 7832 -> k-1 = 979.
        (0, 979),
        # F=128 is still the small form: (k-1)*136 >= 7832 -> k-1 >= 57.6 -> 58.
        (128, 58),
        # F=136 is the medium form: SP_k - 8 <= 256: (k-1)*144 >= 7824 -> 54.3 -> 55.
        (136, 55),
    ],
)
def test_boundary_depth_by_hand(frame: int, expected: int) -> None:
    assert boundary_depth(frame) == expected
    s = SegmentedStack()
    for _ in range(expected):
        assert not s.call(frame).split
    assert s.would_split(frame)
    assert s.call(frame).split


@pytest.mark.parametrize(("entry_args", "expected"), [(904, 7), (912, 6)])
def test_entry_arguments_sit_on_the_first_segment(entry_args: int, expected: int) -> None:
    # newproc1 puts the entry's arguments under the Stktop: SP_1 = 8088 - args.
    # 7th call: SP_7 = 8088 - args - 6*1008 = 2040 - args; it splits iff that is <= 1128.
    # args=904 -> 1136 > 1128 (fits); args=912 -> 1128 <= 1128 (splits: JHI is strict).
    assert boundary_depth(1000, args=entry_args) == expected


def test_single_frame_edge_of_the_check() -> None:
    # At depth 0: split iff 8088 - (F - 128) <= 256, i.e. F >= 7960.
    s = SegmentedStack()
    assert not s.would_split(7952)
    assert s.would_split(7960)


def test_boundary_for_a_different_loop_frame() -> None:
    # After n frames of 1000 a 4000-byte call starts at 8088 - n*1008 and splits iff
    # that minus 3872 is <= 256: n*1008 >= 3960 -> n = 4 (and 1000-frames fit up to 7).
    assert boundary_depth(1000, loop_frame=4000) == 4
    assert run_ops(hot_split_program([1000] * 4, 4000, 20)).morestack_calls == 20
    assert run_ops(hot_split_program([1000] * 3, 4000, 20)).morestack_calls == 0
    # A 0-byte loop call splits only at SP <= 256, but 1000-frames split at 1128 first.
    with pytest.raises(NoBoundaryError):
        boundary_depth(1000, loop_frame=0)


def test_go11_segments_hold_fewer_frames() -> None:
    # Go 1.1: entry SP = 4096 - 72 - 8 = 4016; 4016 - (k-1)*1008 <= 1128 -> k-1 >= 2.9 -> 3.
    assert boundary_depth(1000, params=GO1_1) == 3


def test_deep_recursion_allocates_a_segment_every_seven_frames() -> None:
    # Each new segment is 8192 (96 + 0 + 8 + 1000 + 8 + 128 = 1240 < 8192, so
    # max(8192, 0 + 0 + 2048)), and in it the callee again starts at 8192 - 96 - 8 = 8088:
    # 7 frames per segment, ceil(100 / 7) = 15 segments, 14 of them from morestack.
    s = SegmentedStack()
    for k in range(100):
        rec = s.call(1000)
        assert rec.segment == k // 7
        assert rec.split == (k > 0 and k % 7 == 0)
    c = s.costs
    assert (c.morestack_calls, c.segments_allocated, c.segments_freed) == (14, 14, 0)
    assert (c.live_segments, c.max_segments) == (15, 15)
    assert c.reserved_bytes == c.peak_reserved_bytes == 15 * 8192
    for _ in range(100):
        s.ret()
    c = s.costs
    assert (c.segments_freed, c.live_segments, c.reserved_bytes) == (14, 1, 8192)
    assert c.peak_reserved_bytes == 15 * 8192 and c.depth == 0


def test_deep_recursion_refills_and_releases_the_per_m_cache() -> None:
    # 231 = 33 * 7 frames -> 33 segments, 32 allocated by newstack.
    # Allocs: the per-M cache holds 15 after malg: 15 hits, empty; #16 refills from
    # the OS (16) and takes one; #17..#31 are 15 hits, empty again; #32 refills.
    # So 30 hits and 3 OS batches in all (malg's included).
    # Frees: the cache holds 15; after 17 frees it holds 32, the 18th releases a
    # batch of 16 to the global list first (16 -> 17), the last 14 bring it to 31.
    s = SegmentedStack()
    for _ in range(231):
        s.call(1000)
    assert s.costs.segments_allocated == 32
    for _ in range(231):
        s.ret()
    cache = s.costs.cache
    assert (cache.hits, cache.refills_from_os, cache.refills_from_global) == (30, 3, 0)
    assert (cache.releases_to_global, cache.global_batches, cache.per_m_count) == (1, 1, 31)
    assert cache.os_bytes == 3 * 16 * 8192


@pytest.mark.parametrize("n", [1, 50, 1000])
def test_hot_split_allocates_and_frees_every_iteration(n: int) -> None:
    # 7 frames of 1000 fill the first segment (see above): the 8th call splits, every time.
    c = run_ops(hot_split_program([1000] * 7, 1000, n))
    assert (c.morestack_calls, c.segments_allocated, c.segments_freed) == (n, n, n)
    assert (c.live_segments, c.max_segments) == (1, 2)
    assert (c.reserved_bytes, c.peak_reserved_bytes) == (8192, 2 * 8192)
    # Each segment comes back to the per-M cache and is handed out again: n hits,
    # no further trip to the OS after malg's batch.
    assert c.cache.hits == n and c.cache.refills_from_os == 1
    # One frame shallower the 8th frame fits: nothing at all happens.
    c = run_ops(hot_split_program([1000] * 6, 1000, n))
    assert (c.morestack_calls, c.segments_allocated, c.segments_freed) == (0, 0, 0)
    assert (c.max_segments, c.peak_reserved_bytes) == (1, 8192)


def test_hot_split_copies_arguments_both_ways() -> None:
    # newstack copies 24 argument bytes in, oldstack copies them (the results) back.
    c = run_ops(hot_split_program([1000] * 7, 1000, 10, loop_args=24))
    assert (c.arg_bytes_copied_in, c.arg_bytes_copied_out) == (240, 240)
    assert c.arg_bytes_copied == 480


def test_new_segment_size_follows_newstack() -> None:
    s = SegmentedStack()
    # 96 + 0 + 8 + 7944 + 8 + 128 = 8184 < 8192: 6l does not pass the frame -> 8192.
    assert s.segment_size_for(7944) == 8192
    # 8192 >= 8192: the frame is passed -> 7952 + 0 + 2048 = 10000.
    assert s.segment_size_for(7952) == 10000
    # Arguments count on both sides: 96 + 8 + 8 + 7944 + 8 + 128 = 8192 -> 7944 + 8 + 2048.
    assert s.segment_size_for(7944, 8) == 10000
    s.call(1000)  # SP is now 7088 - 8 = 7080 at the next entry: 7952 must split
    rec = s.call(7952)
    assert rec.split
    seg = s.segments[-1]
    # Args 0, lessstack's PC pushed: entry SP 10000 - 96 - 8 = 9896, then 7952 of frame.
    assert (seg.size, seg.sp, seg.used, seg.cached) == (10000, 1944, 8056, False)


def test_big_frame_gets_a_big_uncached_segment() -> None:
    # Entry of 10000: 8088 - 9872 <= 256 splits; 96 + 8 + 10000 + 8 + 128 >= 8192 so
    # the segment is 10000 + 0 + 2048 = 12048, not FixedStack: heap, not the cache.
    s = SegmentedStack()
    assert s.call(10000).split
    c = s.costs
    assert (c.reserved_bytes, c.large_segments_allocated, c.cache.large_allocs) == (20240, 1, 1)
    s.ret()
    c = s.costs
    assert (c.reserved_bytes, c.cache.large_frees, c.cache.fixed_frees) == (8192, 1, 0)


def test_go11_big_frames_always_split() -> None:
    # Go 1.1's 6l emits no check for frames >= 4096: morestack on every call.
    # Segment: 72 + 0 + 8 + 4096 + 8 + 128 >= 4096 -> 4096 + 0 + 1024 = 5120 (heap).
    c = run_ops([("call", 0)] + [("call", 4096), ("ret",)] * 10, GO1_1)
    assert (c.morestack_calls, c.large_segments_allocated, c.peak_reserved_bytes) == (
        10,
        10,
        4096 + 5120,
    )
    # Go 1.2 checks it: at SP 8088 - 8 = 8080, 8080 - 3968 > 256, no split.
    assert run_ops([("call", 0)] + [("call", 4096), ("ret",)] * 10).morestack_calls == 0


def test_shared_cache_models_one_m() -> None:
    cache = StackSegmentCache(GO1_2)
    SegmentedStack(cache=cache)
    SegmentedStack(cache=cache)
    stats = cache.stats()
    assert (stats.fixed_allocs, stats.hits, stats.refills_from_os, stats.per_m_count) == (
        2,
        1,
        1,
        14,
    )
    with pytest.raises(ValueError):
        SegmentedStack(GO1_1, cache=cache)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [-8, 12, 1, "8", 8.0, True, None])
def test_bad_frame_is_a_value_error_naming_the_value(bad: object) -> None:
    s = SegmentedStack()
    with pytest.raises(SegmentedSizeError, match=f"frame={bad!r}") as info:
        s.call(bad)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError) and info.value.value == bad
    assert s.costs.calls == 0 and s.depth == 0


@pytest.mark.parametrize("bad", [-16, 4, 20])
def test_bad_args_is_a_value_error_naming_the_value(bad: int) -> None:
    with pytest.raises(SegmentedSizeError, match=f"args={bad}"):
        SegmentedStack().call(8, args=bad)


def test_ret_on_empty_stack() -> None:
    s = SegmentedStack()
    with pytest.raises(SegmentedUnderflowError) as info:
        s.ret()
    assert isinstance(info.value, RuntimeError)
    s.call(8)
    s.ret()
    with pytest.raises(SegmentedUnderflowError):
        s.ret()
    assert s.costs.rets == 1


@pytest.mark.parametrize("op", [("jump", 8), ("call",), ("ret", 8), ("call", 8, 8, 8), "ret", ()])
def test_run_ops_rejects_malformed_ops(op: object) -> None:
    with pytest.raises(SegmentedOpError):
        run_ops([op])  # type: ignore[list-item]


def test_entry_arguments_limit_of_newproc() -> None:
    # newproc1 throws above StackMin - 1024 = 7168 bytes of arguments.
    SegmentedStack().call(0, args=7168)
    with pytest.raises(SegmentedThrow, match="too large for new goroutine"):
        SegmentedStack().call(0, args=7176)


def test_overflow_at_maxstacksize_leaves_the_stack_unchanged() -> None:
    # Limit 16384: 7 frames in segment 1, the 8th brings the total to exactly 16384
    # (allowed: newstack throws only when it is exceeded), frames 8..14 fit in
    # segment 2, and the 15th would need 24576.
    s = SegmentedStack(dataclasses.replace(GO1_2, max_stack_size=16384))
    for _ in range(14):
        s.call(1000)
    with pytest.raises(SegmentedOverflowError, match="16384-byte limit") as info:
        s.call(1000)
    assert isinstance(info.value, RuntimeError)
    c = s.costs
    assert (c.depth, c.reserved_bytes, c.morestack_calls, c.calls) == (14, 16384, 1, 14)


def test_hot_split_program_rejects_bad_iterations() -> None:
    with pytest.raises(ValueError):
        hot_split_program([8], 8, -1)
    assert hot_split_program([16, 24], 32, 2, loop_args=8) == [
        ("call", 16),
        ("call", 24),
        ("call", 32, 8),
        ("ret",),
        ("call", 32, 8),
        ("ret",),
    ]


# --------------------------------------------------------------------------- properties

frames = st.one_of(
    st.integers(0, 160).map(lambda n: 8 * n),  # small and medium frames
    st.integers(500, 1600).map(lambda n: 8 * n),  # 4000..12800: big, some need big segments
)
calls = st.tuples(st.just("call"), frames, st.integers(0, 16).map(lambda n: 8 * n))
actions = st.lists(st.one_of(calls, st.just(("ret",))), max_size=120)


@settings(max_examples=150, deadline=None)
@given(ops=actions, params=st.sampled_from([GO1_2, GO1_1]))
def test_any_program_that_unwinds_keeps_only_the_first_segment(ops, params) -> None:
    s = SegmentedStack(params)
    lowest = params.stack_guard - params.stack_small - params.ptr_size
    for op in ops:
        if op[0] == "ret":
            if s.depth == 0:
                continue
            s.ret()
        else:
            s.call(op[1], op[2])
        c = s.costs
        assert c.segments_allocated - c.segments_freed == c.live_segments - 1
        assert c.reserved_bytes == sum(seg.size for seg in s.segments)
        assert c.live_segments == 1 + sum(f.split for f in s.frames)
        # No frame ever eats into the StackLimit area below the guard.
        assert all(seg.sp > lowest for seg in s.segments)
        # Every FixedStack segment the OS gave is in the M's cache or in use.
        cached_live = sum(seg.cached for seg in s.segments)
        pool = c.cache.per_m_count + params.stack_cache_batch * c.cache.global_batches
        assert c.cache.os_bytes == params.fixed_stack * (pool + cached_live)
    while s.depth:
        s.ret()
    c = s.costs
    assert c.reserved_bytes == params.stack_min == s.segments[0].size
    assert c.live_segments == 1 and c.segments_allocated == c.segments_freed
    assert c.arg_bytes_copied_in == c.arg_bytes_copied_out
    assert c.cache.large_allocs == c.cache.large_frees
    assert s.segments[0].used == params.stktop_size


# --------------------------------------------------------------------------- comparison


def test_compare_with_a_supplied_contiguous_model() -> None:
    seen = []

    def fake(ops):
        seen.append(list(ops))
        return ContiguousCosts(grows=1, bytes_copied=2000, max_size=16384)

    ops = hot_split_program([1000] * 7, 1000, 5)
    cmp = compare_with_contiguous(ops, contiguous=fake)
    assert seen == [ops]
    assert cmp.segmented == run_ops(ops)
    assert cmp.contiguous.grows == 1


def test_compare_with_the_gostack_runtime() -> None:
    gostack = pytest.importorskip("gostack")
    if not hasattr(gostack, "Runtime"):
        pytest.skip("gostack.Runtime is not available")
    few = compare_with_contiguous(hot_split_program([1000] * 7, 1000, 10))
    many = compare_with_contiguous(hot_split_program([1000] * 7, 1000, 100))
    # Segmented: one segment per iteration. Contiguous: the stack grows once to fit
    # the deepest point and the loop then costs nothing, however long it runs.
    assert (few.segmented.segments_allocated, many.segmented.segments_allocated) == (10, 100)
    assert few.contiguous == many.contiguous
    assert few.contiguous.grows >= 1
