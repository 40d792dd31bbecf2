"""Drawing primitives every lesson shares: one palette, one style, the growth chart.

Functions take data (a Trace) and an Axes, draw, and return the Axes; they never run
the simulator. Pictures of one stack (and of a move between two) live in
:mod:`gostack.lessons.stacks`. :func:`canvas` gives a figure to draw on: a fresh one, or
a widget's own figure cleared for its next state (so a widget keeps one figure for its whole life).
"""

from __future__ import annotations

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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
    "font.size": 9,
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
    fig.clear()
    fig.set_size_inches(size)
    return fig


def styled():
    """The kit's rc settings, as a context manager (see STYLE)."""
    return matplotlib.rc_context(STYLE)


def axes(ax: Axes | None, size: tuple[float, float] = (3.2, 5.0)) -> Axes:
    """``ax``, or the single Axes of a new pyplot figure of ``size``: a lesson cell that
    calls a draw_* function alone shows it with plt.show(), as any matplotlib plot."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    with styled():
        _, ax = plt.subplots(figsize=size)
    return ax


def plural(n: int, word: str) -> str:
    """'1 growth', '2 growths', '0 growths'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"

def draw_growth(trace: Trace, ax: Axes | None = None, *, calls: int | None = None,
                title: str | None = None) -> Axes:
    """Stack size against call index: a step at every growth, with its call index."""
    ax = axes(ax, (6.0, 3.2))
    grows = trace.grows
    start = grows[0].old_size if grows else 2048
    xs, ys = [0], [start]
    for e in grows:
        xs += [e.call_index]
        ys += [e.new_size]
    end = calls if calls is not None else (xs[-1] + max(1, xs[-1] // 10))
    ax.step(xs + [end], ys + [ys[-1]], where="post", color=PALETTE["frame"][0])
    for e in grows:
        ax.plot(e.call_index, e.new_size, "o", color=PALETTE["grow"], markersize=4)
        ax.annotate(str(e.call_index), (e.call_index, e.new_size), textcoords="offset points",
                    xytext=(-4, 5), fontsize=7, ha="right")
    ax.set_yscale("log", base=2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # calls are counted, never halved
    ax.set_xlabel("call index")
    ax.set_ylabel("stack size (bytes)")
    ax.set_title(title or plural(len(grows), "growth"))
    return ax
