"""Widget plumbing every lesson shares: static figures, live pictures, readouts, the box.

A lesson's widget is a thin view: controls, a readout and a picture, wired to a pure
function of the controls' values (the lesson module's ``*_state`` or ``*_run``) and a
figure function of what it returns. Callbacks only render.

Speed: a widget keeps one figure for its whole life (:class:`Picture`), redraws it only
for a state it has not shown yet, and caches each state's PNG, so going back to a state
sends bytes it already has. ipywidgets is imported where a widget is built, so the
computations and figures import without it.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from matplotlib.figure import Figure

from . import draw

# What a widget cell shows where no kernel runs it (a notebook before Run All, a viewer):
# the widget's first picture, if it has one, and this line (gostack.nbtools keeps both).
STATIC_NOTE = "An interactive explorer: run this cell (or Run All) to use it."


def show(fig: Figure) -> None:
    """Display a figure as a static picture in the cell's output."""
    from IPython.display import display

    display(fig)


def png(fig: Figure, *, crop: bool = True) -> bytes:
    """The figure as PNG bytes: cropped as the notebook's inline backend crops it, or
    (``crop=False``, for a widget's figure, laid out by tight_layout already) as it is,
    in one render instead of two, with light compression (it travels to the browser)."""
    buf = io.BytesIO()
    with draw.styled():
        if crop:
            fig.savefig(buf, format="png", bbox_inches="tight")
        else:
            fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class Picture:
    """A widget's picture: one figure, redrawn in place, shown as a PNG in an Image widget.

    ``figure(state, fig)`` draws ``state`` into ``fig`` (cleared by ``draw.canvas``) and
    returns it. :meth:`show` takes a key (the controls' values) and a function computing
    the state, called only when that key's PNG is not cached yet.
    """

    def __init__(self, figure: Callable[[Any, Figure | None], Figure], cache: int = 128) -> None:
        import ipywidgets as w

        self._figure = figure
        self.fig: Figure | None = None
        self.image = w.Image(format="png")
        self._pngs: OrderedDict[Hashable, bytes] = OrderedDict()
        self._cache = cache

    def render(self, key: Hashable, state: Callable[[], Any]) -> bytes:
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
        data = self.render(key, state)
        if self.image.value != data:
            self.image.value = data


def pre(lines: Sequence[str], size: int = 11) -> str:
    """Readout lines as preformatted HTML."""
    return f"<pre style='font-size: {size}px'>" + html.escape("\n".join(lines)) + "</pre>"


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
            bundle["text/plain"] = STATIC_NOTE
            if self._first:
                bundle["image/png"] = base64.b64encode(self._first).decode("ascii")
            return bundle

    return Explorer


def box(rows: Sequence, picture: Picture | None = None):
    """The widget a lesson cell returns: ``rows`` (widgets, or lists of widgets laid out
    side by side) above the picture."""
    import ipywidgets as w

    children = [w.HBox(list(r)) if isinstance(r, list | tuple) else r for r in rows]
    if picture is not None:
        children.append(picture.image)
    return _box_class()(children, picture)
