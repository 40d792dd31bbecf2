"""gostack.lessons.l06_stack_maps: adjustframe on and off, and its explorer.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack import realgo  # noqa: E402
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


# ---- section 5: the runtime's own pointers into a stack (issue 14) ----------------------

RECORDED = realgo.load_recorded()
LADDER = RECORDED["scenes"]["parked_shrink_ladder"]


def test_a_receive_parked_through_five_shrinks_lands_in_the_moved_slot():
    """Expected sizes from go1.27.3 (recorded scene parked_shrink_ladder): the last growth
    seen at an entry, then what main saw after each GC while the goroutine sat in recv."""
    grown = [m[4] for m in LADDER["moves"] if m[1] == "entry"][-1]
    shrunk = [m[4] for m in LADDER["moves"] if m[1] == "main"]
    assert (grown, shrunk) == (131072, [65536, 32768, 16384, 8192, 4096])
    w = l06.parked_recv(LADDER["frames"], sent=42)
    assert w.sizes == (grown, *shrunk)
    assert w.got == 42 and w.v_after != w.v_before  # (tests/test_scene.py has the mutant
    assert w.lines()[2].endswith("v = 42")          # whose elem is not adjusted)


def test_the_recorded_scene_is_the_lessons_program():
    """What the lesson says of parked_shrink_ladder: 400 calls deep and back, a receive at
    the entry, eight GCs while it waits, then the wake-up."""
    scene = LADDER["scene"]
    assert scene["parks"] == [[[400, "recv", False], [0, "recv", True]]]
    assert scene["steps"] == ["run 1", "run 1", *["gc"] * 8, "run 1"]
    assert LADDER["exit_status"] == 0


def _bp_offsets(calls: int) -> list[int]:
    """hi - slot of each saved-BP slot, innermost first, by hand: the entry's E is hi-40
    (its slot hi-48, as real Go's entry in the recorded frame-pointer cases), the worker's
    $56 puts its SP at hi-96, and each recA ($160 + 8 for its return address) has its slot
    8 below its E: hi-112 for the first, 168 lower for each next."""
    return [112 + 168 * (k - 1) for k in range(calls, 0, -1)] + [48]


def test_the_entry_slot_is_where_real_go_has_it():
    for case in RECORDED["frame_pointers"].values():
        assert case["before"][1][-1] == case["after"][1][-1] == 48


def test_bp_move_every_saved_bp_moves_by_delta():
    m = l06.bp_move(calls=7)
    assert (m.grow.call_index, m.grow.old_size, m.grow.new_size) == (7, 2048, 4096)
    old = [m.before.hi - slot for slot, _ in m.before.bp_chain()]
    new = [m.after.hi - slot for slot, _ in m.after.bp_chain()]
    assert old == _bp_offsets(6)
    assert new == _bp_offsets(7)  # recA#7's own frame on top
    delta = m.after.hi - m.before.hi
    assert delta == m.grow.delta
    rows = m.rows()
    assert len(rows) == 5 and all(r.endswith(f"+{delta:,}") for r in rows[1:])
    for (s0, v0), (s1, v1) in zip(m.before.bp_chain(), m.after.bp_chain()[1:], strict=True):
        assert s1 - s0 == delta and (v1 - v0 == delta if v0 else v1 == 0)


def test_bp_picture_draws_the_same_arcs_before_and_after():
    """Four links in each stack at the same offsets from hi (the innermost four of the six
    recA frames before the growth), each slot labelled with its own address."""
    m = l06.bp_move(calls=7)
    fig = l06.draw_bp_move(m)
    old_ax, new_ax = fig.axes
    offs = _bp_offsets(6)
    want = [(offs[k], offs[k + 1]) for k in range(4)]
    for ax, snap in ((old_ax, m.before), (new_ax, m.after)):
        arcs = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"
                and p.get_visible() and p._posA_posB[0][0] == 0.0]
        assert [(round(a._posA_posB[0][1]), round(a._posA_posB[1][1])) for a in arcs] == want
        labels = {t.get_text() for t in ax.texts if t.get_text().startswith("0x")}
        assert labels == {f"{snap.hi - o:#x}" for o in offs[:5]}
