"""Committed notebooks: clean, navigation current, and figures that still match a fresh run.

nbval (run by `make test` on notebooks/, solutions/ and exercises/) compares text outputs but
not images; this module re-executes each notebook once and compares every stored PNG with the
fresh one, within a tolerance, so a changed plot is caught.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from matplotlib.testing.compare import compare_images

from gostack import course, nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name != course.GLOSSARY)
GLOSSARY = ROOT / "notebooks" / course.GLOSSARY  # markdown only: clean, but not a lesson
ALL = NOTEBOOKS + [GLOSSARY] + sorted((ROOT / "solutions").glob("*.ipynb")) + sorted(
    (ROOT / "exercises").glob("*.ipynb"))
IGNORE = "nbval-ignore-output"
TOLERANCE = 2.0  # RMS over 0-255 pixel values: survives antialiasing noise, not a changed plot


def _ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def _pngs(nb) -> list[tuple[int, int, bytes]]:
    """(cell index, figure number in the cell, PNG bytes) of every compared figure.

    Figures are numbered among the cell's figures, not its outputs: how a kernel splits
    printed text into stream outputs varies from run to run.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or IGNORE in cell.metadata.get("tags", []):
            continue
        pngs = [out["data"]["image/png"] for out in cell.get("outputs", [])
                if "image/png" in out.get("data", {})]
        found += [(i, k, base64.b64decode(png)) for k, png in enumerate(pngs)]
    return found


def test_every_listed_lesson_file_follows_the_naming_rule():
    for path in NOTEBOOKS:
        assert path.name in {le.filename for le in course.LESSONS}, (
            f"{path.name} is not listed in gostack.course.LESSONS")


def test_navigation_and_readme_index_are_current():
    assert course.update(write=False) == [], "run `python -m gostack.course`"


def _tagged(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if nbtools.WIDGET_TAG in c.metadata.get("tags", [])]


def test_clean_keeps_a_widget_as_text_and_tags_its_cell():
    cell = nbformat.v4.new_code_cell("ex.growth_explorer()", metadata={"tags": ["x"]})
    cell.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/plain": "VBox(children=(...))", nbtools.WIDGET_VIEW: {"model_id": "3f2a"}},
        execution_count=1)]
    plain = nbformat.v4.new_code_cell("1 + 1")
    plain.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"},
                                            execution_count=2)]
    nb = nbformat.v4.new_notebook(cells=[cell, plain])
    once = nbformat.writes(nbtools.clean(nb))
    assert nb.cells[0].metadata["tags"] == ["x", nbtools.WIDGET_TAG]
    assert nb.cells[0].outputs[0].data == {"text/plain": "VBox(children=(...))"}
    assert "tags" not in nb.cells[1].metadata
    assert nbformat.writes(nbtools.clean(nbformat.reads(once, as_version=4))) == once


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_notebook_is_clean(path):
    assert nbtools.is_clean(path), f"{path.name}: run `make notebooks` (noisy metadata)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lesson_anatomy(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    lesson = next(le for le in course.LESSONS if le.filename == path.name)
    assert first.startswith(f"# {lesson.number:02d} · "), "title cell first"
    for heading in ("You will learn", "Before this"):
        assert heading in first, f"the first cell needs '{heading}'"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "| Concept | gostack | Go runtime |" in text, "the concept table"
    assert "## Summary" in text
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import gostack" in code or "from gostack" in code


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((ROOT / "solutions").glob("*.ipynb")),
                         ids=_ids(NOTEBOOKS + sorted((ROOT / "solutions").glob("*.ipynb"))))
def test_stored_figures_match_a_fresh_run(path, tmp_path):
    stored = nbformat.read(path, as_version=4)
    fresh = nbtools.execute(path)
    assert _tagged(nbtools.clean(fresh)) == _tagged(stored), (
        "the cells showing a widget changed: run `make notebooks`")
    want, got = _pngs(stored), _pngs(fresh)
    assert [(i, j) for i, j, _ in want] == [(i, j) for i, j, _ in got], (
        "figures appeared or disappeared: run `make notebooks`")
    for (i, j, a), (_, _, b) in zip(want, got, strict=True):
        exp, act = tmp_path / f"c{i}_{j}_stored.png", tmp_path / f"c{i}_{j}_fresh.png"
        exp.write_bytes(a)
        act.write_bytes(b)
        diff = compare_images(str(exp), str(act), tol=TOLERANCE)
        assert diff is None, f"{path.name} cell {i}: figure changed: {diff}"
