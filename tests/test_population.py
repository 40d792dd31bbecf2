"""The population model (gostack.population): every expected number is derived here by hand.

go1.27 linux/amd64 (facts sheet sections 1, 3 and 10), for a goroutine whose entry has
a 56-byte frame and then makes ``d`` nested calls of a function with frame F:

* the entry's E is 40 bytes below hi, so after its frame 40 + 56 = 96 bytes are in use;
  each call adds F + 8, so the deepest point uses ``96 + d*(F+8)`` bytes;
* call k (1-based) has E at ``off(k) = 104 + (k-1)*(F+8)`` below hi and grows a stack of
  S bytes when ``off(k) + max(0, F-128) >= S - 928``;
* the new size doubles S until ``new - off(k) >= F + 928``; copystack copies off(k) bytes.

Go 1.2 segmented (stack.h): 8192-byte segments, a 96-byte Stktop on top, guard 256 above
the bottom. The entry (no arguments) starts at SP 8192 - 96 - 8 = 8088 and leaves SP at
8032; call k of F starts at ``8024 - (k-1)*(F+8)`` and splits when that minus
max(0, F-128) is <= 256. Go 1.1: 4096-byte segments, 72-byte Stktop, so 4016, 3960, 3952.
"""

from __future__ import annotations

import dataclasses

import pytest

import gostack as gs
from gostack import population as P
from gostack.population import (
    ADAPTIVE,
    CONTIGUOUS,
    FIXED,
    SEGMENTED,
    Population,
    PopulationError,
    Workload,
)

MIB = 1 << 20


def pop_of(*workloads: Workload) -> Population:
    return Population(seed=0, median=1.0, sigma=1.0, workloads=tuple(workloads))


def one(frame: int, depth: int, policy, initial=None) -> P.Summary:
    return P.simulate(pop_of(Workload(frame, depth)), policy, initial)


# --------------------------------------------------------------------------- one goroutine


def test_used_bytes_at_the_deepest_point() -> None:
    assert Workload(168, 0).used == 96
    assert Workload(168, 6).used == 96 + 6 * 176 == 1152
    assert Workload(80, 12).used == 96 + 12 * 88 == 1152
    assert Workload(616, 1).used == 96 + 624 == 720


@pytest.mark.parametrize(
    ("frame", "depth", "size", "moves", "copied"),
    [
        # F=168: off(k) + 40 >= 1120 first at k = 7 (off 1160): 2048 -> 4096, 1160 copied.
        (168, 6, 2048, 0, 0),
        (168, 7, 4096, 1, 1160),
        # From 4096: off(k) + 40 >= 3168 first at k = 19 (off 3272): -> 8192.
        (168, 18, 4096, 1, 1160),
        (168, 19, 8192, 2, 1160 + 3272),
        # F=80 (small form, no F-128 term): off(k) >= 1120 first at k = 13 (off 1160).
        (80, 12, 2048, 0, 0),
        (80, 13, 4096, 1, 1160),
        # F=616: off(k) + 488 >= 1120 first at k = 2 (off 728); 4096 - 728 >= 616 + 928.
        (616, 1, 2048, 0, 0),
        (616, 2, 4096, 1, 728),
    ],
)
def test_contiguous_2k_costs_by_hand(frame, depth, size, moves, copied) -> None:
    s = one(frame, depth, CONTIGUOUS, 2048)
    assert (s.resident, s.reserved, s.moves, s.bytes_copied) == (size, size, moves, copied)
    assert s.sizes == ((size, 1),)
    assert s.waste == size - (96 + depth * (frame + 8))


def test_contiguous_8k_start_like_go13() -> None:
    # From 8192: off(k) + 40 >= 7264 first at k = 42 (off 104 + 41*176 = 7320).
    assert (one(168, 41, CONTIGUOUS, 8192).resident, one(168, 41, CONTIGUOUS, 8192).moves) == (
        8192, 0)
    s = one(168, 42, CONTIGUOUS, 8192)
    assert (s.resident, s.moves, s.bytes_copied) == (16384, 1, 7320)


