"""The claims lessons 04-08 make, one test each (the lessons' code cells print, not assert).

Expected values come from arithmetic written out here, or from go1.27.3's own runs as
recorded in gostack/data/lessons_recorded.json; never from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import gostack as gs  # noqa: E402
from gostack import golessons  # noqa: E402
from gostack import segmented as seg  # noqa: E402
from gostack.lessons import l04_newstack as l04  # noqa: E402
from gostack.lessons import l05_copystack as l05  # noqa: E402
from gostack.lessons import l06_stack_maps as l06  # noqa: E402
from gostack.lessons import l08_beyond as l08  # noqa: E402
from gostack.lessons import recorder, running  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GUARD = 928          # stackGuard on linux/amd64: 800 + 128
RA = 8               # a return address
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
WORKER, REC_A, REC_BIG = 40, 160, 10272   # the compiler's frames ($framesize on TEXT lines)


def used_at_call(n: int, frame: int = REC_A) -> int:
    """hi - E when call n's check runs: newproc's 32 bytes, the worker's return address and
    frame, n - 1 frames (each with its return address), and call n's return address."""
    return 32 + RA + WORKER + (n - 1) * (frame + RA) + RA


@pytest.fixture(scope="module")
def recorded() -> dict:
    with open(ROOT / "gostack" / "data" / "lessons_recorded.json", encoding="utf-8") as f:
        return json.load(f)


def growths(trace) -> list[list[int]]:
    return [[c, s] for c, s in trace.growth_points()]


# ---- lesson 04: newstack ----------------------------------------------------------------


def test_04_the_simulator_uses_the_compilers_frames(recorded):
    assert recorded["cases"]["lesson_running"]["frames"] == {
        "main.worker": WORKER, "main.recA": REC_A}
    assert running.RUNNING_FRAMES == {"main.worker": WORKER, "main.recA": REC_A}


def test_04_the_first_growth_is_one_doubling_at_call_7(recorded):
    # 4,096 - 1,096 = 3,000 >= 160 + 928: the first try fits.
    used = used_at_call(7)
    assert used == 1096
    assert 4096 - used >= REC_A + GUARD
    first = running.running_example(calls=7).trace.grows[0]
    assert (first.call_index, first.old_size, first.new_size, first.used) == (7, 2048, 4096, used)
    assert l04.sizing_of(first).doublings == 1
    assert recorded["cases"]["lesson_running"]["growths"][0] == [7, 4096]


def test_04_a_huge_first_frame_jumps_three_doublings(recorded):
    used = used_at_call(1)
    assert used == 88
    needed = REC_BIG + GUARD
    assert needed == 11200
    assert 4096 - used < needed and 8192 - used < needed <= 16384 - used
    big = l04.growth_run(frame=REC_BIG, calls=30)
    assert (big.grows[0].call_index, big.grows[0].new_size, big.grows[0].doublings) == (1, 16384, 3)
    assert l04.sizing_of(big.grows[0]).doublings == 3
    assert recorded["cases"]["lesson_big_frame"]["growths"][0] == [1, 16384]


def test_04_big_frame_growths_are_those_go_recorded(recorded):
    cmp = golessons.comparison("lesson_big_frame", recorded=recorded)
    assert cmp.agree
    run = l04.growth_run(frame=REC_BIG, calls=30)
    assert [[e.call_index, e.new_size] for e in run.grows] == \
        recorded["cases"]["lesson_big_frame"]["growths"]


def test_04_512_MiB_is_the_largest_stack_under_the_default_limit():
    assert 2**29 <= 1_000_000_000 < 2**30
    assert l04.last_size_under(1_000_000_000) == 512 * MiB


def test_04_the_default_limit_stops_recbig_at_call_52225(recorded):
    case = recorded["cases"]["lesson_default_limit"]
    deep = l04.growth_run(frame=REC_BIG, calls=100_000)
    o = deep.overflow
    assert (o.call_index, o.old_size, o.new_size) == (case["overflow"][0], 512 * MiB, GiB)
    assert case["overflow"][0] == 52225 and case["overflow_size"] == 512 * MiB


