"""gostack.explore: the computations behind lessons 04-08 and their widgets, without a browser.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
The tests marked ``go`` rerun the lessons' real-Go programs and compare with the recording.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from mutants import MEASURED_SHRINK  # noqa: E402

import gostack as gs  # noqa: E402
from gostack import explore as ex  # noqa: E402
from gostack.arch import POISON_OLD, STACK_GUARD  # noqa: E402
from gostack.explore import COPY_PHASES, GROWTH_PHASES, Cursor, Phase  # noqa: E402

GiB = 1 << 30

# ---- newstack's sizing ---------------------------------------------------------------


def test_sizing_of_a_huge_first_frame_tries_three_sizes():
    # Facts (b): recBig F=10280 at depth 1 with 104 B in use needs 11208 B below them:
    # 4096 - 104 and 8192 - 104 are too small, 16384 - 104 fits.
    s = ex.sizing(2048, 104, 10280)
    assert [c.size for c in s.candidates] == [4096, 8192, 16384]
    assert [c.fits for c in s.candidates] == [False, False, True]
    assert s.new_size == 16384 and s.doublings == 3 and not s.overflow
    assert s.candidates[0].needed == 10280 + 928
    assert s.lines()[-1] == "new stack 16,384 B (3 doublings in one copy)"


def test_sizing_exactly_fitting_is_taken():
    # room == needed fits: the loop runs while newsize - used < needed.
    s = ex.sizing(2048, 4096 - (168 + STACK_GUARD), 168)
    assert s.new_size == 4096 and s.candidates[0].room == s.candidates[0].needed


def test_sizing_over_the_limit_reports_the_refused_size():
    s = ex.sizing(1 << 29, (1 << 29) - 1000, 10280)
    assert s.overflow and s.new_size is None
    assert s.candidates[-1].size == GiB
    assert "1000000000-byte limit" in s.lines()[-1]


def test_last_size_under_the_limit():
    assert ex.last_size_under(1_000_000_000) == 512 * 1024 * 1024
    assert ex.last_size_under(32768) == 32768  # the limit test is newsize > limit
    assert ex.last_size_under(50_000) == 32768


def test_growth_run_matches_the_measured_recursion():
    # Facts (a): worker $56, recA $168.
    run = ex.growth_run(168, 400, entry=56)
    assert [(e.call_index, e.new_size) for e in run.grows] == [
        (7, 4096), (19, 8192), (42, 16384), (88, 32768), (182, 65536), (368, 131072)]
    assert run.overflow is None and run.calls_made == 400 and run.size == 131072
    assert len(run.lines()) == 1 + 6


def test_growth_run_stops_at_the_limit():
    # Facts (e): SetMaxStack(32768) dies at depth 182; (e2): the default limit at 52185.
    small = ex.growth_run(168, 400, entry=56, limit=32768)
    assert small.overflow.call_index == 182 and small.calls_made == 181
    assert "fatal error: stack overflow" in small.lines()[-1]
    deep = ex.growth_run(10280, 100_000, entry=56)
    assert deep.overflow.call_index == 52185
    assert (deep.overflow.old_size, deep.overflow.new_size) == (1 << 29, GiB)


def test_featured_growth():
    assert ex.featured_growth(ex.growth_run(10280, 30, entry=56)).call_index == 1
    assert ex.featured_growth(ex.growth_run(168, 400, entry=56)).call_index == 368
    assert ex.featured_growth(ex.growth_run(168, 400, entry=56, limit=32768)).call_index == 182
    assert ex.featured_growth(ex.growth_run(168, 3, entry=56)) is None


def test_copy_cost_stays_below_the_stack():
    cost = ex.copy_cost(168, 1000, entry=56)
    run = ex.growth_run(168, 1000, entry=56)
    assert cost.call == tuple(range(1001))
    assert cost.total_copied == sum(e.used for e in run.grows)
    assert cost.final_size == run.size
    assert all(c < s for c, s in zip(cost.copied, cost.size, strict=True))
    assert list(cost.copied) == sorted(cost.copied)
    # Derivation: each growth copies less than its old size, and 2048 + ... + S/2 < S.
    assert cost.total_copied < cost.final_size


# ---- describing memory ---------------------------------------------------------------


def test_alloc_path_boundary_between_pools_and_large_stacks():
    assert ex.alloc_path(2048).startswith("small stack: order 0")
    assert ex.alloc_path(16384).startswith("small stack: order 3")
    assert ex.alloc_path(32768).startswith("large stack")


def test_word_bytes_and_delta():
    assert ex.word_bytes(POISON_OLD) == "fc fc fc fc fc fc fc fc"
    assert ex.fmt_delta(-131072) == "-131,072" and ex.fmt_delta(32768) == "+32,768"


def test_stack_map_bits():
    f = gs.Func("main.f", frame=40, locals=[gs.Local("x", gs.SCALAR, 0),
                                            gs.Local("p", gs.POINTER, 8),
                                            gs.Local("u", gs.UINTPTR, 16)])
    assert ex.stack_map(f) == "0100"  # 4 words below the saved BP


def _pointer_world():
    rt = gs.Runtime()
    w = gs.Func("main.worker", frame=56, locals=[
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8),
        gs.Local("u", gs.UINTPTR, 16), gs.Local("h", gs.POINTER, 24)])
    g = rt.go(w)
    heap = rt.new_object()
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", heap)
    before = g.snapshot()
    for _ in range(10):
        g.call(gs.Func("main.recA", frame=168))
    return before, g.snapshot(), g.trace.grows[0], heap


def test_slot_rows_pointer_moves_uintptr_and_heap_pointer_do_not():
    before, after, grow, heap = _pointer_world()
    rows = {r.local: r for r in ex.slot_rows(before, after, grow, heap=[heap])}
    assert rows["p"].adjusted and rows["p"].before == rows["p"].after == "&main.worker#0.x"
    assert not rows["u"].adjusted and rows["u"].after == f"old stack hi-{rows['x'].offset}"
    assert not rows["h"].adjusted and rows["h"].after == "heap object"
    assert rows["x"].before == rows["x"].after == "42" and not rows["x"].adjusted
    table = ex.slot_table(list(rows.values()))
    assert table.splitlines()[0].split()[:2] == ["slot", "kind"]


def test_describe():
    before, after, grow, heap = _pointer_world()
    assert ex.describe(0, after) == "nil"
    assert ex.describe(after.hi - 8, after) == "hi-8"  # the goroutine's reserve: no local
    assert ex.describe(after.frames[0].locals[0].addr, after) == "&main.worker#0.x"
    assert ex.describe(grow.old_hi - 8, after, old=(grow.old_lo, grow.old_hi)) == \
        "old stack hi-8"
    assert ex.describe(POISON_OLD, after) == "poison fc fc fc fc fc fc fc fc"
    assert ex.describe(7, after, kind=gs.SCALAR) == "7"


# ---- the running example, step by step ------------------------------------------------


@pytest.fixture(scope="module")
def tape7():
    return ex.running_example(7)


def test_running_example_grows_where_the_real_probe_does():
    # lesson_running in gostack/data/lessons_recorded.json (go1.27.3, frames 40/160).
    tape = ex.running_example(400)
    assert tape.trace.growth_points() == [(7, 4096), (20, 8192), (44, 16384), (93, 32768),
                                          (190, 65536), (385, 131072)]
    assert ex.check_running_example(tape[-1].stack) == 2 * 400


def test_tape_phases_of_one_growth(tape7):
    phases = [s.phase for s in tape7]
    assert phases == [Phase.CALL] * 7 + list(GROWTH_PHASES)
    assert [s.call_index for s in tape7] == list(range(7)) + [7] * len(GROWTH_PHASES)
    assert tape7.growth(0) == tuple(tape7)[7:]
    assert [s.phase for s in tape7.growth(0, COPY_PHASES)] == list(COPY_PHASES)
    assert sum(s.starts_growth for s in tape7) == 1


def test_growth_steps_show_the_copy_then_the_adjustment(tape7):
    grow = tape7.trace.grows[0]
    steps = {s.phase: s for s in tape7.growth(0)}
    before = steps[Phase.CHECK].stack
    assert before.size == 2048 and steps[Phase.RETRY].stack.size == 4096
    alloc, copy, adjust = steps[Phase.ALLOC].new, steps[Phase.COPY].new, steps[Phase.ADJUST].new
    assert alloc.frames == () and (alloc.lo, alloc.hi) == (grow.new_lo, grow.new_hi)
    for snap in (copy, adjust):
        assert snap.used == grow.used  # the copied bytes, [E, hi)
        # every frame keeps its distance from hi
        assert [before.hi - f.e for f in before.frames] == [snap.hi - f.e for f in snap.frames]
    for fb, fc, fa in zip(before.frames, copy.frames, adjust.frames, strict=True):
        for lb, lc, la in zip(fb.locals, fc.locals, fa.locals, strict=True):
            assert lc.value == lb.value  # memmove: the same words
            in_old = lb.kind is gs.POINTER and grow.old_lo <= lb.value < grow.old_hi
            assert la.value == lb.value + (grow.delta if in_old else 0)
    freed = steps[Phase.FREE].stack
    assert all(lc.value == POISON_OLD for f in freed.frames for lc in f.locals)
    assert ex.check_running_example(steps[Phase.RETRY].stack) == 2 * 7
    assert f"{grow.delta:+,}" in steps[Phase.ALLOC].text


def test_without_adjustment_the_pointers_dangle():
    rt = gs.Runtime(poison=True, stages=gs.Stages().replace(adjustframe=gs.adjust.no_adjust))
    tape = ex.running_example(10, runtime=rt)
    with pytest.raises(AssertionError, match="does not point at the worker's x"):
        ex.check_running_example(tape[-1].stack)
    adjust = next(s for s in tape if s.phase is Phase.ADJUST)
    assert "no pointer slot" in adjust.text


def test_recorder_overflow_ends_the_tape():
    r = ex.Recorder(gs.Func("main.worker", frame=40), runtime=gs.Runtime(max_stack=4096))
    rec = gs.Func("main.recA", frame=160)
    results = [r.call(rec) for _ in range(30) if not r.finished]
    assert results[-1] is False and r.finished
    assert [s.phase for s in r.steps[-3:]] == [Phase.CHECK, Phase.NEWSIZE, Phase.OVERFLOW]
    assert "runtime: goroutine stack exceeds 4096-byte limit" in r.steps[-1].text
    assert r.steps[-1].call_index == 20  # the second growth, 4096 -> 8192
    with pytest.raises(RuntimeError):
        r.call(rec)


def test_recorder_preemption_and_gc():
    rec = gs.Func("main.recA", frame=168)
    r = ex.Recorder(gs.Func("main.worker", frame=56))
    r.call(rec)
    r.preempt()
    r.call(rec)
    phases = [s.phase for s in r.steps]
    assert phases == [Phase.CALL, Phase.CALL, Phase.PREEMPT_REQUEST, Phase.PREEMPT, Phase.CALL]
    assert "0xffff_ffff_ffff_fade" in r.steps[2].text
    assert not r.tape().trace.grows
    for _ in range(50):
        r.call(rec)
    for _ in range(52):
        r.ret()
    r.gc()
    assert [s.phase for s in r.steps[-2:]] == [Phase.GC, Phase.SHRINK]
    assert r.steps[-1].new.size == r.steps[-1].stack.size // 2


# ---- the Cursor -------------------------------------------------------------------------


class Fake:
    def __init__(self, name: str, growth: bool = False) -> None:
        self.name, self.starts_growth = name, growth


STEPS = [Fake("a"), Fake("b", True), Fake("c"), Fake("d"), Fake("e", True), Fake("f")]


def test_cursor_step_and_back_stay_inside():
    c = Cursor(STEPS)
    assert c.at_start and c.current.name == "a" and c.back() == 0
    assert c.step() == 1 and c.step(3) == 4 and c.step(5) == 5 and c.at_end
    assert c.step() == 5 and c.peek() is None
    assert c.back(2) == 3 and c.peek().name == "e" and c.step(-10) == 0


def test_cursor_jump_clamps_and_counts_from_the_end():
    c = Cursor(STEPS, position=-1)
    assert c.position == 5
    assert c.jump(-2) == 4 and c.jump(99) == 5 and c.jump(-99) == 0
    with pytest.raises(TypeError):
        c.jump(1.5)
    with pytest.raises(ValueError):
        Cursor([])


def test_cursor_next_growth():
    c = Cursor(STEPS)
    assert c.growth_ahead and c.next_growth() == 1
    assert c.next_growth() == 4 and not c.growth_ahead
    assert c.next_growth() == 5  # none ahead: go to the end
    assert c.next_growth() == 5
    c.jump(-1)
    assert not c.growth_ahead


def test_cursor_play():
    c = Cursor(STEPS, position=3)
    assert list(c.play()) == [4, 5] and c.at_end
    assert list(c.play(max_steps=2)) == [0, 1, 2]  # at the end: start over
    assert list(c.play(max_steps=0)) == [] and c.position == 2


def test_cursor_custom_marks_and_a_tape(tape7):
    c = Cursor(STEPS, is_growth=lambda s: s.name in "cf")
    assert c.next_growth() == 2 and c.next_growth() == 5
    t = Cursor(tape7)
    assert t.next_growth() == 7 and t.current.phase is Phase.CHECK
    assert t.next_growth() == len(tape7) - 1 and t.current.phase is Phase.RETRY


# ---- lesson 08 ----------------------------------------------------------------------------


def test_shrink_rows_follow_the_quarter_rule():
    # Facts (d): 400 calls of recA, back to the worker, eight runtime.GC(): 232 B in use at
    # scan, so 232 + 800 < S/4 halves down to 4096 and stops there (1032 >= 1024).
    g = gs.Runtime().go(gs.Func("main.worker", frame=56))
    for _ in range(400):
        g.call(gs.Func("main.recA", frame=168))
    for _ in range(400):
        g.ret()
    for _ in range(8):
        g.runtime_gc()
    rows = ex.shrink_rows(g.trace)
    assert [r.new_size for r in rows] == [65536, 32768, 16384, 8192, 4096, None, None, None]
    assert {r.used for r in rows} == {232}
    assert ex.shrink_table(rows).splitlines()[6].split()[:2] == ["6", "4,096"]


def test_hot_split_only_at_the_boundary():
    hs = ex.hot_split(frame=160, args=16, iterations=200, around=3)
    at = hs.depths.index(hs.boundary)
    assert hs.segmented_splits[at] == 200
    assert all(s <= 1 for i, s in enumerate(hs.segmented_splits) if i != at)
    assert max(hs.contiguous_grows) <= 3
    assert hs.by_iterations[-1] == (200, 200, hs.contiguous_grows[at])


# ---- real Go: the recording, and live runs --------------------------------------------------


@pytest.fixture(scope="module")
def recorded():
    return ex.load_recorded()


def test_recorded_cases_agree_with_the_simulator(recorded):
    assert set(recorded["cases"]) == set(ex.lesson_programs())
    for name in ex.lesson_programs():
        c = ex.comparison(name, recorded=recorded)
        assert c.agree, c.table()
        assert not c.notes, f"{name}: run scripts/record_lessons.py ({c.notes})"
    assert recorded["cases"]["lesson_running"]["frames"] == ex.RUNNING_FRAMES
    assert ex.recorded_label(recorded).startswith("recorded with go1.27.3 on ")


def test_recorded_demos_are_consistent(recorded):
    p = recorded["pointer"]
    size, moves = ex.pointer_sim(p["frames"])
    assert f"after:  stack {size} bytes" in p["stable"][1] and moves >= 1
    assert p["moved_to_heap"] == []  # x stayed on the stack
    assert recorded["escapes"] == ["14:2: moved to heap: y", "20:2: moved to heap: z"]
    assert recorded["adaptive"]["default"] == {"5": 2048, "20": 8192, "50": 16384, "100": 32768}
    for setup in ("adaptivestackstart=0", "fresh G"):
        assert set(recorded["adaptive"][setup].values()) == {2048}


def _have_go() -> bool:
    from gostack import realgo

    return bool(realgo.available())


needs_go = pytest.mark.skipif(
    not _have_go() and os.environ.get("GOSTACK_REQUIRE_GO") != "1",
    reason="no Go toolchain (pip install 'gostack[go]')")


@pytest.mark.go
@needs_go
def test_live_programs_still_do_what_was_recorded(recorded):
    for name in ("lesson_running", "lesson_big_frame", "lesson_small_limit", "lesson_shrink"):
        live = ex.comparison(name, live=True)
        assert live.agree, live.table()
        assert live.real == ex.comparison(name, recorded=recorded).real


@pytest.mark.go
@needs_go
def test_live_demos_still_do_what_was_recorded(recorded):
    assert ex.escape_decisions() == recorded["escapes"]
    demo = ex.pointer_demo()
    assert demo["stable"] == recorded["pointer"]["stable"]
    assert demo["varies"][0].startswith("p - u = ")
    assert ex.adaptive_sizes() == recorded["adaptive"]


# ---- widgets: built and driven without a browser ------------------------------------------


def _kinds(box) -> list[str]:
    out = []
    for child in box.children:
        out += _kinds(child) if hasattr(child, "children") else [type(child).__name__]
    return out


def test_growth_explorer_builds_and_follows_its_controls():
    box = ex.growth_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "IntSlider", "Output"]
    size, depth, limit = box.children[0].children
    text = box.children[1]
    assert "400 calls of a 160-byte frame" in text.value
    limit.value = 32768
    assert "over the limit" in text.value
    size.value = 10272
    depth.value = 10
    assert "(3 doublings)" in text.value


def test_stepper_buttons_move_the_cursor(tape7):
    box = ex.stepper(tape7, delay=0, play_steps=3)
    (fwd, back, grow, run), slider, text = box.children[0].children, *box.children[1:3]
    assert sorted(set(_kinds(box))) == ["Button", "HTML", "IntSlider", "Output"]
    assert back.disabled and not fwd.disabled and "step 1 of 15" in text.value
    fwd.click()
    assert slider.value == 1 and not back.disabled
    grow.click()
    assert slider.value == 7 and "prologue check fails" in text.value and grow.disabled
    back.click()
    assert slider.value == 6
    run.click()
    assert slider.value == 9
    slider.value = len(tape7) - 1
    assert fwd.disabled and "retries" in text.value
    run.click()  # at the end, play starts over
    assert slider.value == 3


def test_copy_stepper_has_only_step_and_back(tape7):
    box = ex.stepper(tape7.growth(0, COPY_PHASES), play=False)
    assert [b.description for b in box.children[0].children] == ["step ▶", "◀ back"]


def test_live_go_waits_for_a_warm_build_cache(monkeypatch, tmp_path):
    from gostack import realgo

    monkeypatch.setenv("GOSTACK_CACHE", str(tmp_path))
    cold = ex.live_go()
    assert not cold and "recorded results stand" in cold.reason
    if realgo.available():
        assert "nothing was built" in cold.reason and ex.live_go(force=True)
        (tmp_path / "go" / "cache").mkdir(parents=True)
        assert ex.live_go()


# ---- lesson 08's shrink explorer -------------------------------------------------------

@pytest.mark.parametrize("worker", sorted(MEASURED_SHRINK))  # facts sheet probes (d), (s)
def test_shrink_run_matches_the_measured_probes(worker):
    run = ex.shrink_run(400, 0, 8, worker=worker)
    assert run.peak == 131072
    sizes, size = [], run.peak
    for r in run.rows:
        assert r.size == size
        size = r.new_size or size
        sizes.append(size)
    assert tuple(sizes) == MEASURED_SHRINK[worker] and run.final == sizes[-1]
    assert run.halvings == len(set(sizes)) - (sizes[-1] == sizes[0])


def test_shrink_run_parked_deeper_halves_less():
    halvings = [ex.shrink_run(400, stay, 8).halvings for stay in range(0, 401, 25)]
    assert halvings == sorted(halvings, reverse=True)
    assert halvings[0] == 6 and halvings[-1] == 0  # 400 frames in use: 67 KB of 128 KiB
    assert ex.shrink_run(400, 999, 8) == ex.shrink_run(400, 400, 8)  # stay is clipped


def test_shrink_run_never_goes_under_what_is_in_use():
    for calls, stay in ((0, 0), (30, 5), (900, 200), (2000, 1999)):
        run = ex.shrink_run(calls, stay, 12)
        for r in run.rows:
            assert r.used <= r.size and (r.new_size is None or r.used + 800 < r.new_size // 2)


def test_shrink_explorer_follows_its_controls():
    box = ex.shrink_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "IntSlider", "Output"]
    (deep, back), (worker, cycles) = box.children[0].children, box.children[1].children
    text, out = box.children[2:]
    assert "6 halvings in 8 GCs: 131,072 → 2,048 B" in text.value and len(out.outputs) == 1
    worker.value = 56
    assert "5 halvings in 8 GCs: 131,072 → 4,096 B" in text.value
    back.value = 400
    assert "0 halvings" in text.value and "back at depth 400" in text.value
    deep.value, cycles.value = 0, 1
    assert "stayed at 2,048 B" in text.value and "0 halvings in 1 GC:" in text.value
    assert len(out.outputs) == 1  # the picture is replaced, not appended


def test_shrink_figure_is_titled_with_its_run():
    run = ex.shrink_run(400, 10, 8)
    fig = ex.shrink_figure(run)
    assert fig.axes[0].get_title() == "400 calls deep, back to depth 10: 4 halvings in 8 GCs"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [f"GC {i}" for i in range(1, 9)]


# ---- lesson 06's adjustment explorer ---------------------------------------------------

POISON = "poison " + " ".join(["fc"] * 8)  # stackPoisonCopy fills a freed stack with 0xfc


@pytest.mark.parametrize("calls", [0, 6, 7, 8, 50, 100])
def test_adjust_run_p_follows_x_and_u_is_left_behind(calls):
    run = ex.adjust_run(calls)
    moved = bool(run.tape.trace.grows)
    assert moved == (calls >= 7)  # the first growth of lesson 06's table, at call 7
    assert run.reads[0] == "*p = 42"
    stale = f"u == &x: False   *(*int)(u) = {POISON}"
    assert run.reads[2] == (stale if moved else "u == &x: True")
    if moved:
        by_name = {r.local: r for r in run.rows}
        assert [r.local for r in run.rows if r.adjusted] == ["p"]
        assert by_name["p"].after == "&main.worker#0.x" == by_name["p"].before
        old = "old stack" if len(run.tape.trace.grows) == 1 else "freed stack"
        assert by_name["u"].after == f"{old} hi-{by_name['x'].offset}"


def test_adjust_run_without_adjustment_reads_poison_or_a_stale_copy():
    broken = ex.adjust_run(7, adjust=False)
    assert not any(r.adjusted for r in broken.rows)
    assert broken.reads[0] == f"*p = {POISON}   (p no longer points to x)"
    silent = ex.adjust_run(7, adjust=False, poison=False)
    assert silent.reads[0] == "*p = 42   (p no longer points to x)"
    assert silent.reads[2] == "u == &x: False   *(*int)(u) = 42"
    assert broken.picture.phase is ex.Phase.FREE and ex.adjust_run(3).picture.phase is ex.Phase.CALL


def test_adjust_explorer_follows_its_controls():
    box = ex.adjust_explorer()
    assert sorted(set(_kinds(box))) == ["Checkbox", "HTML", "IntSlider", "Output", "ToggleButtons"]
    (stage, poison), depth, text, out = box.children[0].children, *box.children[1:]
    assert "7 calls of recA, adjustframe, poisoned" in text.value and "*p = 42\n" in text.value
    stage.value = False
    assert f"*p = {POISON}   (p no longer points to x)" in text.value
    poison.value = False
    assert "*p = 42   (p no longer points to x)" in text.value
    depth.value = 3
    assert "the stack has not moved" in text.value and "u == &amp;x: True" in text.value
    assert len(out.outputs) == 1
