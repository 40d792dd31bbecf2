"""Committed notebooks: clean, navigation current, and figures that still match a fresh run.

nbval (run by `make test` on notebooks/, solutions/ and exercises/) compares text outputs but
not images; this module re-executes each notebook once and compares every stored PNG with the
fresh one, within a tolerance, so a changed plot is caught.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from matplotlib.testing.compare import compare_images
from PIL import Image

from gostack import course, nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name != course.GLOSSARY)
GLOSSARY = ROOT / "notebooks" / course.GLOSSARY  # markdown only: clean, but not a lesson
ALL = NOTEBOOKS + [GLOSSARY] + sorted((ROOT / "solutions").glob("*.ipynb")) + sorted(
    (ROOT / "exercises").glob("*.ipynb"))
IGNORE = "nbval-ignore-output"
# RMS over 0-255 pixel values. Measured (two fresh executions of every lesson and solution into
# copies, 16-20 figures, twice): the two runs differ by 0.000 RMS, the figures are
# deterministic; fresh against stored, 0.000, and at most 0.034 after a drawing refactor that
# kept the pictures. One marker turned from red to orange is 0.6-0.8 RMS, and the old
# tolerance of 2.0 let it through (test_a_small_colour_change_in_a_figure_is_caught); 0.2
# catches a change a quarter that size. A new matplotlib that moves pixels fails here: re-run
# `make notebooks`.
TOLERANCE = 0.2
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


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


def test_clean_leaves_a_widget_as_a_picture_and_one_line_and_tags_its_cell():
    cell = nbformat.v4.new_code_cell("l04.growth_explorer()", metadata={"tags": ["x"]})
    cell.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/plain": "VBox(children=(...))", "image/png": "iVBORw0KGgo=",
        nbtools.WIDGET_VIEW: {"model_id": "3f2a"}}, execution_count=1)]
    bare = nbformat.v4.new_code_cell("w.IntSlider()")  # a widget that gives no picture
    bare.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/plain": "IntSlider(value=0)", nbtools.WIDGET_VIEW: {"model_id": "77"}},
        execution_count=2)]
    plain = nbformat.v4.new_code_cell("1 + 1")
    plain.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"},
                                            execution_count=3)]
    nb = nbformat.v4.new_notebook(cells=[cell, bare, plain])
    once = nbformat.writes(nbtools.clean(nb))
    assert nb.cells[0].metadata["tags"] == ["x", nbtools.WIDGET_TAG]
    assert nb.cells[0].outputs[0].data == {"text/plain": nbtools.WIDGET_NOTE,
                                           "image/png": "iVBORw0KGgo="}
    assert nb.cells[1].outputs[0].data == {"text/plain": nbtools.WIDGET_NOTE}
    assert "tags" not in nb.cells[2].metadata and nb.cells[2].outputs[0].data["text/plain"] == "2"
    assert nbformat.writes(nbtools.clean(nbformat.reads(once, as_version=4))) == once


def test_the_kits_widgets_say_what_nbtools_keeps():
    from gostack.lessons import view

    assert view.STATIC_NOTE == nbtools.WIDGET_NOTE


def test_no_stored_widget_output_is_a_repr():
    """Before Run All a widget cell shows a picture or one line, never "VBox(children=..."."""
    for path in ALL:
        for i, c in enumerate(nbformat.read(path, as_version=4).cells):
            if nbtools.WIDGET_TAG in c.metadata.get("tags", []):
                texts = [o.get("data", {}).get("text/plain", "") for o in c.outputs]
                assert nbtools.WIDGET_NOTE in texts, f"{path.name} cell {i}: {texts}"


def test_a_korean_widget_keeps_its_korean_note():
    # the Korean edition's widgets put the note in Korean (view.STATIC_NOTE through the
    # catalog); clean keeps it, and writes English over anything else
    ko = nbtools.widget_notes() - {nbtools.WIDGET_NOTE}
    assert ko and all(any("\uac00" <= ch <= "\ud7a3" for ch in n) for n in ko)
    for text, kept in [(next(iter(ko)), True), ("VBox(children=(...))", False)]:
        cell = nbformat.v4.new_code_cell("w")
        cell.outputs = [nbformat.v4.new_output("execute_result", data={
            "text/plain": text, nbtools.WIDGET_VIEW: {"model_id": "1"}}, execution_count=1)]
        nbtools.clean(nbformat.v4.new_notebook(cells=[cell]))
        assert cell.outputs[0].data["text/plain"] == (text if kept else nbtools.WIDGET_NOTE)


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


# --- the checks have teeth --------------------------------------------------------------------

def _sanitize(text: str) -> str:
    """What nbval does to an output with tests/nbval_sanitize.cfg (its own parser)."""
    import re

    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_sanitizer_masks_runtime_addresses_and_nothing_computed():
    assert _sanitize("<__main__.Probe object at 0x7f3a2c1d9e50>") == (
        "<__main__.Probe object at 0xADDRESS>")
    assert _sanitize("<function f at 0x7f3a2c1d9e50>") == "<function f at 0xADDRESS>"
    for computed in (
            "SP - (F-128) wraps to 0xfffffffffffff758, far above the guard 0x13a0",  # lesson 03
            "stackguard0 = 0xfffffffffffffade",
            "old stack [0xc000007800, 0xc000008000)   new stack [0xc00000f000, 0xc000010000)",
            "<Figure size 600x320 with 1 Axes>"):
        assert _sanitize(computed) == computed


def test_nbval_with_the_sanitizer_catches_wrong_hex_arithmetic(tmp_path):
    """nbval itself, on a two-cell notebook whose stored outputs are: a wrong hex sum (one digit
    off: must fail) and another process's object address (must pass)."""
    guard = nbformat.v4.new_code_cell('print(f"stackguard0 = {2**64 - 1314:#x}")',
                                      execution_count=1)
    guard.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="stackguard0 = 0xfffffffffffffadf\n")]
    probe = nbformat.v4.new_code_cell("class Probe:\n    pass\nprint(Probe())",
                                      execution_count=2)
    probe.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="<__main__.Probe object at 0x7f0000001000>\n")]
    nb = nbformat.v4.new_notebook(cells=[guard, probe])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "mutant.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the kit's options
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
         "--nbval-sanitize-with", str(SANITIZE), "-q", "-rA", "-c", "pytest.ini", path.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert "1 failed, 1 passed" in out, out[-3000:]
    assert "FAILED mutant.ipynb::Cell 0" in out and "PASSED mutant.ipynb::Cell 1" in out, out
    assert "0xfffffffffffffade" in out, out[-3000:]  # nbval shows what the cell printed


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a.astype(float) - b.astype(float)) ** 2).mean()))