def test_04_the_overflow_message_is_the_runtimes(recorded):
    case = recorded["cases"]["lesson_default_limit"]
    g = gs.Runtime(trace=False).go(gs.Func("main.worker", frame=WORKER))
    with pytest.raises(gs.StackOverflow) as info:
        for _ in range(100_000):
            g.call(gs.Func("main.recBig", frame=REC_BIG))
    assert info.value.call_index == case["overflow"][0]
    assert l04.overflow_lines(info.value)[0] == case["stderr_head"].splitlines()[0] == \
        "runtime: goroutine stack exceeds 1000000000-byte limit"
    assert case["exit_status"] == 2
    assert golessons.comparison("lesson_default_limit", recorded=recorded).agree


def test_04_setmaxstack_32768_kills_the_running_example_at_call_190(recorded):
    small = l04.growth_run(frame=REC_A, calls=400, limit=32768)
    assert [small.overflow.call_index, small.overflow.old_size] == [190, 32 * KiB]
    assert recorded["cases"]["lesson_small_limit"]["overflow"] == [
        190, "runtime: goroutine stack exceeds 32768-byte limit"]


def test_04_no_setmaxstack_lets_a_stack_pass_1_GiB():
    # maxstackceiling = 2 * 1,000,000,000 (runtime/proc.go, func main): 2^30 <= 2e9 < 2^31.
    # go1.27.3 with debug.SetMaxStack(1 << 40) on this program: overflow at call 104,450,
    # "runtime: goroutine stack exceeds 2000000000-byte limit" (run by hand, 2 GB of RAM;
    # the live twin is test_04_live_setmaxstack_ceiling).
    assert 2**30 <= 2_000_000_000 < 2**31
    high = l04.growth_run(frame=REC_BIG, calls=200_000, limit=1 << 40)
    o = high.overflow
    assert (o.call_index, o.old_size, o.new_size, o.limit) == (104450, GiB, 2 * GiB, 2_000_000_000)


def test_04_copying_stays_below_the_stack_and_twice_the_use():
    cost = l04.copy_cost(frame=REC_A, calls=2000)
    assert all(c < s for c, s in zip(cost.copied, cost.size, strict=True))
    assert all(c <= 2 * u for c, u in zip(cost.copied, cost.in_use, strict=True))
    # per call: between the stack one call uses (160 + 8) and twice that
    assert cost.call[-1] == 2000 and 168 <= cost.per_call <= 2 * 168


def test_04_explorer_answer_a_64_KiB_frame_goes_to_128_KiB_in_six_doublings():
    used, needed = used_at_call(1), 65536 + GUARD
    assert 65536 - used < needed <= 131072 - used
    run = l04.growth_run(frame=65536, calls=3)
    assert (run.grows[0].call_index, run.grows[0].new_size, run.grows[0].doublings) == \
        (1, 128 * KiB, 6)


def test_04_explorer_answer_a_616_byte_frame_first_grows_at_call_2():
    # The medium check fails when SP - (F - 128) <= lo + 928, i.e. used + 488 >= 2,048 - 928.
    def fails(n):
        return used_at_call(n, 616) + (616 - 128) >= 2048 - GUARD
    assert used_at_call(2, 616) == 712 and not fails(1) and fails(2)
    run = l04.growth_run(frame=616, calls=40)
    assert (run.grows[0].call_index, run.grows[0].new_size) == (2, 4096)


# ---- lesson 05: copystack ---------------------------------------------------------------


