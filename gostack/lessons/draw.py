"""Drawing primitives every lesson shares: one palette, one style, the growth chart.

Functions take data (a Trace) and an Axes, draw, and return the Axes; they never run
the simulator. Pictures of one stack (and of a move between two) live in
:mod:`gostack.lessons.stacks`. :func:`canvas` gives a figure to draw on: a fresh one, or
a widget's own figure cleared for its next state (so a widget keeps one figure for its whole life).

A widget's figure function may do better than clear and rebuild: build its axes and artists
once, keep them with :func:`keep`, and for each later state update them in place
(set_data, set_text, set_height) after finding them with :func:`kept`. Its layout is then
fixed once (:func:`fix_layout`), and :class:`Panels` lets it redraw only the axes whose
content changed (:func:`render`).
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..i18n import _, ngettext
from ..trace import Trace

PALETTE = {
    "frame": ("#4C72B0", "#55A868", "#8172B2", "#64B5CD", "#CCB974", "#937860"),
    "free": "#F2F2F2",
    "edge": "#333333",
    "guard": "#C44E52",
    "guard_zone": "#F6D5D6",
    "sp": "#222222",
    "pointer": "#DD8452",
    "uintptr": "#8C8C8C",
    "reserve": "#BBBBBB",
    "grow": "#C44E52",
    "shrink": "#4C72B0",
    "ok": "#55A868",
}


STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    # FreeType's autohinter, not the font's own hinting (matplotlib 3.11's "default"), under
    # which matplotlib sets the size before each glyph and DejaVu's hinting program runs
    # again: 75 us a glyph against 16 us (measured here, FT2Font alone), and text is most of
    # a widget's redraw.
    "text.hinting": "force_autohint",
    "font.size": 9,
    # Titles at a fixed height above their axes (where matplotlib puts them anyway when no
    # tick label is above the axes): otherwise each draw measures every tick label first.
    "axes.titley": 1.0,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def canvas(fig: Figure | None = None, size: tuple[float, float] = (6.0, 3.2)) -> Figure:
    """A figure of ``size`` inches to draw on: ``fig`` cleared (a widget redraws into the
    figure it already has), or a new one outside pyplot (nothing to close, nothing shown
    twice). Draw inside ``styled()`` so text gets the kit's sizes."""
    if fig is None:
        with styled():
            fig = Figure(figsize=size)
        FigureCanvasAgg(fig)  # renders to PNG directly, with no GUI or pyplot behind it
        return fig
    _KEPT.pop(fig, None)
    _PANELS.pop(fig, None)
    fig.clear()
    fig.set_size_inches(size)
    return fig


def styled():
    """The kit's rc settings, as a context manager (see STYLE), with a Hangul font outside
    English (i18n.figure_fonts; in English nothing else changes)."""
    from contextlib import ExitStack

    from .. import i18n

    stack = ExitStack()
    stack.enter_context(matplotlib.rc_context(STYLE))
    stack.enter_context(i18n.figure_fonts())
    return stack


# What a widget's figure function keeps on its figure: (kind, layout key, its artists).
_KEPT: weakref.WeakKeyDictionary[Figure, tuple[str, Hashable, Any]] = weakref.WeakKeyDictionary()


def keep(fig: Figure, kind: str, key: Hashable, artists: Any) -> Any:
    """Remember ``artists`` (whatever the figure function updates in place) on ``fig``, for
    the layout ``key`` (what cannot be updated in place: a figure with another key is built
    again)."""
    _KEPT[fig] = (kind, key, artists)
    return artists


def kept(fig: Figure | None, kind: str, key: Hashable) -> Any:
    """The artists :func:`keep` stored on ``fig`` for ``kind`` and ``key``, or None (no
    figure yet, another kind of figure, another layout: build it)."""
    got = _KEPT.get(fig) if fig is not None else None
    if got is None or got[0] != kind or got[1] != key:
        return None
    return got[2]


def fix_layout(fig: Figure) -> None:
    """Lay ``fig`` out once (tight_layout) for the state it shows, and keep that layout for
    every later state: no layout pass per redraw, and nothing jumps between states."""
    fig.tight_layout()
    fig.set_layout_engine("none")


