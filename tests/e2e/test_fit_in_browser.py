"""Every lesson widget on a small laptop screen (1366x768): its picture at its natural size
(one PNG pixel to one CSS pixel, narrower only where the notebook is), and its controls and
picture on one screen, so a learner moving a slider sees what it does.

Once, a 360x500 picture filled the notebook's width (930x1292 at 1366 px): with the slider in
view the learner saw a blurry block. Screenshots: test-artifacts/e2e/fit-<lesson>-cell<N>.png.
"""

from __future__ import annotations

from pathlib import Path

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CASES = plans.lessons()
SCREEN = {"width": 1366, "height": 768}

# Measured in the page: the output area's first control, the picture, the notebook's
# visible rectangle (its scroller), and the picture's natural and displayed sizes.
MEASURE = """area => {
  const img = area.querySelector('img.widget-image, .widget-image img, img');
  const first = area.querySelector('.widget-slider, .widget-dropdown, .widget-button, '
                                   + '.widget-toggle-buttons, .widget-checkbox, .widget-play');
  let s = area;
  while (s && !(s.scrollHeight > s.clientHeight + 1
                && getComputedStyle(s).overflowY.match(/auto|scroll/))) s = s.parentElement;
  const r = e => e.getBoundingClientRect();
  return {top: r(first || area).top, bottom: img ? r(img).bottom : r(area).bottom,
          view: s ? s.clientHeight : window.innerHeight,
          natural: img ? [img.naturalWidth, img.naturalHeight] : null,
          shown: img ? [r(img).width, r(img).height] : null,
          room: r(area).width};
}"""


@pytest.fixture
def small_page(new_page):
    return new_page(SCREEN)


@pytest.mark.parametrize("case", CASES, ids=[Path(c.notebook).stem for c in CASES])
def test_widgets_fit_a_small_screen(case, lab, small_page, artifacts):
    page, stem = small_page, Path(case.notebook).stem
    jlab.open_and_run_all(page, lab, case.notebook, lambda phase: None, case.run_all_timeout_s)
    problems = []
    for index, _ in case.cells:
        cell = jlab.cell(page, index)
        area = jlab.output_area(cell)
        jlab.expect(area.locator(".jupyter-widgets").first).to_be_visible(timeout=30_000)
        jlab.wait_settled(page, area)
        for _ in range(2):  # the notebook lays out cells above as they come into view
            jlab.scroll_to_top_of(cell)
            page.wait_for_timeout(400)
        m = area.evaluate(MEASURE)
        page.screenshot(path=str(artifacts / f"fit-{stem}-cell{index}.png"))
        if m["natural"] is None:
            continue
        (nw, nh), (w, h) = m["natural"], m["shown"]
        if abs(w - min(nw, m["room"])) > 1.5:
            problems.append(f"cell {index}: a {nw}x{nh} picture shown {w:.0f}x{h:.0f}")
        tall = m["bottom"] - m["top"]
        if tall > m["view"]:
            problems.append(f"cell {index}: controls to picture's end {tall:.0f} px, "
                            f"the notebook shows {m['view']} px")
    assert not problems, f"{case.notebook} at {SCREEN['width']}x{SCREEN['height']}: {problems}"
