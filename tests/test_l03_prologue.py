"""gostack.lessons.l03_prologue: one prologue check drawn, and the explorer, without a browser.

Positions are derived here: on a 2,048-byte stack stackguard0 = lo + 928 sits 1,120 bytes
below hi; a medium-form frame F compares SP - (F - 128) with it.
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from lesson_widgets import kinds  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from gostack.lessons import l03_prologue as l03  # noqa: E402
from gostack.lessons import view  # noqa: E402


def test_defaults_are_recA_of_the_running_example():
    s = l03.prologue_state()
    assert (s.size, s.e_used, s.frame) == (2048, 1000, 160)


def test_the_equality_case_fires():
    # frame 160: SP-32 = E - 32; E at 1,088 below hi puts it on the guard (1,120): <= fires.
    s = l03.prologue_state(2048, 1088, 160)
    assert (s.compared, s.guard_used, s.fires) == (1120, 1120, True)
    assert not l03.prologue_state(2048, 1080, 160).fires


def _text_boxes(fig):
    """The visible labels' own boxes (an annotation's arrow is not part of its label)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    return {t.get_text(): Text.get_window_extent(t, r) for t in ax.texts if t.get_visible()}


@pytest.mark.parametrize(("e_used", "frame"), [(1080, 168), (1088, 160), (1000, 10280),
                                                (1200, 160), (8, 4096), (1120, 64)])
def test_labels_never_overlap_and_the_guard_line_strikes_none(e_used, frame):
    """The learner's report: at hi-E = 1080 (frame 168) the arrow, the guard line and its
    label overlapped; with frame 10280 the guard line struck "E (SP at entry)" through."""
    fig = l03.prologue_figure(l03.prologue_state(2048, e_used, frame))
    boxes = _text_boxes(fig)
    assert {"E (SP at entry)", "stackguard0\n= lo + 928"} <= set(boxes)
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not ba.overlaps(bb), f"{a!r} overlaps {b!r}"
    ax = fig.axes[0]
    r = fig.canvas.get_renderer()
    (guard,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    xs = guard.get_xdata()
    assert (min(xs), max(xs)) == (0, 1)  # across the stack column only
    e_label = boxes["E (SP at entry)"]
    assert not guard.get_window_extent(r).overlaps(e_label)


@pytest.mark.parametrize("e_used", [1000, 1088])
def test_the_guard_label_sits_off_the_frame(e_used):
    """The learner's report: at hi-E = 1000 and 1088 (frame 160) the guard's label sat on
    the green frame, inside the stack column. It goes to the column's right, and its arrow
    ends on the guard line: 2,048 - 928 = 1,120 bytes below hi."""
    fig = l03.prologue_figure(l03.prologue_state(2048, e_used, 160))
    boxes = _text_boxes(fig)
    ax = fig.axes[0]
    column_right = ax.transData.transform((1, 0))[0]
    label = boxes["stackguard0\n= lo + 928"]
    assert label.x0 > column_right
    (guard,) = [t for t in ax.texts if t.get_text().startswith("stackguard0")]
    assert guard.xy == (1, 1120)


def test_a_widget_picture_updated_in_place_is_the_one_drawn_afresh():
    """The explorer moves its artists instead of drawing a new figure: after any walk of
    states, its pixels are those of a figure drawn for the last state alone."""
    walk = [(1000, 160), (1088, 160), (8, 4096), (1120, 64), (1000, 10280), (1200, 168)]
    fig = None
    for e_used, frame in walk:
        state = l03.prologue_state(2048, e_used, frame)
        fig = l03.prologue_figure(state, fig)
        again = l03.prologue_figure(state)
        assert view.png(fig, crop=False) == view.png(again, crop=False), (e_used, frame)


def test_prologue_explorer_follows_its_controls():
    box = l03.prologue_explorer()
    assert sorted(set(kinds(box))) == ["Dropdown", "HTML", "Image", "IntSlider"]
    (used, frame), (_image, side) = box.children[0].children, box.children[1].children
    text = side.children[0]  # beside the tall picture
    assert frame.value == 160 and "the frame fits" in text.value
    used.value = 1088
    assert "call morestack" in text.value


def test_the_leaf_is_counted_so_recas_seventh_call_is_call_8():
    """The learner's report: lesson 03 printed growth at call 8, lesson 04 at call 7. Hand
    count: worker is call 0, recA calls 1-6 bring hi - SP to 40 + 40 + 6 * 168 = 1,088; the
    NOSPLIT leaf is call 7; recA's 7th call, call 8, enters at E = hi - 1,096 and compares
    E - 32, 1,128 >= 1,120 below hi: it grows. Without the leaf it is call 7 (lesson 04)."""
    import gostack as gs

    rec = gs.Func("main.recA", frame=160)
    for leaf, index in ((True, 8), (False, 7)):
        g = gs.Runtime().go(gs.Func("main.worker", frame=40))
        for _ in range(6):
            g.call(rec)
        assert g.used == 1088
        if leaf:
            g.call(gs.Func("main.leaf", frame=120, nosplit=True))
            g.ret()
        g.call(rec)
        assert [e.call_index for e in g.trace.grows] == [index]
