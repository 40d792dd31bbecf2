"""gostack.lessons.l02_small_stacks: the population explorer and its figures, without a browser.

The numbers are gostack.population's (tests/test_population.py checks them by hand); here:
what the explorer shows for its controls, and what the figures draw.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from gostack import population as P  # noqa: E402
from gostack.lessons import l02_small_stacks as l02  # noqa: E402
from gostack.population import CONTIGUOUS, SEGMENTED  # noqa: E402

MIB = 1 << 20


def test_explorer_builds_and_renders_without_a_browser(monkeypatch) -> None:
    pytest.importorskip("ipywidgets")
    drawn = []
    real = l02.policies_figure
    monkeypatch.setattr(l02, "policies_figure",
                        lambda state, base, fig=None: drawn.append((state, base))
                        or real(state, base, fig))
    box = l02.explorer(n=500, seed=2)
    (n_slider, seed_box), (pol, init), text, image = (
        list(box.children[0].children), list(box.children[1].children), *box.children[2:])
    assert drawn[-1] == (P.explorer_state(500, None, CONTIGUOUS, 2), P.lineup(500, 2))
    assert "contiguous, 2 KiB start" in text.value and bytes(image.value).startswith(b"\x89PNG")
    pol.value = SEGMENTED  # resets the initial dropdown, renders once
    assert init.value == 8192 and len(drawn) == 2
    assert drawn[-1][0].label == "segmented, 8 KiB (Go 1.2)"
    init.value = 4096
    assert drawn[-1][0].label == "segmented, 4 KiB (Go 1.1)"
    n_slider.value = 1000
    assert drawn[-1][0].n == 1000
    seed_box.value = 5
    assert drawn[-1][0] == P.explorer_state(1000, 4096, SEGMENTED, 5)
    init.value = 8192
    init.value = 4096  # shown before: its picture is cached, nothing is drawn
    assert len(drawn) == 6


def test_the_explorer_figure_has_one_row_per_policy_and_one_for_the_choice() -> None:
    state = P.explorer_state(200, 2 * MIB, "fixed", 1)
    fig = l02.policies_figure(state, P.lineup(200, 1))
    mem, work = fig.axes
    labels = [t.get_text() for t in mem.get_yticklabels()]
    # The choice's label is drawn with its row (redrawn per state), where its tick label goes.
    assert labels == [s.label for s in P.lineup(200, 1)] + [""]
    (choice,) = [t for t in mem.texts if t.get_text().startswith("your choice")]
    assert choice.get_text() == "your choice: threads, 2 MiB stacks"
    assert choice.xy == (0, 6)  # row 6, below the six policies of the lineup
    assert any("reserved 400.8 MiB" in t.get_text() for t in mem.texts)  # 200 x (2 MiB + 4 KiB)
    assert "kernel (hatched)" in mem.get_title()  # lesson 01's per-thread kernel memory


def test_threads_are_not_drawn_as_cheap_as_segments() -> None:
    """The learner's report: 8 MiB threads looked as cheap as Go 1.1's 4 KiB segments.
    With lesson 01's measured per-thread memory they cost several times more."""
    threads, go11 = P.lineup(10_000, 1)[:2]
    assert threads.resident > 5 * go11.resident


def test_a_widget_picture_updated_in_place_is_the_one_drawn_afresh() -> None:
    """The explorer redraws only the highlighted row over the rest of its figure: after a
    walk of choices (the same lineup, another N, a wider choice), its pixels are those of a
    figure drawn for the last state alone."""
    from gostack.lessons import view

    walk = [(500, None, CONTIGUOUS, 1), (500, 8192, SEGMENTED, 1), (500, None, "fixed", 1),
            (400, None, CONTIGUOUS, 1), (400, 4096, SEGMENTED, 2)]
    fig = None
    for n, initial, policy, seed in walk:
        state, base = P.explorer_state(n, initial, policy, seed), P.lineup(n, seed)
        fig = l02.policies_figure(state, base, fig)
        again = l02.policies_figure(state, base)
        assert view.png(fig, crop=False) == view.png(again, crop=False), (n, policy, seed)



@pytest.mark.parametrize("start", ["contiguous", "adaptive"])
def test_the_initial_dropdown_always_shows_a_choice(start) -> None:
    """Adaptive's one choice has the value None, which a Dropdown takes as "select nothing":
    the browser showed a blank select after a switch to adaptive (a reviewer's walk)."""
    pytest.importorskip("ipywidgets")
    box = l02.explorer(n=100, seed=1, policy=start)
    pol, init = box.children[1].children
    for p in ["adaptive", "fixed", "adaptive", "segmented", "contiguous", "adaptive"]:
        pol.value = P.Policy(p)
        assert init.index is not None and init.label, p
        assert init.value == P.DEFAULT_INITIAL[P.Policy(p)], p
    assert init.label == "computed at each GC"


def _one_copy() -> P.Summary:
    """One goroutine that grew once, from 2 KiB to 4 KiB, copying 1,096 bytes."""
    return P.Summary(CONTIGUOUS, 2048, "contiguous, 2 KiB start (Go 1.4+)", n=1, seed=0,
                     used=1256, reserved=4096, resident=4096, moves=1, bytes_copied=1096,
                     overflows=0, sizes=((4096, 1),))


def test_one_copy_is_singular():
    s = _one_copy()
    assert l02.moves(s) == "1 copy"
    assert l02.readout(s) == ("contiguous, 2 KiB start (Go 1.4+): 1 goroutine, reserved 4 KiB, "
                              "resident 4 KiB, used 1.2 KiB, waste 2.8 KiB (69%), 1 copy, "
                              "1.1 KiB copied")


def test_readouts_are_the_lessons_in_english_and_korean():
    from gostack import i18n

    state = P.explorer_state(n=10_000, initial=None, policy="contiguous", seed=1)
    # As lesson 02 printed it before its words were translated.
    english = ("contiguous, 2 KiB start (Go 1.4+): 10,000 goroutines, reserved 34.5 MiB, "
               "resident 34.5 MiB, used 15.4 MiB, waste 19.1 MiB (55%), 5,799 copies, "
               "9.4 MiB copied")
    assert l02.readout(state) == english
    assert [l02.label(p, i) for p, i in P.LINEUP] == [
        "threads, 8 MiB stacks", "segmented, 4 KiB (Go 1.1)", "segmented, 8 KiB (Go 1.2)",
        "contiguous, 8 KiB start (Go 1.3)", "contiguous, 2 KiB start (Go 1.4+)",
        "adaptive start (Go 1.19+)"]
    with i18n.using("ko"):
        assert l02.readout(state) == (
            "연속 스택, 2 KiB로 시작 (Go 1.4+): 고루틴 10,000개, 예약 34.5 MiB, 상주 34.5 MiB, "
            "사용 15.4 MiB, 낭비 19.1 MiB (55%), 복사 5,799번, 9.4 MiB 복사")
        assert l02.moves(_one_copy()) == "복사 1번"
