"""gostack.lessons.l06_stack_maps: adjustframe on and off, and its explorer.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack.lessons import l06_stack_maps as l06  # noqa: E402
from gostack.lessons import recorder  # noqa: E402

GiB = 1 << 30


# ---- lesson 06's adjustment explorer ---------------------------------------------------

POISON = "poison " + " ".join(["fc"] * 8)  # stackPoisonCopy fills a freed stack with 0xfc


@pytest.mark.parametrize("calls", [0, 6, 7, 8, 50, 100])
def test_adjust_run_p_follows_x_and_u_is_left_behind(calls):
    run = l06.adjust_run(calls)
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
    broken = l06.adjust_run(7, adjust=False)
    assert not any(r.adjusted for r in broken.rows)
    assert broken.reads[0] == f"*p = {POISON}   (p no longer points to x)"
    silent = l06.adjust_run(7, adjust=False, poison=False)
    assert silent.reads[0] == "*p = 42   (p no longer points to x)"
    assert silent.reads[2] == "u == &x: False   *(*int)(u) = 42"
    assert broken.picture.phase is recorder.Phase.FREE
    assert l06.adjust_run(3).picture.phase is recorder.Phase.CALL


def test_adjust_explorer_follows_its_controls():
    box = l06.adjust_explorer()
    assert sorted(set(_kinds(box))) == ["Checkbox", "HTML", "Image", "IntSlider", "ToggleButtons"]
    (stage, poison), depth, pic_row = box.children[0].children, *box.children[1:]
    image, side = pic_row.children
    text = side.children[0]  # beside the picture
    assert "7 calls of recA, adjustframe, poisoned" in text.value and "*p = 42\n" in text.value
    stage.value = False
    assert f"*p = {POISON}   (p no longer points to x)" in text.value
    poison.value = False
    assert "*p = 42   (p no longer points to x)" in text.value
    depth.value = 3
    assert "the stack has not moved" in text.value and "u == &amp;x: True" in text.value
    assert bytes(image.value).startswith(b"\x89PNG")


def test_explorer_readout_leaves_the_slot_table_to_the_lesson():
    """The lesson prints the slot table (AdjustRun.table); the explorer shows what it adds:
    the run, and what p, h and u now read."""
    run = l06.adjust_run(7, adjust=False)
    assert run.table().splitlines()[0].split()[:4] == ["slot", "kind", "at", "before"]
    assert not any(line.startswith("slot ") for line in run.lines())
    assert run.lines()[-3:] == list(run.reads)
    assert l06.adjust_run(3).table() == ""
    box = l06.adjust_explorer()
    assert "slot  kind" not in box.children[2].children[1].children[0].value
