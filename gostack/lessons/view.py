"""Widget plumbing every lesson shares: static figures, live pictures, readouts, the box.

A lesson's widget is a thin view: controls, a readout and a picture, wired to a pure
function of the controls' values (the lesson module's ``*_state`` or ``*_run``) and a
figure function of what it returns. Callbacks only render.

Speed: a widget keeps one figure for its whole life (:class:`Picture`), redraws it only
for a state it has not shown yet, and caches each state's PNG, so going back to a state
sends bytes it already has. A lesson's figure function updates its artists in place and
keeps its layout (see :mod:`gostack.lessons.draw`); the canvas is drawn once per state
(only the panels that changed, where the figure has :class:`~gostack.lessons.draw.Panels`)
and its pixels are encoded straight to PNG, with no savefig pass. ipywidgets is imported
where a widget is built, so the computations and figures import without it.

Threads: a widget's callbacks may run on two threads at once (see :data:`DRAWING`), so
every picture is drawn holding that one lock.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from matplotlib.figure import Figure

from ..i18n import N_, _
from . import draw

# What a widget cell shows where no kernel runs it (a notebook before Run All, a viewer):
# the widget's first picture, if it has one, and this line (gostack.nbtools keeps both).
# English here (gostack.nbtools.WIDGET_NOTE is the same text); the bundle has it translated.
STATIC_NOTE = N_("An interactive explorer: run this cell (or Run All) to use it.")

# A readout's lines are never broken (tables stay tables): a readout beside a picture with
# no room for its longest line goes under the picture instead (see box).
PRE_STYLE = "white-space: pre; word-break: normal; overflow-wrap: normal"

# Held while a figure is drawn, and by a widget callback that shows a state (its text and its
# picture), so that one thread at a time does either. JupyterLab (4.4 on) sends widget
# messages to a kernel subshell, which ipykernel (7 on) runs in a thread of its own, while a
# cell's first render, and the Prefetch it started, run on the main thread: a widget's figure
# was drawn by both at once, which raised (the readout then stayed at the old state) or cached
# one state's picture under another's key. One lock for all pictures: matplotlib's fonts and
# rcParams (draw.styled) are shared by every figure. Reentrant: show() calls render().
DRAWING = threading.RLock()


def serial(callback: Callable) -> Callable:
    """``callback`` run holding :data:`DRAWING`: a widget's callbacks one at a time, so the
    readout and the picture they show are one state's, and the last action's state stays."""

    @functools.wraps(callback)
    def run(*args, **kwargs):
        with DRAWING:
            return callback(*args, **kwargs)

    return run


def show(fig: Figure) -> None:
    """Display a figure as a static picture in the cell's output.

    The PNG goes out as bytes, as a widget's does: ``display(fig)`` would depend on
    matplotlib's inline formatter, which IPython registers only once pyplot is imported,
    so a lesson whose first figure is one of ours (no pyplot) would show only the text
    ``<Figure size ... with 1 Axes>``.
    """
    from IPython.display import display

    display(bundle(fig), raw=True)


def bundle(fig: Figure) -> dict[str, str]:
    """The display bundle of a static figure: its PNG (cropped) and its usual text form."""
    return {"image/png": base64.b64encode(png(fig)).decode("ascii"), "text/plain": repr(fig)}


def png(fig: Figure, *, crop: bool = True) -> bytes:
    """The figure as PNG bytes: cropped as the notebook's inline backend crops it, or
    (``crop=False``, for a widget's figure, laid out once already) as it is: its canvas
    drawn (:func:`draw.render`: only what changed, where it can) and its pixels encoded
    directly, opaque RGB with light compression (it travels to the browser)."""
    buf = io.BytesIO()
    if crop:
        with DRAWING, draw.styled():
            fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    from PIL import Image

    with DRAWING:  # frombuffer shares the canvas's memory: copied (convert) before release
        draw.render(fig)
        w, h = fig.canvas.get_width_height()
        rgba = Image.frombuffer("RGBA", (w, h), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        rgb = rgba.convert("RGB")
    rgb.save(buf, format="png", compress_level=1)
    return buf.getvalue()


class Picture:
    """A widget's picture: one figure, redrawn in place, shown as a PNG in an Image widget.

    ``figure(state, fig)`` draws ``state`` into ``fig`` (its artists updated in place, see
    ``draw.keep``, or the figure cleared by ``draw.canvas``) and
    returns it. :meth:`show` takes a key (the controls' values) and a function computing
    the state, called only when that key's PNG is not cached yet.
    """

    def __init__(self, figure: Callable[[Any, Figure | None], Figure], cache: int = 128) -> None:
        import ipywidgets as w

        self._figure = figure
        self.fig: Figure | None = None
        # Shown at its natural size (1 PNG pixel, 1 CSS pixel, as a static figure is),
        # narrower only where the notebook is: a flex column would otherwise stretch it to
        # the notebook's width, blurry and taller than the screen.
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto",
                                                           flex="0 0 auto"))
        self._pngs: OrderedDict[Hashable, bytes] = OrderedDict()
        self._cache = cache

    def render(self, key: Hashable, state: Callable[[], Any]) -> bytes:
        with DRAWING:  # the figure and the cache change together (see DRAWING)
            data = self._pngs.get(key)
            if data is None:
                with draw.styled():
                    self.fig = self._figure(state(), self.fig)
                data = self._pngs[key] = png(self.fig, crop=False)
                if len(self._pngs) > self._cache:
                    self._pngs.popitem(last=False)
            self._pngs.move_to_end(key)
            return data

    def show(self, key: Hashable, state: Callable[[], Any]) -> None:
        with DRAWING:  # two callbacks at once: the picture is the last one's
            data = self.render(key, state)
            if self.image.value != data:
                width = png_size(data)[0]
                if width and self.image.layout.width != f"{width}px":
                    self.image.layout.width = f"{width}px"
                self.image.value = data


class Prefetch:
    """Renders a widget's likely next states while the kernel is idle, so that the next
    step, the slider's neighbour or the other toggle comes from the picture's PNG cache.

    :meth:`after` takes (key, state function) pairs, as :meth:`Picture.show` does, and
    renders one of them per turn of the kernel's event loop, each ``delay_s`` after the
    last: a learner's action waits for at most one render, and a new :meth:`after` (the
    learner moved on) drops what the previous one had left, whichever thread either runs on
    (a render is done holding :data:`DRAWING`, the check for a newer :meth:`after` too). With
    no event loop running (plain Python, most tests) it does nothing.
    """

    def __init__(self, picture: Picture, delay_s: float = 0.1) -> None:
        self.picture, self.delay_s = picture, delay_s
        self._generation = 0

    def after(self, todo: Iterable[tuple[Hashable, Callable[[], Any]]]) -> None:
        import asyncio

        with DRAWING:
            self._generation += 1
            generation = self._generation
        try:
            loop = asyncio.get_running_loop()  # this thread's: the chain stays on it
        except RuntimeError:
            return
        items = iter(list(todo))

        def one() -> None:
            with DRAWING:  # a newer after() on another thread is seen here, not mid-render
                if generation != self._generation:
                    return
                try:
                    key, state = next(items)
                    self.picture.render(key, state)
                except Exception:  # noqa: BLE001 - done, or a state that cannot be drawn: stop
                    return
            loop.call_later(self.delay_s, one)

        loop.call_later(self.delay_s, one)


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's (width, height) in pixels, from its header; (0, 0) if it is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return (0, 0)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def pre(lines: Sequence[str], size: int = 11) -> str:
    """Readout lines as preformatted HTML."""
    return (f"<pre style='font-size: {size}px; {PRE_STYLE}'>" + html.escape("\n".join(lines))
            + "</pre>")


def code(text: str) -> str:
    return "<code>" + html.escape(text) + "</code>"


@functools.cache
def _box_class():
    import ipywidgets as w

    class Explorer(w.VBox):
        """A widget box whose saved form (no kernel) is its first picture and one line."""

        def __init__(self, children, picture: Picture | None = None) -> None:
            super().__init__(children)
            self._first = picture.image.value if picture is not None else b""

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            bundle["text/plain"] = _(STATIC_NOTE)
            if self._first:
                bundle["image/png"] = base64.b64encode(self._first).decode("ascii")
            return bundle

    return Explorer


def box(rows: Sequence, picture: Picture | None = None, beside: Sequence = ()):
    """The widget a lesson cell returns: ``rows`` (widgets, or lists of widgets laid out
    side by side) above the picture, and ``beside`` (a readout) to the picture's right, or
    under it where the notebook is too narrow for both: a tall picture then fits on one
    screen (1366x768) with the controls above it."""
    import ipywidgets as w

    children = [w.HBox(list(r)) if isinstance(r, list | tuple) else r for r in rows]
    if picture is not None and beside:
        # As wide as its longest line: it wraps under the picture where that does not fit.
        side = w.VBox(list(beside), layout=w.Layout(flex="1 1 auto", margin="0 0 0 8px"))
        children.append(w.HBox([picture.image, side],
                               layout=w.Layout(flex_flow="row wrap", align_items="flex-start")))
    elif picture is not None:
        children.append(picture.image)
    else:
        children += list(beside)
    return _box_class()(children, picture)
