"""gostack.lessons.view: static figures show as pictures, widget pictures at their natural size."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from gostack.lessons import draw, view

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for d in ("notebooks", "solutions", "exercises")
                   for p in (ROOT / d).glob("*.ipynb"))
FIGURE_TEXT = re.compile(r"^<Figure size \d+x\d+ with \d+ Axes>$")


def _figure():
    with draw.styled():
        fig = draw.canvas(None, (3.6, 5.0))
        fig.subplots().plot([0, 1], [1, 0])
    return fig


def test_show_displays_the_png_itself(monkeypatch):
    """No reliance on matplotlib's inline formatter (registered only once pyplot is imported):
    show() sends the PNG bytes, with the figure's usual text form beside them."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    fig = _figure()
    view.show(fig)
    [((bundle,), kwargs)] = shown
    assert kwargs == {"raw": True}
    assert FIGURE_TEXT.match(bundle["text/plain"])
    data = base64.b64decode(bundle["image/png"])
    assert data.startswith(b"\x89PNG") and view.png_size(data)[0] > 100


def test_png_size_reads_the_header():
    fig = _figure()
    assert view.png_size(view.png(fig, crop=False)) == (360, 500)
    assert view.png_size(b"not a png") == (0, 0)


def test_a_widget_picture_is_shown_at_its_natural_width():
    """Not stretched to the notebook's width (a 360 px figure once showed 930 px wide)."""
    pytest.importorskip("ipywidgets")
    picture = view.Picture(lambda state, fig: _figure())
    picture.show("k", lambda: None)
    layout = picture.image.layout
    assert (layout.width, layout.max_width, layout.height) == ("360px", "100%", "auto")


def test_box_puts_the_readout_beside_the_picture():
    """A tall picture with its readout to the right (wrapping under it where the notebook is
    narrow), so controls and picture fit on one 1366x768 screen."""
    w = pytest.importorskip("ipywidgets")
    picture = view.Picture(lambda state, fig: _figure())
    picture.show("k", lambda: None)
    slider, text = w.IntSlider(), w.HTML()
    box = view.box([[slider]], picture, beside=[text])
    row, pic_row = box.children
    assert row.children == (slider,)
    image, side = pic_row.children
    assert image is picture.image and side.children == (text,)
    assert pic_row.layout.flex_flow == "row wrap"
    below = view.box([[slider], text], picture)
    assert below.children[-1] is picture.image


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_no_committed_figure_is_text_only(path):
    """A figure's output carries its picture: "<Figure size 360x500 with 1 Axes>" alone is
    what a learner saw where matplotlib's inline formatter was not active yet."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    bad = []
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if FIGURE_TEXT.match(text.strip()) and not any(k.startswith("image/") for k in data):
                bad.append(f"cell {i}: {text.strip()}")
    assert not bad, f"{path.name}: figures shown as text only: {bad}"