def test_a_larger_start_is_a_recycled_g_with_that_stack() -> None:
    g = P._go(gs.Runtime(trace=False), gs.Func("main.worker", frame=56), 8192)
    assert (g.stack_size, g.stackguard0 - g.lo, g.used) == (8192, 928, 96)
    rec = gs.Func("main.recA", frame=168)
    for _ in range(400):
        g.call(rec)
    # Offsets from hi do not depend on the start: the same moves as from 2 KiB after 8 KiB
    # (facts sheet experiment a: 42, 88, 182, 368).
    assert g.trace.growth_points() == [(42, 16384), (88, 32768), (182, 65536), (368, 131072)]


@pytest.mark.parametrize("start", [2048, 8192])
@pytest.mark.parametrize(("frame", "depth"), [(80, 50), (168, 100), (616, 30)])
def test_memoized_result_equals_a_direct_run(start, frame, depth) -> None:
    rt = gs.Runtime()
    g = P._go(rt, gs.Func("main.worker", frame=56), start)
    for _ in range(depth):
        g.call(gs.Func("main.f", frame=frame))
    direct = (g.stack_size, g.used, len(g.trace.grows), g.trace.bytes_copied())
    assert tuple(P._contiguous(start, frame, depth)) == direct
    assert tuple(P._contiguous_run(start, frame, depth)) == direct
    assert tuple(P._contiguous(start, frame, depth + 7)) == tuple(
        P._contiguous_run(start, frame, depth + 7))  # the table grows on demand


@pytest.mark.parametrize(
    ("initial", "frame", "depth", "reserved", "moves"),
    [
        # Go 1.2: 8024 - 176(k-1) - 40 <= 256 first at k = 45.
        (8192, 168, 44, 8192, 0),
        (8192, 168, 45, 16384, 1),
        # Go 1.1: 3952 - 176(k-1) - 40 <= 256 first at k = 22; the new segment is
        # max(4096, 24 + 1024) = 4096 (the frame fits a 4 KiB segment, so no extra).
        (4096, 168, 21, 4096, 0),
        (4096, 168, 22, 8192, 1),
    ],
)
def test_segmented_costs_by_hand(initial, frame, depth, reserved, moves) -> None:
    s = one(frame, depth, SEGMENTED, initial)
    assert (s.reserved, s.resident, s.moves) == (reserved, reserved, moves)
    assert s.bytes_copied == 24 * moves  # only the callee's 24 argument bytes move
    assert s.used == 96 + depth * 176


# Lesson 01's recorded per-thread memory (gostack/data/thread_cost_recorded.json, 10,000
# idle threads): VmRSS 16,334.0288 B; kernel stack 16,033.3824 + page tables 4,159.0784 +
# slab 7,366.656 = 27,559.1168 B. Read from the file by hand here, not through the model.
THREAD_RSS, THREAD_KERNEL = 16334, 27559


def test_thread_memory_is_lesson_01s_recording() -> None:
    tm = P.thread_memory()
    assert (tm.resident, tm.kernel, tm.threads) == (THREAD_RSS, THREAD_KERNEL, 10_000)
    assert "lesson 01" in tm.source and tm.date in tm.source


def test_fixed_thread_costs_by_hand() -> None:
    extra = THREAD_RSS + THREAD_KERNEL  # what a thread costs besides its frames' pages
    s = one(168, 6, FIXED)  # 1152 bytes used: one 4 KiB page
    assert s.initial == 8 * MIB
    assert (s.reserved, s.resident, s.moves, s.bytes_copied) == (
        8 * MIB + 4096, 4096 + extra, 0, 0)
    assert s.kernel == THREAD_KERNEL and s.waste == 4096 + extra - 1152
    assert f"({P.fmt_bytes(THREAD_KERNEL)} of it kernel)" in s.readout
    s = one(168, 24, FIXED)  # 96 + 24*176 = 4320 bytes: two pages
    assert s.resident == 8192 + extra
    # 96 + 100*176 = 17696 bytes do not fit a 16 KiB thread stack: the guard page faults.
    assert one(168, 100, FIXED, 16384).overflows == 1
    assert one(168, 92, FIXED, 16384).overflows == 0  # 16288 bytes fit