def test_05_the_copy_moves_exactly_the_bytes_in_use_and_keeps_scalars():
    tape = running.running_example(calls=7, runtime=gs.Runtime(poison=True))
    steps = {s.phase: s for s in tape.growth(0)}
    grow, copy = tape.trace.grows[0], steps[recorder.Phase.COPY]
    assert copy.new.used == grow.used == used_at_call(7)
    rows = l05.slot_rows(copy.stack, copy.new, grow, frames=(0, -2, -1))
    assert all(r.before == r.after for r in rows if r.kind is gs.SCALAR)


def test_05_delta_can_be_negative():
    worker, rec = running.running_funcs()
    crowd = gs.Runtime()
    first = crowd.go(worker)
    for _ in range(50):
        first.call(rec)
    late = [crowd.go(worker) for _ in range(17)][-1]   # a 17th 2 KiB stack: a new span
    for _ in range(7):
        late.call(rec)
    down = late.trace.grows[0]
    assert down.delta < 0 and down.new_hi < down.old_lo


def test_05_poisoning_marks_the_old_and_the_uncopied():
    assert gs.arch.POISON_OLD == 0xfcfcfcfcfcfcfcfc and gs.arch.POISON_NEW == 0xfdfdfdfdfdfdfdfd
    rt = gs.Runtime(poison=True)
    tape = running.running_example(calls=7, runtime=rt)
    steps = {s.phase: s for s in tape.growth(0)}
    free, new = steps[recorder.Phase.FREE], steps[recorder.Phase.RETRY].stack
    x_old = free.stack.frames[0].locals[0]
    assert rt.read(x_old.addr) == 0xfcfcfcfcfcfcfcfc
    assert rt.read(new.lo) == 0xfdfdfdfdfdfdfdfd
    assert rt.read(new.frames[0].locals[0].addr) == 42


# ---- lesson 06: stack maps --------------------------------------------------------------


def _pointer_worker():
    return gs.Func("main.worker", frame=56, locals=[
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8),
        gs.Local("u", gs.UINTPTR, 16), gs.Local("h", gs.POINTER, 24)])


def test_06_the_lessons_worker_is_the_explorers():
    assert _pointer_worker() == l06.pointer_worker()
    assert l06.stack_map(_pointer_worker()) == "010100"


def _moved_worker(rt):
    _, rec = running.running_funcs()
    g = rt.go(_pointer_worker())
    heap = rt.new_object()
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", heap)
    before = g.snapshot()
    for _ in range(7):
        g.call(rec)
    return g, heap, before


def test_06_new_int_moves_the_first_new_stack_8_KiB_up():
    """Lesson 06 says why its first move's delta is not lesson 05's: new(int) took 8 KiB of
    memory (one runtime page) before the 4 KiB stack was allocated."""
    def first_delta(heap: bool) -> int:
        rt = gs.Runtime(poison=True)
        g = rt.go(l06.pointer_worker())
        if heap:
            rt.new_object()
        for _ in range(7):
            g.call(running.running_funcs()[1])
        return g.trace.grows[0].delta
    five = running.running_example(7).trace.grows[0].delta
    assert five == first_delta(heap=False) == 32 * KiB  # the 2 KiB span, then the 4 KiB one
    assert first_delta(heap=True) == 40 * KiB == five + 8 * KiB
    assert l06.adjust_run(7).tape.trace.grows[0].delta == 40 * KiB


def test_06_only_the_pointer_into_the_stack_is_adjusted():
    g, heap, before = _moved_worker(gs.Runtime(poison=True))
    rows = l05.slot_rows(before, g.snapshot(), g.trace.grows[0], heap=[heap], frames=(0,))
    assert [r.local for r in rows if r.adjusted] == ["p"]


def test_06_p_follows_x_and_u_stays_behind():
    g, _, before = _moved_worker(gs.Runtime(poison=True))
    assert g.deref("p", 0) == 42
    assert g.load("u", 0) == before.frames[0].locals[0].addr != g.addr("x", 0)


