"""Every lesson with widgets, in a real JupyterLab in a real browser, as a learner uses it.

Open the lesson, Run All, wait for the kernel to go idle, check that no cell shows an error;
then drive each widget cell (see plans.py): after every action the widget must show what it
should (its value, its readout, its picture), with no error on screen. Screenshots go to
test-artifacts/e2e/ (GOSTACK_E2E_ARTIFACTS): the whole window after Run All, and each widget cell
after its first and its last action.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import jlab
import plans
import pytest
from plans import PLAY, SLIDER, Act

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CASES = plans.lessons()
SETTLE_MS = 45_000  # the longest a widget may take to redraw after one action


def _generic_act(area, kind: str, i: int, name: str | int) -> Act | list[Act] | None:
    """No plan for this cell: what to do to widget `i` of `kind`, decided now (an earlier action
    may have changed it, e.g. a dropdown whose options follow another's). The readout must change,
    and the picture too if the view has one; None if a learner could not change this widget."""
    w, _ = jlab.find_widget(area, kind, i)
    pic = bool(jlab.view_state(area)["pictures"])
    if kind == SLIDER:
        frac = jlab.slider_fraction(w)
        return [Act("keys", name, keys=("ArrowLeft",) if frac >= 1 else ("ArrowRight",),
                    picture=pic),
                Act("drag", name, to=0.2 if frac > 0.5 else 0.8, picture=pic)]
    if kind == "button":
        return Act("click", name, picture=pic) if w.is_enabled() else None
    if kind == PLAY:
        return Act("play", name, picture=pic)
    if kind == "dropdown" and w.locator("option").count() < 2:
        return None
    if not w.locator("select, input, textarea, button").first.is_enabled():
        return None
    how = {"dropdown": "select", "text": "type", "toggle": "toggle", "checkbox": "check"}[kind]
    return Act(how, name, picture=pic)


def _generic_acts(area, untouchable: set):
    inventory = jlab.inventory(area)
    for kind, i, label in inventory:
        unique = label and sum(1 for k, _, t in inventory if (k, t) == (kind, label)) == 1
        acts = _generic_act(area, kind, i, label if unique else i)
        if not acts:
            untouchable.add((kind, i))
        yield from (acts if isinstance(acts, list) else [acts] if acts else [])


def _describe(state: dict, before: dict) -> str:
    pics = "changed" if state["pictures"] != before["pictures"] else "unchanged"
    n = len(state["pictures"])
    return f"readout now {state['text'][:500]!r}; picture {pics} ({n} image(s))"


def _do(page, area, act: Act, before: dict) -> dict:
    """Perform one action and wait until the view shows what it should; return the new state."""
    widget, _ = jlab.find_widget(area, act.kind, act.widget)
    old_value = jlab.widget_value(widget, act.kind)
    jlab.perform(page, widget, act.how, act.keys, act.to)

    deadline = time.monotonic() + SETTLE_MS / 1000
    # 1. the widget itself took the new value
    while True:
        value = jlab.widget_value(widget, act.kind)
        ok = (re.fullmatch(act.value, value) if act.value is not None
              else act.kind in ("button", PLAY) or value != old_value)
        if ok:
            break
        assert time.monotonic() < deadline, (
            f"{act.label()}: the widget holds {value!r} (was {old_value!r}), "
            f"expected {act.value or 'a change'}")
        page.wait_for_timeout(100)

    # 2. the readout and the picture followed. The expected readout is worked out again from
    #    the widgets' values at each look: a button moves other widgets, a dropdown may change
    #    another's options, and until the kernel has answered they can disagree for a moment.
    def expected() -> str | None:
        return act.readout(jlab.widget_values(area)) if callable(act.readout) else act.readout

    def shows(state: dict, pattern: str | None) -> bool:
        if pattern is not None and not re.search(pattern, state["text"]):
            return False
        if act.picture and (not state["pictures"] or state["pictures"] == before["pictures"]):
            return False
        return not act.changes or state["text"] != before["text"]

    while True:
        state = jlab.view_state(area)
        try:
            pattern, problem = expected(), None
        except Exception as e:  # noqa: BLE001 - widgets caught between two states
            pattern, problem = None, e
        if problem is None and shows(state, pattern):
            break
        errors = jlab.errors_in(area)
        assert not errors, f"{act.label()}: the widget shows an error:\n" + "\n".join(errors)
        if time.monotonic() >= deadline:
            if problem is not None:
                raise AssertionError(f"{act.label()}: cannot work out the expected readout from "
                                     f"{jlab.widget_values(area)}") from problem
            raise AssertionError(
                f"{act.label()} (widget value {value!r}): the view did not follow. Expected the "
                + (f"readout to match {pattern!r}" if pattern else "readout to change")
                + (" and the picture to change" if act.picture else "")
                + f"; {_describe(state, before)}")
        page.wait_for_timeout(100)

    # 3. once the kernel is idle and the view still, it must still say so (not a passing frame)
    state = jlab.wait_settled(page, area)
    pattern = expected()
    assert shows(state, pattern), (f"{act.label()}: after settling, expected {pattern!r}; "
                                   f"{_describe(state, before)}")
    return state


def _covered(inventory, done, untouchable=frozenset()) -> list[str]:
    missing = []
    for kind, i, label in inventory:
        if (kind, i) in untouchable:
            continue
        needed = {"keys", "drag"} if kind == SLIDER else {None}
        got = {how for k, j, how in done if (k, j) == (kind, i)}
        if kind != SLIDER and got:
            continue
        for how in sorted(needed - got, key=str):
            missing.append(f"{kind} {i} {label!r}" + (f" by {how}" if how else ""))
    return missing


@pytest.mark.parametrize("case", CASES, ids=[Path(c.notebook).stem for c in CASES])
def test_lesson_widgets_work_in_jupyterlab(case, lab, page, artifacts, timings):
    stem = Path(case.notebook).stem
    clock = timings(stem)
    jlab.open_and_run_all(page, lab, case.notebook, clock, case.run_all_timeout_s)

    for n_cell, (index, plan) in enumerate(case.cells):
        cell = jlab.cell(page, index)
        area = jlab.output_area(cell)
        jlab.scroll_to_top_of(cell)
        jlab.expect(area.locator(".jupyter-widgets").first).to_be_visible(timeout=30_000)
        state = jlab.wait_settled(page, area)
        if n_cell == 0:
            page.screenshot(path=str(artifacts / f"{stem}.png"))
        inventory = jlab.inventory(area)
        assert inventory, f"{case.notebook} cell {index}: a widget view with nothing to drive"
        untouchable: set = set()
        acts = plan.acts if plan else _generic_acts(area, untouchable)
        done, n = set(), 0
        for n, act in enumerate(acts, 1):
            state = _do(page, area, act, state)
            _, i = jlab.find_widget(area, act.kind, act.widget)
            done.add((act.kind, i, act.how if act.kind == SLIDER else None))
            errors = jlab.error_outputs(page)
            assert not errors, f"{act.label()}: error on screen:\n" + "\n".join(errors)
            if n == 1:  # the first change (the last one is shot below)
                cell.screenshot(path=str(artifacts / f"{stem}-cell{index}-{n}-{_slug(act)}.png"))
            clock(f"cell {index}: {act.label()}")
        if n > 1:
            cell.screenshot(path=str(artifacts / f"{stem}-cell{index}-{n}-{_slug(act)}.png"))
        missing = _covered(inventory, done, untouchable)
        assert not missing, (f"{case.notebook} cell {index}: the plan in tests/e2e/plans.py "
                             f"leaves widgets untouched: {missing}")


def _slug(act: Act) -> str:
    return re.sub(r"[^\w.-]+", "_", act.label()).strip("_")
