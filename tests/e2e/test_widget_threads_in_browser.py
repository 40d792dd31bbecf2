"""Widget callbacks on two threads at once, in a real JupyterLab.

JupyterLab (4.4 on) sends widget messages to a kernel subshell, which ipykernel (7 on) handles
in a thread of its own; a cell's first render, the Prefetch it starts and (here) each widget's
first message run on the main thread. Lesson 12's explorer was then drawn by both threads at
once: its callback raised (the readout stayed at the old seed, the kernel idle: the browser
test's "lost" seed change) or cached one state's picture under another's key.

Here the explorer's figure is made slow in the kernel (each state held 0.3 s after drawing,
the GIL released), so that the prefetch one action starts on one thread is still drawing when
the next action arrives on the other. After each action the readout must be the widgets'
state's, and the picture, byte for byte, the PNG gostack draws for that state in this process.
"""

from __future__ import annotations

import base64
import re
import time

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LESSON = "notebooks/12-stealing-and-preemption.ipynb"
CELL = "timeline_explorer("
SETTLE_S = 45

# Run in the kernel, in no cell: every state drawn is then held 0.3 s, and the threads that
# drew are remembered.
SLOW = """
import threading as _threading, time as _time
from gostack.lessons import l12_stealing_preemption as _l12
_l12._drawn_on = set()
_update = _l12.TimelineArt.update
def _slow_update(self, *args, **kwargs):
    _update(self, *args, **kwargs)
    _l12._drawn_on.add(_threading.current_thread().name)
    _time.sleep(0.3)
_l12.TimelineArt.update = _slow_update
"""

# Runs `code` in the kernel of the visible notebook (no cell, no history); returns the
# text of `expr` evaluated afterwards, or the error.
EXECUTE = r"""async ([code, expr]) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await k.requestExecute({code, silent: false, store_history: false,
                                        user_expressions: expr ? {x: expr} : {}}).done;
  const c = reply.content;
  if (c.status !== 'ok') return `error: ${c.ename}: ${c.evalue}`;
  const x = (c.user_expressions || {}).x;
  return x ? (x.status === 'ok' ? x.data['text/plain'] : `error: ${x.ename}: ${x.evalue}`) : '';
}"""

# The bytes of the image an <img> shows (an ipywidgets Image shows a blob: URL), base64.
IMAGE_BYTES = r"""async (img) => {
  const src = img.getAttribute('src') || '';
  if (!src) return '';
  const u = new Uint8Array(await (await fetch(src)).arrayBuffer());
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def _expected_png(values: dict[str, str]) -> bytes:
    from gostack.lessons import l12_stealing_preemption as l12
    from gostack.lessons import view

    key = (values["workload"], int(values["seed"]))
    return view.Picture(l12.TimelinePainter()).render(key, lambda: l12.timeline_run(*key))


def _follows(page, area, act: plans.Act) -> None:
    """Wait until the readout and the picture are those of the state the widgets hold."""
    deadline = time.monotonic() + SETTLE_S
    img = area.locator("img.widget-image").first
    while True:
        values = jlab.widget_values(area)
        text = jlab.view_state(area)["text"]
        readout_ok = bool(re.search(plans._timeline_readout(values), text))
        shown = base64.b64decode(img.evaluate(IMAGE_BYTES) or "")
        picture_ok = shown == _expected_png(values)
        if readout_ok and picture_ok:
            return
        assert not jlab.errors_in(area), jlab.errors_in(area)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{act.label()}: the widgets hold {values}, but the readout is "
                + ("right" if readout_ok else repr(text[:300]))
                + " and the picture " + ("right" if picture_ok else "another state's"))
        page.wait_for_timeout(100)


def test_explorer_shows_each_state_when_callbacks_come_on_two_threads(lab, page):
    area = jlab.open_widget(page, lab, LESSON, plans.cell_index(plans.ROOT / LESSON, CELL))
    assert page.evaluate(EXECUTE, [SLOW, ""]) == ""

    # Each widget's first message and its second, without waiting for the prefetch between.
    acts = (plans.Act("keys", "seed", keys=("ArrowRight",)),
            plans.Act("drag", "seed", to=0.7),
            plans.Act("keys", "seed", keys=("ArrowLeft",)),
            plans.Act("select", "workload", to="a 20 ms loop without calls, 2 Ps"),
            plans.Act("select", "workload", to="100 goroutines of ~33 µs, 2 Ps"),
            plans.Act("keys", "seed", keys=("ArrowLeft",)))
    for act in acts:
        widget, _ = jlab.find_widget(area, act.kind, act.widget)
        jlab.perform(page, widget, act.how, act.keys, act.to)
        _follows(page, area, act)
    jlab.wait_settled(page, area)
    _follows(page, area, acts[-1])

    drawn_on = page.evaluate(EXECUTE, ["", "sorted(_l12._drawn_on)"])
    assert drawn_on.count("'") >= 4, (
        f"the explorer was drawn on {drawn_on}: widget messages no longer reach a second "
        "thread (JupyterLab's commsOverSubshells?), so this test no longer tests anything")
    assert not jlab.error_outputs(page)