def test_06_without_adjustment_p_reads_a_dead_copy():
    no_adjust = gs.Stages().replace(adjustframe=gs.adjust.no_adjust)
    _, rec = running.running_funcs()
    g = gs.Runtime(stages=no_adjust).go(_pointer_worker())
    g.store("x", 42)
    g.take_addr("p", "x")
    for _ in range(7):
        g.call(rec)
    g.store("x", 43, frame=0)
    assert g.deref("p", 0) == 42 and g.load("x", 0) == 43


def test_06_with_poisoning_the_stale_pointer_reads_fc():
    no_adjust = gs.Stages().replace(adjustframe=gs.adjust.no_adjust)
    _, rec = running.running_funcs()
    g = gs.Runtime(poison=True, stages=no_adjust).go(_pointer_worker())
    g.store("x", 42)
    g.take_addr("p", "x")
    for _ in range(7):
        g.call(rec)
    assert g.deref("p", 0) == 0xfcfcfcfcfcfcfcfc
    assert l06.adjust_run(calls=7, adjust=False, poison=True).reads[0].startswith(
        "*p = poison fc")


def test_06_explorer_answers():
    on = l06.adjust_run(calls=100, adjust=True, poison=True)
    assert on.reads[0] == "*p = 42"
    off = l06.adjust_run(calls=100, adjust=False, poison=False)
    assert off.reads[0].startswith("*p = 42")


def test_06_escape_analysis_moves_y_and_z_only(recorded):
    assert recorded["escapes"] == ["14:2: moved to heap: y", "20:2: moved to heap: z"]


def test_06_the_real_pointer_demo_grows_as_the_simulator(recorded):
    demo = recorded["pointer"]
    assert demo["stable"][1].startswith("after:  stack 32768 bytes, hi-p = 280, *p = 42")
    assert demo["stable"][2] == "after:  u == uintptr(p): false, u inside the stack: false"
    assert demo["moved_to_heap"] == []
    assert l06.pointer_sim(demo["frames"]) == (32768, 4)


# ---- lesson 07: the whole newstack ------------------------------------------------------

RUNNING_GROWTHS = [[7, 4096], [20, 8192], [44, 16384], [93, 32768], [190, 65536], [385, 131072]]


def test_07_the_running_example_grows_where_go_did(recorded):
    assert recorded["cases"]["lesson_running"]["growths"] == RUNNING_GROWTHS
    assert golessons.comparison("lesson_running", recorded=recorded).agree
    worker, rec = running.running_funcs()
    g = gs.Runtime(trace=False).go(worker)
    for _ in range(400):
        g.call(rec)
    assert growths(g.trace) == RUNNING_GROWTHS


def test_07_stepper_answer_the_second_growth():
    used = used_at_call(20)
    assert used == 1096 + 13 * (REC_A + RA) == 3280 and 8192 - used >= REC_A + GUARD
    grow = running.running_example(calls=20).trace.grows[1]
    assert (grow.call_index, grow.used, grow.new_size) == (20, used, 8192)


# ---- lesson 08: beyond growth -----------------------------------------------------------


def _halvings(used: int, size: int, gcs: int) -> list[int]:
    """shrinkstack by hand: halve while used + 800 < size / 4 and size / 2 >= 2 KiB."""
    out = []
    for _ in range(gcs):
        if used + 800 < size // 4 and size // 2 >= 2048:
            size //= 2
        out.append(size)
    return out


def test_08_the_running_example_shrinks_to_2_KiB_in_six_gcs(recorded):
    assert _halvings(216, 128 * KiB, 8) == [65536, 32768, 16384, 8192, 4096, 2048, 2048, 2048]
    worker, rec = running.running_funcs()
    g = gs.Runtime().go(worker)
    for _ in range(400):
        g.call(rec)
    for _ in range(400):
        g.ret()
    for _ in range(8):
        g.runtime_gc()
    rows = l08.shrink_rows(g.trace)
    assert [r.new_size for r in rows] == [65536, 32768, 16384, 8192, 4096, 2048, None, None]
    assert l08.shrink_run(calls=400, stay=0, gcs=8).rows == rows
    assert [s[2] for s in recorded["cases"]["lesson_shrink"]["shrinks"]] == [
        65536, 32768, 16384, 8192, 4096, 2048]
    assert golessons.comparison("lesson_shrink", recorded=recorded).agree


