"""A learner who does not wait: actions on a widget faster than the kernel answers them.

The reviewer's report: lesson 02's explorer sometimes froze under load after the policy that
was already selected was picked again (a select's change event fires for the same option,
as Playwright fires it on every select_option). Here each widget gets a burst of actions,
sent without waiting for the kernel in between: the same option again and again, other
options, back to the first. Afterwards, once the kernel has answered everything, the view
must show what the widgets hold (the readout worked out by gostack from their values, as
tests/e2e/plans.py does), and one more ordinary action must still be answered.
"""

from __future__ import annotations

import re
import time

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LESSON = "notebooks/02-small-stacks.ipynb"
CELL = "l02.explorer()"
BURSTS = 6


def _agree(page, area, timeout_s: float = 45) -> tuple[str, str]:
    """Wait until the kernel has answered everything and the readout matches the widgets'
    values; return (readout, expected pattern), failing with both if they never agree."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = jlab.wait_settled(page, area)
        values = jlab.widget_values(area)
        pattern = plans._population_readout(values)
        if re.search(pattern, state["text"]):
            return state["text"], pattern
        assert time.monotonic() < deadline, (
            f"the view does not follow its widgets: they hold {values}, the readout says "
            f"{state['text']!r}")
        page.wait_for_timeout(200)


# A learner's pick in a select, at once, among the options it shows at that instant (a label,
# or a position k modulo their number): the change event ipywidgets listens to, as a click
# would fire it, and no waiting for the options to be what they were a moment ago.
PICK = """(sel, [label, k]) => {
  const texts = [...sel.options].map(o => o.text.replace(/\\u00a0/g, ' '));
  const i = label === null ? k % sel.options.length : texts.indexOf(label);
  if (i < 0) return false;
  sel.selectedIndex = i;
  sel.dispatchEvent(new Event('input', {bubbles: true}));
  sel.dispatchEvent(new Event('change', {bubbles: true}));
  return true;
}"""


def _burst(area, picks: list[tuple[str, str | int]]) -> None:
    """Pick each (dropdown label, option label or position) in turn, without waiting for
    the kernel."""
    for name, option in picks:
        w, _ = jlab.find_widget(area, "dropdown", name)
        arg = [option, 0] if isinstance(option, str) else [None, option]
        assert w.locator("select").evaluate(PICK, arg), (name, option)


def test_rapid_policy_and_initial_picks_leave_a_live_widget(lab, page):
    area = jlab.open_widget(page, lab, LESSON, plans.cell_index(plans.ROOT / LESSON, CELL))
    _agree(page, area)
    policy, _ = jlab.find_widget(area, "dropdown", "policy")
    options = [o.replace("\u00a0", " ") for o in policy.locator("option").all_inner_texts()]
    assert len(options) >= 3, options
    current = jlab.widget_value(policy, "dropdown")
    other = next(o for o in options if o != current)
    for k in range(BURSTS):
        # The selected policy again (three times), another, back, again: each pick is sent
        # before the kernel has answered the one before.
        now = jlab.widget_value(policy, "dropdown")
        picks = [("policy", now)] * 3 + [("policy", other), ("policy", now), ("policy", now)]
        _burst(area, picks)
        _burst(area, [("initial", k), ("policy", now)])
        _agree(page, area)
        assert not jlab.errors_in(area), jlab.errors_in(area)
    # Still alive: one ordinary action is answered with the right readout and a new picture.
    before = jlab.view_state(area)
    target = next(o for o in options if o != jlab.widget_value(policy, "dropdown"))
    jlab.perform(page, policy, "select", to=target)
    text, _ = _agree(page, area)
    after = jlab.view_state(area)
    assert text != before["text"] and after["pictures"] != before["pictures"]
    assert not jlab.error_outputs(page)

