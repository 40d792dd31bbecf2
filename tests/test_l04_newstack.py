"""gostack.lessons.l04_newstack: newstack's sizing, a recursion's growths, the growth explorer.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack.arch import STACK_GUARD  # noqa: E402
from gostack.lessons import l04_newstack as l04  # noqa: E402

GiB = 1 << 30


# ---- newstack's sizing ---------------------------------------------------------------


def test_sizing_of_a_huge_first_frame_tries_three_sizes():
    # Facts (b): recBig F=10280 at depth 1 with 104 B in use needs 11208 B below them:
    # 4096 - 104 and 8192 - 104 are too small, 16384 - 104 fits.
    s = l04.sizing(2048, 104, 10280)
    assert [c.size for c in s.candidates] == [4096, 8192, 16384]
    assert [c.fits for c in s.candidates] == [False, False, True]
    assert s.new_size == 16384 and s.doublings == 3 and not s.overflow
    assert s.candidates[0].needed == 10280 + 928
    assert s.lines()[-1] == "new stack 16,384 B (3 doublings in one copy)"


def test_sizing_exactly_fitting_is_taken():
    # room == needed fits: the loop runs while newsize - used < needed.
    s = l04.sizing(2048, 4096 - (168 + STACK_GUARD), 168)
    assert s.new_size == 4096 and s.candidates[0].room == s.candidates[0].needed


def test_sizing_over_the_limit_reports_the_refused_size():
    s = l04.sizing(1 << 29, (1 << 29) - 1000, 10280)
    assert s.overflow and s.new_size is None
    assert s.candidates[-1].size == GiB
    assert "1000000000-byte limit" in s.lines()[-1]


def test_last_size_under_the_limit():
    assert l04.last_size_under(1_000_000_000) == 512 * 1024 * 1024
    assert l04.last_size_under(32768) == 32768  # the limit test is newsize > limit
    assert l04.last_size_under(50_000) == 32768


def test_growth_run_matches_the_measured_recursion():
    # Facts (a): worker $56, recA $168.
    run = l04.growth_run(168, 400, entry=56)
    assert [(e.call_index, e.new_size) for e in run.grows] == [
        (7, 4096), (19, 8192), (42, 16384), (88, 32768), (182, 65536), (368, 131072)]
    assert run.overflow is None and run.calls_made == 400 and run.size == 131072
    assert len(run.lines()) == 1 + 6


def test_growth_run_stops_at_the_limit():
    # Facts (e): SetMaxStack(32768) dies at depth 182; (e2): the default limit at 52185.
    small = l04.growth_run(168, 400, entry=56, limit=32768)
    assert small.overflow.call_index == 182 and small.calls_made == 181
    assert "fatal error: stack overflow" in small.lines()[-1]
    deep = l04.growth_run(10280, 100_000, entry=56)
    assert deep.overflow.call_index == 52185
    assert (deep.overflow.old_size, deep.overflow.new_size) == (1 << 29, GiB)


def test_featured_growth():
    assert l04.featured_growth(l04.growth_run(10280, 30, entry=56)).call_index == 1
    assert l04.featured_growth(l04.growth_run(168, 400, entry=56)).call_index == 368
    assert l04.featured_growth(l04.growth_run(168, 400, entry=56, limit=32768)).call_index == 182
    assert l04.featured_growth(l04.growth_run(168, 3, entry=56)) is None


def test_copy_cost_stays_below_the_stack():
    cost = l04.copy_cost(168, 1000, entry=56)
    run = l04.growth_run(168, 1000, entry=56)
    assert cost.call == tuple(range(1001))
    assert cost.total_copied == sum(e.used for e in run.grows)
    assert cost.final_size == run.size
    assert all(c < s for c, s in zip(cost.copied, cost.size, strict=True))
    assert list(cost.copied) == sorted(cost.copied)
    # Derivation: each growth copies less than its old size, and 2048 + ... + S/2 < S.
    assert cost.total_copied < cost.final_size


# ---- widgets: built and driven without a browser ------------------------------------------


def test_growth_explorer_builds_and_follows_its_controls():
    box = l04.growth_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "Image", "IntSlider"]
    size, depth, limit = box.children[0].children
    text = box.children[1]
    assert "400 calls of a 160-byte frame" in text.value
    limit.value = 32768
    assert "fatal error: stack overflow" in text.value
    size.value = 10272
    depth.value = 10
    limit.value = 1_000_000_000
    assert "new stack 16,384 B (3 doublings in one copy)" in text.value


def test_the_readout_adds_to_the_lessons_table():
    """The learner's report: the explorer's readout repeated the table of growths printed
    just above it. It gives the first growth and the fit loop the picture draws instead.
    Facts: recBig (10,272 + 8 B a call) above a 40-byte worker: the first call needs
    10,272 + 928 below the 88 B in use, so 4,096 and 8,192 are too small, 16,384 fits."""
    run = l04.growth_run(10272, 10)
    lines = l04.explorer_lines(run)
    assert lines[0] == run.lines()[0]
    assert lines[1] == "first growth: call 1, 2,048 -> 16,384 B, 3 doublings"
    assert lines[2] == "on the right, newstack's fit loop at call 1:"
    assert [" ".join(ln.split(":")[0].split()) for ln in lines[4:7]] == [
        "try 4,096", "try 8,192", "try 16,384"]
    table = set(run.lines()[1:])
    assert not table & set(lines)  # no line of the table again
    assert l04.explorer_lines(l04.growth_run(160, 5))[1:] == [
        "no growth: the stack stays at 2,048 B"]  # 40 + 40 + 5 * 168 = 920 B: no growth


def test_call_labels_never_touch():
    """The learner's report: at a 65,536-byte frame the call indexes 1, 2, 4, 8... crowded
    each other. Each label now sits beside its own mark; none overlaps another label or
    another growth's mark."""
    from matplotlib.text import Text

    for frame, calls in [(65536, 400), (65536, 2000), (10272, 2000), (160, 2000), (64, 400)]:
        fig = l04.growth_figure(l04.growth_run(frame, calls))
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        ax = fig.axes[0]
        labels = [t for t in ax.texts if t.get_visible()]
        boxes = [Text.get_window_extent(t, r) for t in labels]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (frame, calls)
        marks = ax.lines[1]
        pts = ax.transData.transform(list(zip(*marks.get_data(), strict=True)))
        for t, box in zip(labels, boxes, strict=True):
            for (px, py), x in zip(pts, marks.get_xdata(), strict=True):
                if str(x) != t.get_text():
                    assert not box.fully_contains(px, py), (frame, calls, t.get_text(), x)
        shown = sorted(int(t.get_text()) for t in labels)
        assert shown[0] == 1 if frame == 65536 else True
        assert len(shown) >= len(l04.growth_run(frame, calls).grows) // 2


