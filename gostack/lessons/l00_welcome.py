"""Lesson 00, welcome: one recursion's stack, call by call, and the depth explorer.

:func:`depth_state` runs the recursion and returns what the explorer shows (tests and the
browser plans call it too); :func:`depth_figure` draws it; :func:`stack_explorer` wires a
depth slider and a frame dropdown to both. Defaults are the running example's frames
(worker 40, recA 160: ``gostack.lessons.running``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from matplotlib.figure import Figure

from .. import i18n
from ..i18n import _, ngettext
from ..runtime import Runtime, Snapshot
from ..symtab import Func
from ..trace import Trace
from . import draw, stacks, view
from .running import RUNNING_FRAMES

ENTRY, FRAME = RUNNING_FRAMES["main.worker"], RUNNING_FRAMES["main.recA"]


@dataclass(frozen=True)
class DepthState:
    """A recursion stopped after ``calls`` calls: its stack and what happened so far."""

    frame: int
    calls: int
    snapshot: Snapshot
    trace: Trace

    @property
    def readout(self) -> str:
        """One line, in the language in use."""
        grows = self.trace.grows
        last = _("; last growth at call {call} ({old:,} → {new:,} B)").format(
            call=grows[-1].call_index, old=grows[-1].old_size,
            new=grows[-1].new_size) if grows else ""
        return _("after {calls} of {frame:,}-byte frames: stack {size:,} B, used {used:,} B, "
                 "{growths}{last}").format(
            calls=ngettext("{n:,} call", "{n:,} calls", self.calls).format(n=self.calls),
            frame=self.frame, size=self.snapshot.size, used=self.snapshot.used,
            growths=growths(len(grows)), last=last)


def growths(n: int) -> str:
    """'1 growth', '2 growths', in the language in use."""
    return ngettext("{n:,} growth", "{n:,} growths", n).format(n=n)


def _label_chart(chart: draw.GrowthChart) -> None:
    """The growth chart's axis labels in the language in use (draw.GrowthChart's are
    English: lesson 04 draws it too)."""
    chart.ax.set_xlabel(_("call index"))
    chart.ax.set_ylabel(_("stack size (bytes)"))


def draw_growth(trace: Trace, calls: int, frame: int = FRAME):
    """The taste's staircase: one goroutine's stack size over ``calls`` calls of
    ``frame``-byte frames (draw.draw_growth, with its words in the language in use)."""
    with i18n.figure_fonts():
        ax = draw.axes(None, (6.0, 3.2))
        chart = draw.GrowthChart(ax)
        _label_chart(chart)
        chart.update(trace.grows, calls=calls, title=_(
            "stack size of one goroutine, {calls} calls of a {frame:,}-byte frame").format(
                calls=calls, frame=frame))
    return ax


@functools.lru_cache(maxsize=512)  # a widget revisits states; the value is frozen
def depth_state(frame: int = FRAME, calls: int = 6, entry: int = ENTRY) -> DepthState:
    """Run a recursion of ``frame``-byte frames for ``calls`` calls from an ``entry`` frame."""
    g = Runtime(trace=False).go(Func("main.worker", frame=entry))
    rec = Func("main.recA", frame=frame)
    for _call in range(calls):
        g.call(rec)
    return DepthState(frame, calls, g.snapshot(), g.trace)


class _Depth:
    """depth_figure's artists, both updated in place: the stack (stacks.StackArt) and the
    growth chart (draw.GrowthChart)."""

    def __init__(self, fig: Figure) -> None:
        left, right = fig.subplots(1, 2, width_ratios=(1, 2))
        self.stack = stacks.StackArt(left, label_frames=3)
        self.chart = draw.GrowthChart(right)
        _label_chart(self.chart)

    def update(self, state: DepthState) -> None:
        snap = state.snapshot
        self.stack.update(snap, title=_("stack {size:,} B, used {used:,} B").format(
            size=snap.size, used=snap.used))
        self.chart.update(state.trace.grows, calls=max(state.calls, 1),
                          title=growths(len(state.trace.grows)))


def depth_figure(state: DepthState, fig: Figure | None = None) -> Figure:
    """The stack after the last call, and its size against the call index; a widget's
    figure (``fig``) keeps its axes and layout, its chart's artists moved in place."""
    with draw.styled(), i18n.figure_fonts():
        art = draw.kept(fig, "depth", None)
        if art is None:
            fig = draw.canvas(fig, (9, 4.2))
            art = draw.keep(fig, "depth", None, _Depth(fig))
            # Laid out once, wide enough for the deepest stack's labels.
            art.update(depth_state(10280, 200))
            draw.fix_layout(fig)
        art.update(state)
    return fig


def show_depth(state: DepthState) -> None:
    view.show(depth_figure(state))


def stack_explorer(frame: int = FRAME, max_calls: int = 200):
    """A slider over the recursion depth; the stack and its growths follow."""
    import ipywidgets as w


    calls = w.IntSlider(value=6, min=0, max=max_calls, description=_("calls"),
                        continuous_update=False)
    size = w.Dropdown(options=sorted({64, 128, 160, 616, 4096, 10280, frame}), value=frame,
                      description=_("frame"))
    text = w.HTML()
    picture = view.Picture(depth_figure)
    ahead = view.Prefetch(picture)  # the slider's neighbours, drawn while the kernel is idle

    def render(*_):
        key = (size.value, calls.value)
        state = depth_state(*key)
        picture.show(key, lambda: state)  # then the text: both change at once
        text.value = view.code(state.readout)
        ahead.after(((key[0], c), functools.partial(depth_state, key[0], c))
                    for c in (key[1] + 1, key[1] - 1) if calls.min <= c <= calls.max)

    calls.observe(view.serial(render), "value")
    size.observe(view.serial(render), "value")
    render()
    return view.box([[calls, size], text], picture)


def growth_line(e) -> str:
    """One growth of the taste's recursion (a trace.Grow), as lesson 00 prints it."""
    return _("call {call:>3}: {old:>6,} -> {new:>7,} bytes, {copied:>6,} bytes copied").format(
        call=e.call_index, old=e.old_size, new=e.new_size, copied=e.used)