def test_08_a_56_byte_worker_stops_at_4_KiB():
    assert _halvings(232, 128 * KiB, 8) == [65536, 32768, 16384, 8192, 4096, 4096, 4096, 4096]
    run = l08.shrink_run(calls=400, stay=0, gcs=8, worker=56)
    assert [r.new_size or r.size for r in run.rows] == _halvings(232, 128 * KiB, 8)


def test_08_explorer_answers():
    deeper = l08.shrink_run(calls=400, stay=10, gcs=8)
    assert deeper.rows[0].used == 1896
    assert [r.new_size or r.size for r in deeper.rows] == _halvings(1896, 128 * KiB, 8)
    assert _halvings(1896, 128 * KiB, 8)[-1] == 8192
    longer = l08.shrink_run(calls=800, stay=0, gcs=8)
    assert longer.rows[0].size == 256 * KiB
    assert [r.new_size or r.size for r in longer.rows] == _halvings(216, 256 * KiB, 8)
    assert _halvings(216, 256 * KiB, 8).index(2048) + 1 == 7


def test_08_a_loop_at_the_segment_boundary_splits_every_time():
    hs = l08.hot_split(frame=160, args=16, iterations=1000)
    at = seg.compare_with_contiguous(
        seg.hot_split_program([160] * hs.boundary, 160, 1000, loop_args=16))
    s = at.segmented
    assert s.morestack_calls == s.segments_allocated == s.segments_freed == 1000
    assert s.arg_bytes_copied == 1000 * 2 * 16
    assert at.contiguous.grows == 3


def test_08_a_preemption_request_copies_nothing():
    worker, rec = running.running_funcs()
    r = recorder.Recorder(worker)
    for _ in range(3):
        r.call(rec)
    r.preempt()
    r.call(rec)
    assert not r.tape().trace.grows and r.g.stack_size == 2048
    assert r.g.stackguard0 == r.g.lo + GUARD


def test_08_a_preempted_call_that_does_not_fit_then_grows():
    worker, rec = running.running_funcs()
    r = recorder.Recorder(worker)
    for _ in range(6):
        r.call(rec)
    r.preempt()
    r.call(rec)
    assert [s.phase for s in r.steps[-9:-7]] == [recorder.Phase.PREEMPT, recorder.Phase.CHECK]
    assert growths(r.tape().trace) == [[7, 4096]]


def test_08_adaptive_start_recorded(recorded):
    a = recorded["adaptive"]
    assert a["default"] == {"5": 2048, "20": 8192, "50": 16384, "100": 32768}
    assert set(a["adaptivestackstart=0"].values()) == set(a["fresh G"].values()) == {2048}
    # D = 50: 50 frames of 168 B = 8,400 B, + 928 > 8 KiB, so round up to 16 KiB.
    assert 8192 < 50 * 168 + GUARD <= 16384


# ---- lesson 08: parked goroutines, a deferred shrink, asynchronous preemption's room ------

# The runtime frames of each blocking call, from go1.27.3's TEXT lines ($framesize, each plus
# a return address): chanrecv1 $32 -> chanrecv $112 -> gopark $24; selectgo $312 -> gopark
# $24; runtime.Gosched is inlined (mcall from the caller's frame); syscall.read $56 ->
# syscall.Syscall $88, whose SP entersyscall saves as g.syscallsp.
PARK = {"recv": (32 + RA) + (112 + RA) + (24 + RA), "select": (312 + RA) + (24 + RA),
        "gosched": 0, "syscall": (56 + RA) + (88 + RA)}