def test_every_kind_of_bar_has_a_legend_entry():
    """The learner's report: the red, hatched "too small" bars had no legend entry."""
    fig = l04.growth_figure(l04.growth_run(65536, 400))
    legend = fig.axes[1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "in use (copied)", "frame + 928: fits", "frame + 928: too small"]
    too_small = legend.legend_handles[2]
    assert too_small.get_hatch() == "//"


def test_the_legend_hides_no_candidate_label():
    """The learner's report: with a 65,536-byte frame the legend hid "131,072: fits"."""
    fig = l04.growth_figure(l04.growth_run(65536, 400))
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[1]
    legend = ax.get_legend().get_window_extent(r)
    labels = {t.get_text(): t.get_window_extent(r) for t in ax.texts}
    assert "131,072: fits" in labels
    assert [k for k, b in labels.items() if b.overlaps(legend)] == []


def test_growths_are_counted_in_english_and_ticks_are_whole_calls():
    one = l04.growth_run(160, 10)
    assert one.lines()[0].endswith(": 1 growth")
    fig = l04.growth_figure(one)
    assert fig.axes[0].get_title() == "160-byte frames: 1 growth"
    assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())


def test_doubling_growths_stand_apart_on_the_call_axis():
    """The learner's report: at a 65,536-byte frame the labels 1, 2, 4, 8, 16, 32 crowded in
    a column against the y axis. Calls are on a log scale now: growths at calls 1, 2, 4,
    ..., 1,024 (hand-derived: each growth doubles a stack that holds one more frame per
    call) stand evenly apart, and every one is labelled."""
    fig = l04.growth_figure(l04.growth_run(65536, 2000))
    fig.canvas.draw()
    ax = fig.axes[0]
    xs = list(ax.lines[1].get_xdata())
    assert xs == [2**k for k in range(11)]
    px = [ax.transData.transform((x, 1 << 20))[0] for x in xs]
    gaps = [b - a for a, b in zip(px, px[1:], strict=False)]
    assert max(gaps) - min(gaps) < 1 and min(gaps) > 20  # pixels at 100 dpi
    assert sorted(int(t.get_text()) for t in ax.texts if t.get_visible()) == xs
    assert ax.get_xlabel() == "call index (log scale)"