# --------------------------------------------------------------------------- populations


TRIO = pop_of(Workload(168, 6), Workload(168, 7), Workload(168, 19))  # used 1152, 1328, 3440


def test_population_totals_by_hand() -> None:
    used = 1152 + 1328 + 3440
    c = P.simulate(TRIO, "contiguous")
    assert (c.used, c.resident, c.moves, c.bytes_copied) == (
        used, 2048 + 4096 + 8192, 0 + 1 + 2, 0 + 1160 + 4432)
    assert c.sizes == ((2048, 1), (4096, 1), (8192, 1))
    f = P.simulate(TRIO, "fixed")
    threads = 3 * (4096 + THREAD_RSS + THREAD_KERNEL)
    assert (f.reserved, f.resident, f.waste) == (3 * (8 * MIB + 4096), threads, threads - used)
    s = P.simulate(TRIO, "segmented")  # all three stay in the first 8 KiB segment
    assert (s.reserved, s.moves) == (3 * 8192, 0)


def test_adaptive_start_by_hand() -> None:
    # Scanned average 5920 // 3 = 1973, + 928 = 2901 -> round2 -> 4096. Generation 2
    # starts at 4096: depths 6 and 7 fit; depth 19 grows once at call 19 (off 3272).
    a = P.simulate(TRIO, ADAPTIVE)
    assert a.initial == 4096
    assert (a.resident, a.moves, a.bytes_copied) == (4096 + 4096 + 8192, 1, 3272)
    assert a.label == "adaptive start (Go 1.19+)"


@pytest.mark.parametrize(
    ("scanned", "start"),
    [
        ([], 2048),  # nothing scanned: fixedStack
        ([0], 2048),  # 928 is clamped up to fixedStack
        ([1120], 2048),  # 1120 + 928 = 2048 exactly
        ([1121], 4096),  # 2049 rounds up
        ([1000, 1003], 2048),  # integer average 1001 + 928 = 1929
        ([10**10], 1 << 30),  # clamped to maxstacksize 1e9, then round2
    ],
)
def test_adaptive_start_size(scanned, start) -> None:
    assert P.adaptive_start_size(scanned) == start


def test_invariants_over_the_lineup() -> None:
    summaries = P.lineup(2000, seed=3)
    assert len({s.used for s in summaries}) == 1  # the same frames under every policy
    for s in summaries:
        assert s.n == 2000 and s.seed == 3
        assert sum(count for _, count in s.sizes) == 2000
        assert s.reserved >= s.resident >= s.used > 0
        assert s.overflows == 0
    fixed = summaries[0]
    assert fixed.policy is FIXED and fixed.moves == 0 and fixed.reserved == 2000 * (
        8 * MIB + 4096)
    # The teaching claims: 2 KiB contiguous needs the least memory and the most copies;
    # Go 1.2's 8 KiB segments need several times more memory than that.
    by_label = {s.label: s for s in summaries}
    c2 = by_label["contiguous, 2 KiB start (Go 1.4+)"]
    assert c2.resident == min(s.resident for s in summaries)
    assert c2.moves == max(s.moves for s in summaries)
    assert by_label["segmented, 8 KiB (Go 1.2)"].resident > 2 * c2.resident


def test_seeded_determinism() -> None:
    a = P.population(3000, 11).workloads
    P._population.cache_clear()
    assert P.population(3000, 11).workloads == a
    assert P.population(3000, 12).workloads != a
    assert P.lineup(3000, 11) == P.lineup(3000, 11)


