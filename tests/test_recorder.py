"""gostack.lessons.recorder, running and stepper: the running example step by step, and its stepper.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

import gostack as gs  # noqa: E402
from gostack.arch import POISON_OLD  # noqa: E402
from gostack.lessons import l04_newstack as l04  # noqa: E402
from gostack.lessons import l08_beyond as l08  # noqa: E402
from gostack.lessons import recorder, running, stepper, view  # noqa: E402
from gostack.lessons.recorder import COPY_PHASES, GROWTH_PHASES, Phase  # noqa: E402
from gostack.lessons.stepper import Cursor  # noqa: E402

GiB = 1 << 30


# ---- the running example, step by step ------------------------------------------------


@pytest.fixture(scope="module")
def tape7():
    return running.running_example(7)


def test_running_example_grows_where_the_real_probe_does():
    # lesson_running in gostack/data/lessons_recorded.json (go1.27.3, frames 40/160).
    tape = running.running_example(400)
    assert tape.trace.growth_points() == [(7, 4096), (20, 8192), (44, 16384), (93, 32768),
                                          (190, 65536), (385, 131072)]
    assert running.check_running_example(tape[-1].stack) == 2 * 400


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
    assert running.check_running_example(steps[Phase.RETRY].stack) == 2 * 7
    assert f"{grow.delta:+,}" in steps[Phase.ALLOC].text


def test_growth_steps_move_the_saved_frame_pointers(tape7):
    # each frame's saved-BP slot moves with it; the word in it is memmove's copy (the old
    # stack's address) until adjustframe adds delta (stack.go adjustframe)
    grow = tape7.trace.grows[0]
    steps = {s.phase: s for s in tape7.growth(0)}
    before, copy, adjust = steps[Phase.CHECK].stack, steps[Phase.COPY].new, steps[Phase.ADJUST].new
    assert any(f.bp for f in before.frames)
    for fb, fc, fa in zip(before.frames, copy.frames, adjust.frames, strict=True):
        assert fc.bp == fa.bp == (fb.bp + grow.delta if fb.bp else 0)
        assert fc.saved_bp == fb.saved_bp
        assert fa.saved_bp == (fb.saved_bp + grow.delta if fb.saved_bp else 0)
    assert adjust.guard_offset == before.guard_offset


def test_steps_speak_the_learners_terms(tape7):
    """No runtime internals a lesson never defines in what a step says (m.morebuf was one)."""
    for step in tape7:
        assert not any(w in step.text for w in ("morebuf", "stackpool", "stackLarge")), step.text
    more = next(s for s in tape7 if s.phase is Phase.MORESTACK)
    assert "the caller's PC and SP (for tracebacks)" in more.text


def test_without_adjustment_the_pointers_dangle():
    rt = gs.Runtime(poison=True, stages=gs.Stages().replace(adjustframe=gs.adjust.no_adjust))
    tape = running.running_example(10, runtime=rt)
    with pytest.raises(AssertionError, match="does not point at the worker's x"):
        running.check_running_example(tape[-1].stack)
    adjust = next(s for s in tape if s.phase is Phase.ADJUST)
    assert "no pointer slot" in adjust.text


def test_recorder_overflow_ends_the_tape():
    r = recorder.Recorder(gs.Func("main.worker", frame=40), runtime=gs.Runtime(max_stack=4096))
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
    r = recorder.Recorder(gs.Func("main.worker", frame=56))
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


def test_stepper_buttons_move_the_cursor(tape7):
    box = stepper.stepper(tape7)
    (back, fwd, grow, play, _style), slider = box.children[0].children, box.children[1]
    text = box.children[2].children[1].children[0]  # beside the picture
    assert sorted(set(_kinds(box))) == ["Button", "HTML", "Image", "IntSlider", "Play"]
    # The slider counts from 1, as the readout does.
    assert (slider.min, slider.max) == (1, len(tape7)) == (play.min, play.max)
    assert back.disabled and not fwd.disabled and "step 1 of 15" in text.value
    assert slider.value == 1
    fwd.click()
    assert slider.value == 2 and "step 2 of 15" in text.value and not back.disabled
    grow.click()
    assert slider.value == 8 and "step 8 of 15" in text.value and grow.disabled
    assert "prologue check fails" in text.value
    back.click()
    assert slider.value == 7
    slider.value = len(tape7)
    assert fwd.disabled and "retries" in text.value and f"step {len(tape7)} of" in text.value


def test_stepper_play_runs_in_the_browser(tape7):
    """Play is an ipywidgets Play linked to the slider in the front end (jslink): it
    never blocks the kernel and its stop button stops it."""
    import ipywidgets as w

    box = stepper.stepper(tape7, start=3)
    play, slider = box.children[0].children[3], box.children[1]
    assert isinstance(play, w.Play) and play.value == slider.value == 4
    from ipywidgets.widgets.widget import _instances
    from ipywidgets.widgets.widget_link import Link

    links = [x for x in _instances.values() if isinstance(x, Link)
             and {x.source[0], x.target[0]} == {play, slider}]
    assert len(links) == 1


def test_stepper_play_has_no_stop_button(tape7):
    """ipywidgets' stop (■) sets the Play to its minimum, which sent the slider to step 1:
    a style in the widget hides it on this Play (the browser test checks it is not shown)."""
    import ipywidgets as w

    box = stepper.stepper(tape7)
    play, style = box.children[0].children[3:]
    assert isinstance(play, w.Play) and not play.show_repeat
    assert stepper.PLAY_CLASS in play._dom_classes
    assert style.value == (f"<style>.{stepper.PLAY_CLASS} > button:nth-of-type(2) "
                           "{ display: none; }</style>")


def test_copy_stepper_has_only_step_and_back(tape7):
    box = stepper.stepper(tape7.growth(0, COPY_PHASES), play=False)
    assert [b.description for b in box.children[0].children] == ["◀ back", "step ▶"]


def test_a_widget_caches_its_pictures(tape7):
    box = stepper.stepper(tape7)
    (back, fwd, *_), image = box.children[0].children, box.children[-1].children[0]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    fwd.click()
    second = bytes(image.value)
    assert second != first
    back.click()  # a state shown before: its PNG comes from the cache
    assert bytes(image.value) == first


def test_a_saved_widget_shows_its_first_picture_and_one_line(tape7):
    from gostack.lessons import view

    box = l04.growth_explorer()
    bundle = box._repr_mimebundle_()
    assert bundle["text/plain"] == view.STATIC_NOTE
    assert bundle["image/png"]  # base64 of the first state's PNG
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_picture_redraws_one_figure():
    from gostack.lessons import view

    made = []
    painter = l08.ShrinkPainter()

    def figure(state, fig):
        fig = painter(state, fig)
        made.append((fig, fig.axes[0]))
        return fig

    pic = view.Picture(figure)
    pic.show(1, lambda: l08.shrink_run(400, 0, 8))
    pic.show(2, lambda: l08.shrink_run(400, 10, 8))
    pic.show(1, lambda: pytest.fail("a cached state is not computed again"))
    assert len(made) == 2 and made[0] == made[1]  # the same figure, the same axes, redrawn


def test_prefetch_renders_the_next_states_when_idle_and_drops_stale_ones():
    """Prefetch renders one state per turn of the event loop; a newer call drops what an
    older one had left; with no loop running it does nothing."""
    import asyncio

    class FakePicture:
        def __init__(self):
            self.rendered = []

        def render(self, key, state):
            self.rendered.append((key, state()))

    pic = FakePicture()
    ahead = view.Prefetch(pic, delay_s=0)
    ahead.after([(1, lambda: "one")])  # no event loop: nothing
    assert pic.rendered == []

    async def learner():
        ahead.after([(2, lambda: "two"), (3, lambda: "three"), (4, lambda: "four")])
        while len(pic.rendered) < 1:
            await asyncio.sleep(0)
        ahead.after([(5, lambda: "five")])  # the learner moved on before 3 and 4
        for _ in range(20):
            await asyncio.sleep(0)

    asyncio.run(learner())
    assert pic.rendered == [(2, "two"), (5, "five")]


def test_move_pictures_end_each_axis_at_its_own_lo(tape7):
    """Two stacks on one scale: the old 2,048-byte stack's axis stops at its lo, not at the
    new stack's 4,096 (it ran on below lo)."""
    free = next(s for s in tape7 if s.phase is Phase.FREE)
    fig = stepper.step_figure(free)
    old_ax, new_ax = fig.axes
    assert old_ax.get_ylim() == new_ax.get_ylim() == (4096, 0)  # one scale
    assert tuple(old_ax.spines["left"].get_bounds()) == (0, 2048)
    assert tuple(new_ax.spines["left"].get_bounds()) == (0, 4096)
    assert [t.get_text() for t in old_ax.get_yticklabels()] == ["hi", "lo"]


def test_step_painter_redraws_its_figures_in_place(tape7):
    painter = stepper.StepPainter()
    one = painter(tape7[0])
    two = painter(tape7.growth(0)[4])  # copystack: copy, a move
    assert painter(tape7[3]) is one and painter(tape7.growth(0)[6]) is two
    assert len(one.axes) == 1 and len(two.axes) == 2