AT_WORKER = 32 + RA + WORKER  # hi - SP in worker: newproc's 32, goexit's return PC, its frame


def _scenes() -> dict:
    from gostack import realgo
    return realgo.load_recorded()["scenes"]


def test_08_park_depths_are_the_measured_ones():
    assert PARK == {"recv": 192, "select": 352, "gosched": 0, "syscall": 160}
    assert {op: gs.arch.PARK_DEPTH[op] for op in PARK} == PARK


def test_08_parked_in_worker_each_operation_stops_where_its_depth_says():
    from gostack.lessons import l08_parked as l08p
    assert AT_WORKER == 80
    expect = {"recv": 4096, "select": 4096, "gosched": 2048}
    # 80 + 192 + 800 = 1,072 and 80 + 352 + 800 = 1,232 are not under 4,096 / 4; 880 is.
    for op, final in expect.items():
        sizes = _halvings(AT_WORKER + PARK[op], 128 * KiB, 8)
        assert sizes[-1] == final
        run = l08p.parked_run(op, calls=400, stay=0, gcs=8)
        assert (run.own, run.park, run.used) == (AT_WORKER, PARK[op], AT_WORKER + PARK[op])
        assert run.peak == 128 * KiB and run.sizes == tuple(sizes)
    assert AT_WORKER + PARK["select"] + 800 < 8192 // 4  # select still reaches 4 KiB
    table = l08p.parked_table(l08p.parked_runs()).splitlines()
    assert [line.split()[-2] for line in table[1:]] == ["4,096", "4,096", "2,048"]


def test_08_go_parked_the_same_way():
    """The circles of the figure: go1.27.3's recorded ladders, and its select edge."""
    from gostack import realgo
    from gostack.lessons import l08_parked as l08p
    from gostack.scene import SCENES
    scenes = _scenes()
    real = l08p.recorded_ladders(scenes)
    assert real == {"recv": (65536, 32768, 16384, 8192, 4096, 4096, 4096, 4096),
                    "gosched": (65536, 32768, 16384, 8192, 4096, 2048, 2048, 2048)}
    assert real["recv"] == tuple(_halvings(AT_WORKER + PARK["recv"], 128 * KiB, 8))
    assert real["gosched"] == tuple(_halvings(AT_WORKER + PARK["gosched"], 128 * KiB, 8))
    # park_select_edge: worker (40) -> keep -> grow, parked in keep on 8 KiB. keep $808:
    # 40 + 40 + 8 + 808 + 352 + 800 = 2,048, not under 2,048: kept; keep $800 halves.
    edge = scenes["park_select_edge"]
    assert edge["frames"]["main.keep1"] == 808 and edge["frames"]["main.keep2"] == 800
    assert 32 + RA + 40 + RA + 808 + PARK["select"] + 800 == 8192 // 4
    assert [m for m in edge["moves"] if m[1] == "main"] == [[2, "main", 1, 1, 4096]]
    for name in ("parked_shrink_ladder", "gosched_ladder", "park_select_edge"):
        assert realgo.compare_recorded(SCENES[name], realgo.load_recorded()).agree, name


def test_08_a_system_call_defers_the_shrink_to_the_next_preemption():
    from gostack.lessons import l08_parked as l08p
    d = l08p.deferred_shrink(calls=400, stay=2, gcs=2)
    in_use = AT_WORKER + 2 * (REC_A + RA)  # 416
    assert d.used == in_use + PARK["syscall"] == 576
    assert 576 + 800 < 128 * KiB // 4  # a shrink-safe goroutine would have halved
    assert d.sizes == (128 * KiB, 128 * KiB) and d.pending
    # newstack's preempt path: shrinkstack from sched.sp = the next recA's E (+ its RA)
    assert (d.after_preempt, d.shrink_used) == (64 * KiB, in_use + RA)
    moves = _scenes()["syscall_defers_shrink"]["moves"]
    assert [m for m in moves if m[1] == "main"] == [[1, "main", 1, 3, 64 * KiB],
                                                   [1, "main", 1, 4, 32 * KiB]]