# The kit's palette (seaborn "deep"): the red of a growth marker, and the orange next to it.
RED, ORANGE = (196, 78, 82), (221, 132, 82)


def test_a_small_colour_change_in_a_figure_is_caught(tmp_path):
    """The mutant the figure check must catch: in a lesson's figure with a small red marker,
    the marker turned orange (the figure with the fewest red pixels, at least 50)."""
    found = []
    for path in NOTEBOOKS:
        for i, j, png in _pngs(nbformat.read(path, as_version=4)):
            red = int((_rgb(png) == RED).all(axis=-1).sum())
            if red >= 50:
                found.append((red, path.name, i, j, png))
    assert found, "no lesson figure has a red marker any more: pick another colour"
    red, name, i, j, png = min(found, key=lambda f: f[0])
    img = _rgb(png).copy()
    img[(img == RED).all(axis=-1)] = ORANGE
    stored, mutant = tmp_path / "stored.png", tmp_path / "mutant.png"
    stored.write_bytes(png)
    Image.fromarray(img).save(mutant)
    rms = _rms(_rgb(png), img)
    assert rms < 2.0, f"{name} cell {i}: the mutant is not a small change ({rms:.2f} RMS)"
    assert compare_images(str(stored), str(stored), tol=TOLERANCE) is None
    caught = compare_images(str(stored), str(mutant), tol=TOLERANCE)
    assert caught is not None, (f"{name} cell {i} figure {j}: {red} pixels turned from red to "
                                f"orange ({rms:.2f} RMS) pass the tolerance {TOLERANCE}")
