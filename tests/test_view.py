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


class _Lanes:
    """A widget figure as the lessons' painters make one: built on the first call, then
    redrawn in place (its Axes cleared) for each state."""

    def __init__(self) -> None:
        self.fig = self.ax = None

    def __call__(self, state: int, fig=None):
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, (4.0, 2.0))
                self.ax = self.fig.add_axes((0.1, 0.2, 0.85, 0.65))
            self.ax.clear()
            self.ax.broken_barh([(i, 0.5 + (state * i) % 3) for i in range(12)], (0, 1))
            for i in range(state % 5 + 1):
                self.ax.text(i * 2, 1.2, f"G{state}.{i}", fontsize=7)
            self.ax.set_xlim(0, 16)
            self.ax.set_ylim(0, 2)
            self.ax.set_title(f"state {state}", loc="left")
        return self.fig


def test_a_picture_drawn_from_two_threads_gives_each_state_its_own_png():
    """JupyterLab (4.4 on) sends widget messages to a kernel subshell, which ipykernel 7
    handles in a thread of its own, while the cell's first render, and the Prefetch it
    started, run on the main thread: one Picture is drawn from two threads at once. Each
    state's PNG must still be the one a single thread draws for it (lesson 12's explorer once
    raised there, or cached another state's picture, and its readout stayed behind)."""
    import asyncio
    import sys
    import threading

    states = range(12)
    alone = view.Picture(_Lanes())
    expected = {s: alone.render(s, lambda s=s: s) for s in states}
    assert len(set(expected.values())) == len(expected)  # each state draws differently

    picture = view.Picture(_Lanes(), cache=4)  # small: states are drawn again and again
    errors: list[BaseException] = []
    shown: dict[int, set[bytes]] = {s: set() for s in states}

    def prefetching() -> None:  # the main thread: Prefetch, on its event loop
        async def main() -> None:
            ahead = view.Prefetch(picture, delay_s=0)
            for _ in range(3):
                ahead.after((s, lambda s=s: s) for s in states)
                await asyncio.sleep(0.05 * len(states))
        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def acting() -> None:  # the subshell: the learner's actions, each one shown
        try:
            for k in range(30):
                s = (k * 5) % len(states)
                picture.show(s, lambda s=s: s)
                shown[s].add(picture.image.value)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    pytest.importorskip("ipywidgets")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads often: the race shows in every run
    try:
        threads = [threading.Thread(target=f) for f in (prefetching, acting)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    wrong = sorted(s for s, seen in shown.items() if seen - {expected[s]})
    assert not wrong, f"states shown with another state's picture: {wrong}"
    cached = {s: picture.render(s, lambda s=s: s) for s in states}
    assert cached == expected


def test_serial_callbacks_never_overlap_and_the_last_action_is_shown():
    """Two threads run one lesson's callback (JupyterLab's comm subshell and the main
    thread): wrapped by view.serial, one runs at a time, so a slow older action cannot
    overwrite the readout of the newer one that finished first."""
    import threading
    import time

    inside = []
    shown = []

    def render(value, delay):
        inside.append(value)
        assert len(inside) == 1, "two callbacks drew at once"
        time.sleep(delay)
        shown.append(value)
        inside.pop()

    slow = threading.Thread(target=view.serial(render), args=("old", 0.2))
    slow.start()
    time.sleep(0.05)  # the old action is drawing when the new one arrives
    view.serial(render)("new", 0.0)
    slow.join()
    assert shown == ["old", "new"]


def test_every_lesson_callback_is_wired_through_serial():
    """Every widget control a lesson observes calls back through view.serial (a mutant
    that drops it from one lesson fails here; the browser test exercises lesson 12)."""
    root = Path(__file__).resolve().parents[1] / "gostack" / "lessons"
    bare = []
    for module in sorted(root.glob("*.py")):
        for line in module.read_text(encoding="utf-8").splitlines():
            m = re.search(r"\.observe\((.+?), \"value\"\)", line)
            if m and not m.group(1).startswith("view.serial("):
                bare.append(f"{module.name}: {line.strip()}")
    assert bare == []
