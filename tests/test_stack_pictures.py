"""gostack.lessons.stacks: the learner-walk findings on the shared stack pictures.

* lesson 05: the "memmove" label was struck through by a dashed (dangling-pointer) arrow;
* lesson 07: at call 20 the guard's label touched the frame sitting on the guard;
* "lo (131,072 B)" read like an address.

Positions come from the running example's frames (worker $40, recA $160): its first growth
is at call 7 (2,048 -> 4,096 B, lesson 05), the second at call 20 (4,096 -> 8,192 B).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gostack as gs  # noqa: E402
from gostack.lessons import running, stacks, stepper  # noqa: E402
from gostack.lessons.recorder import Phase  # noqa: E402

GAP_PX = 6  # a visible gap at 100 dpi


@pytest.fixture(scope="module")
def tape100():
    return running.running_example(calls=100)


@pytest.fixture(scope="module")
def tape7_poisoned():
    return running.running_example(calls=7, runtime=gs.Runtime(poison=True))


def _guard_label(ax):
    (text,) = [t for t in ax.texts if t.get_text().startswith("stackguard0")]
    return text


def _column_left(ax):
    return ax.transData.transform((0, 0))[0]


@pytest.mark.parametrize("call", [7, 20, 44, 93])
def test_the_guard_label_keeps_off_the_column_when_a_frame_sits_on_the_guard(tape100, call):
    """The prologue check that fails at call 20 (and at the other growths): SP is at the
    guard, so the innermost frame's bottom is level with the label."""
    step = next(s for s in tape100 if s.phase is Phase.CHECK and s.call_index == call)
    fig = stepper.step_figure(step)
    fig.canvas.draw()
    (ax,) = fig.axes
    box = _guard_label(ax).get_window_extent(fig.canvas.get_renderer())
    assert box.x1 <= _column_left(ax) - GAP_PX
    assert box.x0 >= ax.transData.transform((-0.9, 0))[0]  # right of the axis line


def _segment_hits(box, a, b, n=400) -> bool:
    pts = np.linspace(a, b, n)
    return bool(((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1)
                 & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)).any())


@pytest.mark.parametrize("phase", [Phase.COPY, Phase.ADJUST])
def test_no_dangling_arrow_crosses_the_memmove_label(tape7_poisoned, phase):
    """Lesson 05's copy step: recA#6's pointers to the worker's x and to its own buf still
    hold old-stack addresses, drawn as dashed arrows into the old stack."""
    step = next(s for s in tape7_poisoned.growth(0) if s.phase is phase)
    fig = stepper.step_figure(step)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    a_old, a_new = fig.axes
    (label,) = [t for t in a_old.texts if "memmove" in t.get_text() and t.get_visible()]
    assert label.get_text() == " memmove\n 1,096 B"  # hi - E of recA#7: 40 + 8 + 6*168
    box = label.get_window_extent(r)
    dangling = [p for p in a_new.patches if type(p).__name__ == "ConnectionPatch"
                and p.get_visible() and p.get_linestyle() == "--"]
    if phase is Phase.COPY:
        assert len(dangling) == 2
    for p in dangling:
        a = a_new.transData.transform(p.xy1)
        b = a_old.transData.transform(p.xy2)
        assert not _segment_hits(box, a, b), p.xy1


def test_lo_is_labelled_lo_and_the_size_is_in_the_title(tape100):
    step = tape100[-1]
    fig = stepper.step_figure(step)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["hi", "lo"]
    assert f"stack {step.stack.size:,} B" in ax.get_title()


def test_bp_links_follow_the_chain_innermost_first():
    """worker $40 then two recA $160: slots at hi-48 (the entry, E = hi-40), hi-96
    (recA#1: E = hi-40-40-8), hi-264 (recA#2, 168 lower); the entry's saved 0 has no arc."""
    worker, rec = running.running_funcs()
    g = gs.Runtime().go(worker)
    g.call(rec)
    g.call(rec)
    snap = g.snapshot()
    assert stacks.bp_links(snap, 4) == [(264, 96), (96, 48)]
    assert stacks.bp_links(snap, 1, skip=1) == [(96, 48)]
