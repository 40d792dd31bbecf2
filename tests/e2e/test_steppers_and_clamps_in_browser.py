"""Lessons 07 and 08 the way a new learner used them (issue 12, "the learner's path").

- Lesson 07's Play: ipywidgets 8's stop button (■) set the Play to its minimum, and through the
  jslink the slider went back to step 1. The stepper hides it: the one button plays and
  pauses, a pause leaves the learner at the step shown, and play goes on from there.
- Lesson 08's "back to" slider, at its maximum (the depth the recursion reached), pressed
  further: the report said the widget froze now and then under load. Here the kernel is made
  slow on purpose (every picture takes 0.2 s more, as on a loaded machine), and the learner
  presses at the clamp again and again, without waiting, also while "calls" changes (which
  gives "back to" a new range). Afterwards the view must agree with the widgets, with no
  error, and an ordinary action must still be answered.
"""

from __future__ import annotations

import re
import time

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Every picture the kernel draws (cached or not) takes 0.2 s more: a loaded machine, made
# repeatable. Run silently in the lesson's own kernel, after Run All.
SLOW_KERNEL = """
import time as _time
from gostack.lessons import view as _view
if not hasattr(_view.Picture, "_fast_render"):
    _view.Picture._fast_render = _view.Picture.render
    def _slow_render(self, key, state):
        _time.sleep(0.2)
        return _view.Picture._fast_render(self, key, state)
    _view.Picture.render = _slow_render
"""
EXECUTE = r"""async (code) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const f = k.requestExecute({code, silent: true, store_history: false});
  const reply = await f.done;
  return reply.content.status;
}"""


def _open(page, lab, notebook: str, match: str):
    return jlab.open_widget(page, lab, notebook, plans.cell_index(plans.ROOT / notebook, match))


def _agree(page, area, readout, timeout_s: float = 60) -> str:
    """Wait until the kernel has answered everything and the readout is the one gostack
    works out from the widgets' values; return the readout."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = jlab.wait_settled(page, area)
        values = jlab.widget_values(area)
        if re.search(readout(values), state["text"]):
            return state["text"]
        assert time.monotonic() < deadline, (
            f"the view does not follow its widgets: they hold {values}, the readout says "
            f"{state['text']!r}")
        page.wait_for_timeout(200)


def _slider(area, label: str):
    return jlab.find_widget(area, "slider", label)[0]


def _press(area, label: str, keys: tuple[str, ...]) -> None:
    """Keys on a slider's handle, sent at once (no wait for the kernel in between)."""
    handle = _slider(area, label).locator(".noUi-handle").first
    handle.focus()
    for k in keys:
        handle.press(k)


def _value(area, label: str) -> int:
    return plans._num(jlab.widget_value(_slider(area, label), "slider"))


# --- lesson 07: Play pauses where it is --------------------------------------------------------

def _step(area) -> int:
    return _value(area, "step")


def test_lesson_07_play_pauses_at_the_step_shown_and_goes_on_from_there(lab, page):
    area = _open(page, lab, "notebooks/07-whole-newstack.ipynb", "stepper(tape")
    play, _ = jlab.find_widget(area, "play", 0)
    buttons = play.locator("button")
    # One button a learner can press: play/pause. The stop button (back to step 1) and the
    # repeat button are not shown.
    visible = [i for i in range(buttons.count()) if buttons.nth(i).is_visible()]
    assert visible == [0], f"the Play shows buttons {visible}, expected only play/pause"
    start = _step(area)
    assert start == 8  # the lesson starts the stepper at the first growth's failed check

    def play_until(past: int) -> int:
        buttons.nth(0).click()
        deadline = time.monotonic() + 20
        while _step(area) < past:
            assert time.monotonic() < deadline, f"Play did not move past step {past}"
            page.wait_for_timeout(50)
        buttons.nth(0).click()  # pause
        page.wait_for_timeout(300)  # a step already on its way may still land
        return _step(area)

    paused = play_until(start + 2)
    page.wait_for_timeout(1500)  # two Play intervals
    assert _step(area) == paused, "after pause the slider went on moving"
    _agree(page, area, plans._step_readout)
    assert re.search(rf"(?m)^step {paused} of 129:", jlab.view_state(area)["text"])
    # Play again: it goes on from the step shown, not from step 1.
    again = play_until(paused + 1)
    assert again > paused
    _agree(page, area, plans._step_readout)
    assert not jlab.error_outputs(page)


# --- lesson 08: "back to" at its clamp, pressed on and on, on a slow kernel -------------------

L08 = "notebooks/08-beyond-growth.ipynb"


def test_lesson_08_back_to_at_its_maximum_pressed_further_stays_live(lab, page):
    area = _open(page, lab, L08, "shrink_explorer(")
    assert page.evaluate(EXECUTE, SLOW_KERNEL) == "ok"
    readout = plans._shrink_readout
    shown: dict[tuple, str] = {}  # the picture shown for each state the widgets held

    def agree():
        """The readout follows the widgets, and so does the picture: no state shows the
        picture of another (before the fix, after a "calls" change the picture could stay
        the previous state's while the readout moved on, now and then for good)."""
        _agree(page, area, readout)
        values = jlab.widget_values(area)
        state = tuple(values[k] for k in ("calls", "back to", "GCs", "worker"))
        (picture,) = jlab.view_state(area)["pictures"]
        owner = next((s for s, p in shown.items() if p == picture and s != state), None)
        assert owner is None, f"the picture of {owner} is shown for {state}"
        shown[state] = picture

    agree()

    # At the clamp: End, then further, again and again, without waiting for the kernel.
    _press(area, "back to", ("End",) + ("ArrowRight",) * 8)
    agree()
    assert _value(area, "back to") == _value(area, "calls") == 400

    # The same while "calls" moves (each change gives "back to" a new slider with the new
    # range): calls up one notch, back to its new end and beyond, calls down, and again.
    for k in range(4):
        _press(area, "calls", ("ArrowRight",) if k % 2 == 0 else ("ArrowLeft",))
        try:
            _press(area, "back to", ("End",) + ("ArrowRight",) * 4)
        except Exception:  # noqa: BLE001 - the slider was replaced under the learner's keys
            pass
    agree()
    calls, back = _value(area, "calls"), _value(area, "back to")
    assert back <= calls and calls in (400, 410)

    # "calls" at 0: "back to" has nothing to choose (0 to 0), and is pressed anyway.
    _press(area, "calls", ("Home",))
    agree()
    _press(area, "back to", ("End",) + ("ArrowRight",) * 4 + ("ArrowLeft",) * 2)
    agree()
    assert _value(area, "back to") == _value(area, "calls") == 0

    # At the far end of "calls" too.
    _press(area, "calls", ("End",) + ("ArrowRight",) * 4)
    agree()
    _press(area, "back to", ("End",) + ("ArrowRight",) * 6)
    agree()
    assert _value(area, "back to") == _value(area, "calls") == 2000
    assert not jlab.errors_in(area), jlab.errors_in(area)

    # Still alive: one ordinary action is answered, with a new readout and a new picture.
    before = jlab.view_state(area)
    _press(area, "GCs", ("ArrowLeft",))
    text = _agree(page, area, readout)
    agree()
    after = jlab.view_state(area)
    assert text != before["text"] and after["pictures"] != before["pictures"]
    assert not jlab.error_outputs(page)