class Panels:
    """A widget figure drawn panel by panel: each panel (a vertical strip of the figure and
    the artists in it, axes or figure texts) is drawn again only when its key (what it
    shows) changed since it was last drawn into the canvas. A panel's ``dynamic`` artists
    (made with ``animated=True``: what changes from state to state on an unchanged
    background, such as a highlighted row) are drawn on a copy of its background for every
    state. The layout must be fixed (:func:`fix_layout`) and the strips must not overlap:
    text that spills out of an axes must stay inside its panel.
    """

    def __init__(self, fig: Figure, panels: Sequence[tuple[Sequence, float, float]],
                 dynamic: Sequence[Sequence] = ()):
        """``panels``: (artists, left, right) each, left and right as fractions of the
        figure's width; ``dynamic``: each panel's animated artists, in drawing order."""
        self.fig = fig
        self.panels = [(tuple(arts), lo, hi) for arts, lo, hi in panels]
        self.dynamic = [tuple(d) for d in dynamic] or [()] * len(self.panels)
        self.keys: list[Hashable] = [None] * len(self.panels)
        self.drawn: list[Hashable] = []  # the keys the canvas holds, [] before a full draw
        self._blank: list[Any] = []
        self._background: list[Any] = [None] * len(self.panels)
        self._size: tuple[int, int] | None = None

    def set_keys(self, keys: Sequence[Hashable]) -> None:
        self.keys = list(keys)

    def _bbox(self, k: int):
        from matplotlib.transforms import Bbox

        w, h = self._size
        _, lo, hi = self.panels[k]
        return Bbox([[lo * w, 0], [hi * w, h]])

    def draw(self) -> None:
        fig, canvas = self.fig, self.fig.canvas
        size = canvas.get_width_height()
        if not self.drawn or size != self._size:
            self._full(size)
        else:
            renderer = canvas.get_renderer()
            for k, (arts, _lo, _hi) in enumerate(self.panels):
                if self.keys[k] != self.drawn[k]:
                    canvas.restore_region(self._blank[k])
                    for a in arts:
                        if not a.get_animated():
                            a.draw(renderer)
                    if self.dynamic[k]:
                        self._background[k] = canvas.copy_from_bbox(self._bbox(k))
                    self.drawn[k] = self.keys[k]
                elif self.dynamic[k]:
                    canvas.restore_region(self._background[k])
        renderer = canvas.get_renderer()
        for arts in self.dynamic:
            for a in arts:
                if a.get_visible():
                    a.draw(renderer)
        fig.stale = False

    def _full(self, size: tuple[int, int]) -> None:
        fig, canvas = self.fig, self.fig.canvas
        self._size = size
        # The blank panels: the figure's background alone, copied once per size.
        hidden = [(a, a.get_visible()) for a in fig.get_children() if a is not fig.patch]
        for a, _shown in hidden:
            a.set_visible(False)
        try:
            canvas.draw()
        finally:
            for a, v in hidden:
                a.set_visible(v)
        self._blank = [canvas.copy_from_bbox(self._bbox(k)) for k in range(len(self.panels))]
        canvas.draw()  # everything but the animated artists
        self._background = [canvas.copy_from_bbox(self._bbox(k)) if self.dynamic[k] else None
                            for k in range(len(self.panels))]
        self.drawn = list(self.keys)


_PANELS: weakref.WeakKeyDictionary[Figure, Panels] = weakref.WeakKeyDictionary()


def panels(fig: Figure, spec: Sequence[tuple[Sequence, float, float]],
           dynamic: Sequence[Sequence] = ()) -> Panels:
    """Draw ``fig`` panel by panel from now on (see :class:`Panels`); returns them, for
    their keys to be set per state."""
    _PANELS[fig] = p = Panels(fig, spec, dynamic)
    return p


def render(fig: Figure) -> None:
    """Draw ``fig`` into its canvas: only the panels whose keys changed if it has
    :class:`Panels`, else all of it."""
    p = _PANELS.get(fig)
    with styled():
        if p is None:
            fig.canvas.draw()
        else:
            p.draw()


def axes(ax: Axes | None, size: tuple[float, float] = (3.2, 5.0)) -> Axes:
    """``ax``, or the single Axes of a new pyplot figure of ``size``: a lesson cell that
    calls a draw_* function alone shows it with plt.show(), as any matplotlib plot."""
    if ax is not None:
        return adopt(ax)
    import matplotlib.pyplot as plt

    with styled():
        _, ax = plt.subplots(figsize=size)
    return ax


# The counted words the lessons use, each with its forms (one function a word: gettext
# extracts literal messages only).
_COUNTED = {
    "call": lambda n: ngettext("{n:,} call", "{n:,} calls", n),
    "growth": lambda n: ngettext("{n:,} growth", "{n:,} growths", n),
    "halving": lambda n: ngettext("{n:,} halving", "{n:,} halvings", n),
    "GC": lambda n: ngettext("{n:,} GC", "{n:,} GCs", n),
    "spinning M": lambda n: ngettext("{n:,} spinning M", "{n:,} spinning Ms", n),
    "steal": lambda n: ngettext("{n:,} steal", "{n:,} steals", n),
    "victim": lambda n: ngettext("{n:,} victim", "{n:,} victims", n),
    "preemption": lambda n: ngettext("{n:,} preemption", "{n:,} preemptions", n),
}


