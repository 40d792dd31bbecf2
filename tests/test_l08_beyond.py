"""gostack.lessons.l08_beyond: shrinking at GC, the hot split, the shrink explorer.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402
from mutants import MEASURED_SHRINK  # noqa: E402

import gostack as gs  # noqa: E402
from gostack.lessons import l08_beyond as l08  # noqa: E402

GiB = 1 << 30


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
    rows = l08.shrink_rows(g.trace)
    assert [r.new_size for r in rows] == [65536, 32768, 16384, 8192, 4096, None, None, None]
    assert {r.used for r in rows} == {232}
    assert l08.shrink_table(rows).splitlines()[6].split()[:2] == ["6", "4,096"]


def test_hot_split_only_at_the_boundary():
    hs = l08.hot_split(frame=160, args=16, iterations=200, around=3)
    at = hs.depths.index(hs.boundary)
    assert hs.segmented_splits[at] == 200
    assert all(s <= 1 for i, s in enumerate(hs.segmented_splits) if i != at)
    assert max(hs.contiguous_grows) <= 3
    assert hs.by_iterations[-1] == (200, 200, hs.contiguous_grows[at])


# ---- lesson 08's shrink explorer -------------------------------------------------------

@pytest.mark.parametrize("worker", sorted(MEASURED_SHRINK))  # facts sheet probes (d), (s)
def test_shrink_run_matches_the_measured_probes(worker):
    run = l08.shrink_run(400, 0, 8, worker=worker)
    assert run.peak == 131072
    sizes, size = [], run.peak
    for r in run.rows:
        assert r.size == size
        size = r.new_size or size
        sizes.append(size)
    assert tuple(sizes) == MEASURED_SHRINK[worker] and run.final == sizes[-1]
    assert run.halvings == len(set(sizes)) - (sizes[-1] == sizes[0])


def test_shrink_run_parked_deeper_halves_less():
    halvings = [l08.shrink_run(400, stay, 8).halvings for stay in range(0, 401, 25)]
    assert halvings == sorted(halvings, reverse=True)
    assert halvings[0] == 6 and halvings[-1] == 0  # 400 frames in use: 67 KB of 128 KiB
    assert l08.shrink_run(400, 999, 8) == l08.shrink_run(400, 400, 8)  # stay is clipped


def test_shrink_run_never_goes_under_what_is_in_use():
    for calls, stay in ((0, 0), (30, 5), (900, 200), (2000, 1999)):
        run = l08.shrink_run(calls, stay, 12)
        for r in run.rows:
            assert r.used <= r.size and (r.new_size is None or r.used + 800 < r.new_size // 2)


def test_shrink_explorer_follows_its_controls():
    box = l08.shrink_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "Image", "IntSlider"]
    (deep, back), (worker, cycles) = box.children[0].children, box.children[1].children
    text, image = box.children[2:]
    assert "6 halvings in 8 GCs: 131,072 → 2,048 B" in text.value and image.value
    worker.value = 56
    assert "5 halvings in 8 GCs: 131,072 → 4,096 B" in text.value
    back.value = 400
    assert "0 halvings" in text.value and "back at depth 400" in text.value
    deep.value, cycles.value = 0, 1
    assert "stayed at 2,048 B" in text.value and "0 halvings in 1 GC:" in text.value


def test_shrink_explorer_back_to_is_clamped_to_calls():
    box = l08.shrink_explorer()
    (deep, back), text = box.children[0].children, box.children[2]
    assert back.max == deep.value == 400
    back.value = 300
    deep.value = 100
    back = box.children[0].children[1]
    assert back.max == 100 and back.value == 100 and "back at depth 100" in text.value
    back.value = 2000  # a learner cannot park deeper than the recursion went
    assert back.value == 100 and "back at depth 100" in text.value


def test_shrink_explorer_back_to_is_a_fresh_slider_when_calls_changes():
    """The browser's slider keeps its first range for End and Home after its max changes
    (End stopped at 400 after "calls" went to 800): "calls" brings a new "back to" slider,
    at the old one's depth, wired like it; the old one is closed."""
    box = l08.shrink_explorer()
    (deep, old), text = box.children[0].children, box.children[2]
    old.value = 200
    deep.value = 800
    new = box.children[0].children[1]
    assert new is not old and old.comm is None
    assert (new.description, new.min, new.max, new.value) == ("back to", 0, 800, 200)
    new.value = 800
    assert "back at depth 800" in text.value and "800 calls of a 160-byte frame" in text.value