def test_the_distribution_is_the_documented_one() -> None:
    pop = P.population(20_000, 5)
    used = sorted(pop.used)
    median = used[len(used) // 2]
    assert 850 <= median <= 1200  # log-normal median 1024, rounded to whole calls
    assert {w.frame for w in pop.workloads} == set(P.FRAMES)
    tail = sum(u > 16384 for u in used) / len(used)
    assert 0.001 < tail < 0.006  # P(z > ln 16) = 0.28%
    assert len(pop.shapes) < 1000  # what the memo relies on
    assert sum(c for _, c in pop.shapes) == 20_000


def test_median_and_sigma_move_the_population() -> None:
    # median 200: a 616-byte frame grows at its second call (728 + 488 >= 1120), which
    # needs 96 + 1.5*624 = 1032 bytes drawn: 5.5 sigma away.
    small = P.simulate(P.population(2000, 1, median=200, sigma=0.3), CONTIGUOUS)
    assert small.moves == 0 and small.resident == 2000 * 2048
    big = P.simulate(P.population(2000, 1, median=8192), CONTIGUOUS)
    assert big.moves > 2000


# --------------------------------------------------------------------------- the widget


def test_explorer_state_is_simulate() -> None:
    s = P.explorer_state(1000, None, "contiguous", 3)
    assert s == P.simulate(P.population(1000, 3), CONTIGUOUS, 2048)
    assert s.initial == 2048 and s.label == "contiguous, 2 KiB start (Go 1.4+)"
    assert P.explorer_state(1000, 8192, "segmented", 3).label == "segmented, 8 KiB (Go 1.2)"
    assert P.explorer_state(1000, None, ADAPTIVE, 3).initial in (2048, 4096, 8192)
    assert "1,000 goroutines" in s.readout and "copies" in s.readout


def test_initial_choices_hold_the_defaults() -> None:
    for policy in P.Policy:
        values = [v for _, v in P.initial_choices(policy)]
        assert P.DEFAULT_INITIAL[policy] in values
        for v in values:
            P.label(policy, v)  # every offered choice is valid


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: P.population(0), "n must be between 1 and 1,000,000, got 0"),
        (lambda: P.population("10"), "n must be an int, got str '10'"),
        (lambda: P.population(True), "got bool True"),
        (lambda: P.population([10]), "n must be an int, got list [10]"),
        (lambda: P.population(10, seed=-1), "seed must be >= 0, got -1"),
        (lambda: P.population(10, seed=1.5), "seed must be an int, got float 1.5"),
        (lambda: P.population(10, median=0), "median must be a positive number, got 0"),
        (lambda: P.population(10, sigma=float("nan")), "sigma must be a positive number"),
        (lambda: P.explorer_state(10, None, "threads"), "unknown policy 'threads'"),
        (lambda: P.explorer_state(10, None, ["fixed"]), "unknown policy ['fixed']"),
        (lambda: P.explorer_state(10, 3000, "contiguous"), "got 3000"),
        (lambda: P.explorer_state(10, 1024, "contiguous"), "from 2048"),
        (lambda: P.explorer_state(10, "2048", "contiguous"), "got str '2048'"),
        (lambda: P.explorer_state(10, 2048, "segmented"), "got 2048"),
        (lambda: P.explorer_state(10, 4096, "adaptive"), "must be None, got 4096"),
        (lambda: P.explorer_state(10, 10000, "fixed"), "got 10000"),
        (lambda: P.explorer_state(10, 8192, "fixed"), "at least 16384"),
        (lambda: P.simulate([Workload(168, 1)], "fixed"), "needs a Population, got list"),
    ],
)
def test_bad_inputs_are_typed_and_named(call, needle) -> None:
    with pytest.raises(PopulationError) as info:
        call()
    assert needle in str(info.value)
    assert isinstance(info.value, gs.GostackError) and isinstance(info.value, ValueError)


def test_summary_is_immutable() -> None:
    s = P.explorer_state(100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.moves = 0  # type: ignore[misc]
