"""An exercise solved in a real JupyterLab: the check cell's feedback turns to full marks.

Run All on the exercise as handed out (its check says 0 points, and nothing errors); write the
answer into each cell to fill in (the same cell of its solutions/ notebook), run it, run the
check cell, and read full marks in its feedback. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re
from pathlib import Path

import jlab
import plans
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CASES = plans.exercise_cases()


@pytest.mark.parametrize("case", CASES, ids=[Path(c.notebook).stem for c in CASES])
def test_exercise_reaches_full_marks_in_jupyterlab(case, lab, page, artifacts, timings):
    stem = "exercise-" + Path(case.notebook).stem
    clock = timings(stem)
    jlab.open_and_run_all(page, lab, case.notebook, clock, case.run_all_timeout_s)
    feedback = jlab.output_text(page, case.check)
    assert re.search(case.before, feedback), (
        f"{case.notebook}: before any answer, the check cell should match {case.before!r}; "
        f"it says:\n{feedback}")
    jlab.scroll_to_top_of(jlab.cell(page, case.check))
    jlab.cell(page, case.check).screenshot(path=str(artifacts / f"{stem}-1-as-handed-out.png"))

    for index, code in case.answers:
        jlab.fill_cell(page, index, code)
        jlab.run_cell(page, index)
    clock("answers written and run")
    jlab.run_cell(page, case.check)
    clock("check cell run")

    check = jlab.output_area(jlab.cell(page, case.check))
    jlab.expect(check).to_contain_text(re.compile(case.full_marks), timeout=30_000)
    errors = jlab.error_outputs(page)
    assert not errors, f"{case.notebook}: error output after answering:\n" + "\n".join(errors)
    jlab.scroll_to_top_of(jlab.cell(page, case.answers[-1][0]))
    page.screenshot(path=str(artifacts / f"{stem}.png"))
    jlab.cell(page, case.check).screenshot(path=str(artifacts / f"{stem}-2-full-marks.png"))