def test_shrink_explorer_worker_options_give_nothing_away():
    box = l08.shrink_explorer()
    worker = box.children[1].children[0]
    assert [label for label, _ in worker.options] == ["40 (running example)", "56"]


def test_shrink_figure_is_titled_with_its_run():
    run = l08.shrink_run(400, 10, 8)
    fig = l08.shrink_figure(run)
    assert fig.axes[0].get_title() == "400 calls deep, back to depth 10: 4 halvings in 8 GCs"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [f"GC {i}" for i in range(1, 9)]


def test_shrink_explorer_readout_adds_what_the_lesson_has_not_shown():
    """The lesson prints the GC table once; the explorer's readout does not repeat it: it
    says why the halving stopped. 232 + 800 (stackNosplit) = 1,032 is not under 4,096 / 4."""
    box = l08.shrink_explorer()
    worker, text = box.children[1].children[0], box.children[2]
    assert "size before" not in text.value and "shrinks to" not in text.value
    assert "GC 7 keeps 2,048 B: 2 KiB is the floor" in text.value
    worker.value = 56
    assert ("GC 6 keeps 4,096 B: in use + 800 B (stackNosplit) = 1,032 is not under "
            "4,096 / 4 = 1,024") in text.value
    assert l08.shrink_run(400, 0, 3).stop.startswith("every GC halved the stack")


def test_the_800_is_labelled_as_stacknosplit_not_a_count():
    """"in use + 800" read like the calls slider's value: the label says 800 B and names it."""
    fig = l08.shrink_figure(l08.shrink_run(400, 0, 8))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[2] == "in use + 800 B (stackNosplit) = 1,016"  # 216 B in use at the scan
    assert l08.shrink_table(l08.shrink_run(400, 0, 1).rows).splitlines()[0].split("  ")[2] \
        == "in use + 800 B"


def test_shrink_painter_redraws_in_place():
    painter = l08.ShrinkPainter()
    fig = painter(l08.shrink_run(400, 0, 8))
    ax, bars = fig.axes[0], len(fig.axes[0].patches)
    assert painter(l08.shrink_run(2000, 0, 12)) is fig and fig.axes == [ax]
    assert sum(p.get_visible() for p in ax.patches) == 2 * 12 and len(ax.patches) > bars
    painter(l08.shrink_run(400, 0, 3))
    assert sum(p.get_visible() for p in ax.patches) == 2 * 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["GC 1", "GC 2", "GC 3"]


# ---- lesson 08's figures: the hot split, parked goroutines ------------------------------

def test_hot_split_figure_says_the_contiguous_growths_came_before_the_loop():
    """The right panel's contiguous line sits at 3 growths from 0 iterations on (all before
    the loop), as the text says; its label must not read as 0 on a 0-1,000 scale."""
    import matplotlib.pyplot as plt
    hs = l08.hot_split(frame=160, args=16, iterations=1000)
    # 47 frames of 160 + 8 on top of the worker: the first growths come at calls 7, 20, 44
    # (lesson 07), all before depth 47; the loop adds none.
    assert {c for _, _, c in hs.by_iterations} == {3}
    fig, axes = plt.subplots(1, 2)
    l08.draw_hot_split(hs, axes)
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert labels == ["segmented, at the boundary", "contiguous: 3 growths, all before the loop"]
    plt.close(fig)


def test_parked_figure_shows_each_operation_and_the_recorded_points():
    import matplotlib.pyplot as plt

    from gostack import realgo
    from gostack.lessons import l08_parked as l08p
    runs = l08p.parked_runs()
    real = l08p.recorded_ladders(realgo.load_recorded()["scenes"])
    fig, axes = plt.subplots(1, 2)
    l08p.draw_parked(runs, real, axes)
    left, right = axes
    # own 80 + park depth + 800 per operation (recv 192, select 352, Gosched 0)
    widths = [round(p.get_width()) for p in left.patches]
    assert widths == [80, 192, 800, 80, 352, 800, 80, 0, 800]
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["v := <-c (recv): 4 KiB", "select: 4 KiB", "runtime.Gosched(): 2 KiB",
                      "go1.27.3, recorded"]
    circles = [line for line in right.get_lines() if line.get_marker() == "o"
               and len(line.get_xdata())]
    assert len(circles) == 2  # recv and Gosched are recorded ladders; select is an edge
    plt.close(fig)