def adopt(ax: Axes) -> Axes:
    """An Axes made outside i18n.figure_fonts (a lesson cell's plt.subplots) given the
    Hangul font for its titles and axis labels, which the Axes made with the font of its
    day; in English nothing changes."""
    from .. import i18n

    if i18n.language() != i18n.DEFAULT:
        family = list(i18n.font_family())
        for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label,
                     ax.yaxis.label):
            text.set_fontfamily(family)
    return ax


def plural(n: int, word: str) -> str:
    """'1 growth', '2 growths', '0 growths', in the language in use (``word`` one of
    _COUNTED's; another word is counted in English)."""
    form = _COUNTED.get(word)
    if form is None:
        return f"{n:,} {word}{'' if n == 1 else 's'}"
    return form(n).format(n=n)

class GrowthChart:
    """Stack size against call index: a step at every growth, marked and labelled with its
    call index. Built once on an Axes; :meth:`update` shows a list of growths in place.

    A label goes to the left of its mark, at its height; where that would touch another
    label or a mark (growths a few calls apart, as a huge frame's are: 1, 2, 4, 8...), below
    and to the right of it; where that does not fit either, the growth is left unlabelled
    (its call index is in the readout and the trace).
    """

    FONT = 7  # points, the labels' size

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        (self.line,) = ax.step([0, 1], [2048, 2048], where="post", color=PALETTE["frame"][0])
        (self.marks,) = ax.plot([], [], "o", color=PALETTE["grow"], markersize=4)
        self.labels: list = []
        ax.set_yscale("log", base=2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # calls are counted, never halved
        ax.set_xlabel(_("call index"))
        ax.set_ylabel(_("stack size (bytes)"))

    def update(self, grows: Sequence, calls: int | None = None,
               title: str | None = None) -> None:
        ax = self.ax
        start = grows[0].old_size if grows else 2048
        xs, ys = [0], [start]
        for e in grows:
            xs.append(e.call_index)
            ys.append(e.new_size)
        end = calls if calls is not None else (xs[-1] + max(1, xs[-1] // 10))
        self.line.set_data(xs + [end], ys + [ys[-1]])
        self.marks.set_data(xs[1:], ys[1:])
        ax.relim()
        ax.autoscale_view()
        ax.set_title(title or plural(len(grows), "growth"))
        while len(self.labels) < len(grows):
            self.labels.append(ax.annotate("", (0, 0), textcoords="offset points",
                                           xytext=(0, 0), fontsize=self.FONT))
        for t, spot in zip(self.labels, self._places(xs[1:], ys[1:]), strict=False):
            t.set_visible(spot is not None)
            if spot is not None:
                (x, y, text), (dx, dy, ha, va) = spot
                t.set_text(text)
                t.xy = (x, y)
                t.set_position((dx, dy))
                t.set_ha(ha)
                t.set_va(va)
        for t in self.labels[len(grows):]:
            t.set_visible(False)

    def _places(self, xs: list[int], ys: list[int]):
        """Each growth's label: ((x, y, text), (dx, dy, ha, va)) or None, chosen so that no
        two labels and no label and mark touch (sizes estimated in points)."""
        ax = self.ax
        to_pt = 72 / ax.figure.dpi
        pts = ([tuple(p * to_pt) for p in ax.transData.transform(list(zip(xs, ys, strict=True)))]
               if xs else [])
        box = ax.get_window_extent()
        left, bottom, right, top = (v * to_pt for v in (box.x0, box.y0, box.x1, box.y1))
        h, mark = self.FONT * 1.05, 3.0  # a label's height, half a mark's width
        marks = [(px - mark, py - mark, px + mark, py + mark) for px, py in pts]
        taken: list[tuple[float, float, float, float]] = []

        def free(b):
            return (left <= b[0] and b[2] <= right and bottom <= b[1] and b[3] <= top
                    and not any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]
                                for o in taken + marks))

        out = []
        for x, y, (px, py) in zip(xs, ys, pts, strict=True):
            text = str(x)
            w = len(text) * self.FONT * 0.62
            options = (((-5, 0, "right", "center"), (px - 5 - w, py - h / 2, px - 5, py + h / 2)),
                       ((4, -4, "left", "top"), (px + 4, py - 4 - h, px + 4 + w, py - 4)))
            spot = None
            for how, b in options:
                if free(b):
                    taken.append(b)
                    spot = ((x, y, text), how)
                    break
            out.append(spot)
        return out


def draw_growth(trace: Trace, ax: Axes | None = None, *, calls: int | None = None,
                title: str | None = None) -> Axes:
    """Stack size against call index: a step at every growth, with its call index (see
    :class:`GrowthChart`)."""
    ax = axes(ax, (6.0, 3.2))
    GrowthChart(ax).update(trace.grows, calls=calls, title=title)
    return ax