def test_08_asynchronous_preemption_needs_room_below_sp():
    from gostack import realgo
    from gostack.lessons import l08_parked as l08p
    # funcMaxSPDelta: asyncPreempt PUSHQ BP, PUSHFQ, ADJSP $112 (preempt_amd64.s) = 128;
    # asyncPreempt2 and xRegRestore, 24 and 48 (objdump of go1.27.3); plus 8 words.
    assert l08p.ASYNC_PREEMPT_STACK == 8 + 8 + 112 + 24 + 48 + 8 * 8 == 264 <= 800
    # A checked body: SP > lo + 928 at the check, then at most 128 more (StackSmall), or
    # the frame beyond 128 already counted in the check: more than 800 bytes are left.
    assert GUARD - 128 == 800 >= l08p.ASYNC_PREEMPT_STACK
    points = dict(l08p.async_points(calls=6, leaf=720))
    body = 2048 - (AT_WORKER + 6 * (REC_A + RA))
    assert list(points.values()) == [body, body - RA - 720] == [960, 232]
    table = l08p.async_table(list(points.items())).splitlines()
    assert table[1].endswith("room") and "no room" in table[2]
    go = realgo.available()
    if not go or not go.goroot:
        pytest.skip("no Go source here")
    src = (Path(go.goroot) / "src" / "runtime" / "preempt.go").read_text(encoding="utf-8")
    assert "sp-gp.stack.lo < asyncPreemptStack" in src
    assert "asyncPreemptStack > stackNosplit" in src and 'throw("async stack too large")' in src


ASYNC_PROBE = """package main

import (
\t"fmt"
\t_ "unsafe"
)

//go:linkname asyncPreemptStack runtime.asyncPreemptStack
var asyncPreemptStack uintptr

func main() { fmt.Println("asyncPreemptStack", asyncPreemptStack) }
"""


@pytest.mark.go
def test_08_live_async_preempt_stack():
    """Lesson 08's 264: runtime.asyncPreemptStack read from a go1.27.3 binary (a linkname
    to a runtime variable needs -checklinkname=0)."""
    import subprocess

    from gostack import program, realgo
    go = realgo.available()
    if not go:
        pytest.skip(go.reason)
    b = realgo.build_files({"go.mod": program.go_mod(go.version or ""), "main.go": ASYNC_PROBE},
                           label="asyncPreemptStack", flags=("-ldflags=-checklinkname=0",))
    r = subprocess.run([str(b.binary)], capture_output=True, text=True, timeout=60,
                       env=realgo.run_env(), check=True)
    from gostack.lessons import l08_parked as l08p
    assert r.stdout.split() == ["asyncPreemptStack", str(l08p.ASYNC_PREEMPT_STACK)] \
        == ["asyncPreemptStack", "264"]


# ---- real Go, heavy: the ceiling ----------------------------------------------------------


@pytest.mark.go
@pytest.mark.slow
def test_04_live_setmaxstack_ceiling():
    """debug.SetMaxStack(1 << 40) on go1.27.3: the stack still stops at 1 GiB (needs ~2 GB)."""
    import dataclasses
    import os

    from gostack import realgo

    if os.environ.get("GOSTACK_HEAVY") != "1":
        pytest.skip("set GOSTACK_HEAVY=1 to run the 2 GB SetMaxStack-ceiling probe")
    if not realgo.available():
        pytest.skip("no Go toolchain")
    p = dataclasses.replace(golessons.lesson_programs()["lesson_default_limit"],
                            name="ceiling", max_stack=1 << 40, depth=200_000)
    cmp = realgo.compare(p)
    assert cmp.agree, cmp.table()
    assert cmp.real.overflow == (104450, "runtime: goroutine stack exceeds 2000000000-byte limit")

