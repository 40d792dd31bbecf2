"""Lesson 03 on a small laptop screen, as a new learner first sees it in JupyterLab.

The reviewer's report, at 1366x768: the explorer's readout (the check's verdict and its
instructions) sat under the 500-pixel picture, below the fold. Screenshot:
test-artifacts/e2e/fold-03-prologue.png.
"""

from __future__ import annotations

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


READOUT_BESIDE = """area => {
  const img = area.querySelector('img.widget-image, img');
  const text = [...area.querySelectorAll('.widget-html-content')].pop();
  const first = area.querySelector('.widget-slider, .widget-dropdown');
  let s = area;
  while (s && !(s.scrollHeight > s.clientHeight + 1
                && getComputedStyle(s).overflowY.match(/auto|scroll/))) s = s.parentElement;
  const r = e => e.getBoundingClientRect();
  const view = s ? r(s) : {top: 0, bottom: window.innerHeight};
  return {img: [r(img).left, r(img).right, r(img).top, r(img).bottom],
          text: [r(text).left, r(text).right, r(text).top, r(text).bottom],
          top: r(first).top, viewTop: view.top, viewBottom: view.bottom};
}"""


def test_lesson_03_readout_is_beside_its_picture_at_1366x768(lab, new_page, artifacts):
    """The learner's report: at 1366x768 lesson 03's readout (the verdict and the
    instructions) sat under the 500-pixel picture, below the fold. It wraps its long line
    and stays beside the picture, with the file browser open as JupyterLab first shows it:
    with the explorer's controls at the top of the notebook, the readout is on screen."""
    page = new_page({"width": 1366, "height": 768})
    notebook = "notebooks/03-prologue.ipynb"
    path = lab.path(notebook)
    lab.start_kernel(path)
    jlab.open_notebook(page, lab.notebook_url(path))
    jlab.run_all(page)
    assert not jlab.error_outputs(page)
    cell = jlab.cell(page, plans.cell_index(plans.ROOT / notebook, "prologue_explorer("))
    area = jlab.output_area(cell)
    jlab.expect(area.locator("img").first).to_be_visible(timeout=30_000)
    jlab.wait_settled(page, area)
    for _ in range(2):  # the notebook lays out cells above as they come into view
        area.locator(".widget-slider").first.evaluate(
            "e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(400)
    m = area.evaluate(READOUT_BESIDE)
    page.screenshot(path=str(artifacts / "fold-03-prologue.png"))
    (_, ir, _, ib), (tl, _, tt, tb) = m["img"], m["text"]
    assert tl >= ir - 1 and tt < ib, f"the readout is not beside the picture: {m}"
    assert tb <= m["viewBottom"], f"the readout ends below the fold: {m}"
    assert "SP-32 is 1,032 B below hi" in area.inner_text()
