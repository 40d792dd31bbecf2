"""gostack.lessons.l00_welcome: the depth explorer, without a browser.

Expected values are derived here: the running example's worker (40-byte frame) above the 40
bytes newproc reserves, then 160-byte frames plus an 8-byte return address each.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from lesson_widgets import kinds  # noqa: E402

from gostack.lessons import l00_welcome as l00  # noqa: E402


def test_defaults_are_the_running_example():
    assert (l00.ENTRY, l00.FRAME) == (40, 160)
    s = l00.depth_state()
    assert (s.frame, s.calls, s.snapshot.used) == (160, 6, 40 + 40 + 6 * 168)


def test_readout_counts_growths_in_english():
    assert l00.depth_state(calls=6).readout.endswith(", 0 growths")
    # 40 + 40 + 7 * 168 = 1,256 B in use: call 7 crossed the guard of the 2 KiB stack.
    assert l00.depth_state(calls=7).readout == (
        "after 7 calls of 160-byte frames: stack 4,096 B, used 1,256 B, 1 growth; "
        "last growth at call 7 (2,048 → 4,096 B)")
    assert ", 2 growths;" in l00.depth_state(calls=20).readout


def test_call_index_ticks_are_integers():
    fig = l00.depth_figure(l00.depth_state(calls=5))
    ticks = fig.axes[1].get_xticks()
    assert len(ticks) and all(float(t).is_integer() for t in ticks)


def test_stack_explorer_follows_its_controls():
    box = l00.stack_explorer()
    assert sorted(set(kinds(box))) == ["Dropdown", "HTML", "Image", "IntSlider"]
    (calls, frame), text, image = box.children[0].children, *box.children[1:]
    assert frame.value == 160 and "after 6 calls of 160-byte frames" in text.value
    calls.value = 7
    assert "1 growth;" in text.value and bytes(image.value).startswith(b"\x89PNG")


def test_the_guard_line_strikes_no_label():
    """SP can sit exactly on the guard (40 + 40 + 13 * (72 + 8) = 1,120 B below hi, the
    guard's place on a 2 KiB stack): the guard line must not cross the "SP" label."""
    state = l00.depth_state(frame=72, calls=13)
    assert (state.snapshot.size, state.snapshot.used) == (2048, 1120)
    fig = l00.depth_figure(state)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    (guard,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    (sp,) = [t for t in ax.texts if t.get_text() == "SP"]
    assert not guard.get_window_extent(r).overlaps(sp.get_window_extent(r))


def test_readout_writes_the_frame_with_a_thousands_separator():
    # 10,280 B as lesson 03's huge frame; 40 + 40 + 10,288 = 10,368 B in use after one call.
    state = l00.depth_state(frame=10280, calls=1)
    assert state.readout.startswith("after 1 call of 10,280-byte frames: ")
    assert f"used {40 + 40 + 10288:,} B" in state.readout


def test_readout_and_chart_in_korean():
    from gostack import i18n

    with i18n.using("ko"):
        # The English test's call 7: 40 + 40 + 7 * 168 = 1,256 B, one growth 2,048 -> 4,096.
        assert l00.depth_state(calls=7).readout == (
            "160바이트 프레임 호출 7번 뒤: 스택 4,096 B, 사용 1,256 B, 증가 1번; "
            "마지막 증가는 7번째 호출 (2,048 → 4,096 B)")
        fig = l00.depth_figure(l00.depth_state(calls=20))
        chart = fig.axes[1]
        assert (chart.get_xlabel(), chart.get_ylabel(), chart.get_title()) == (
            "호출 번호", "스택 크기 (바이트)", "증가 2번")
        if i18n.hangul_font_file() is not None:
            assert "NanumGothic" in chart.title.get_fontfamily()
    fig = l00.depth_figure(l00.depth_state(calls=20))
    chart = fig.axes[1]
    assert (chart.get_xlabel(), chart.get_title()) == ("call index", "2 growths")
    assert "NanumGothic" not in chart.title.get_fontfamily()  # English figures unchanged


def test_the_taste_chart_keeps_the_lessons_words():
    import gostack as gs

    g = gs.Runtime().go(gs.Func("main.worker", frame=40))
    for _call in range(400):
        g.call(gs.Func("main.recA", frame=160))
    ax = l00.draw_growth(g.trace, calls=400)
    assert ax.get_title() == "stack size of one goroutine, 400 calls of a 160-byte frame"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("call index", "stack size (bytes)")


def test_the_stack_pictures_title_in_both_languages():
    from gostack import i18n

    state = l00.depth_state(calls=6)  # 40 + 40 + 6 * 168 = 1,088 B on the 2 KiB stack
    assert l00.depth_figure(state).axes[0].get_title() == "stack 2,048 B, used 1,088 B"
    with i18n.using("ko"):
        assert l00.depth_figure(state).axes[0].get_title() == "스택 2,048 B, 사용 1,088 B"
