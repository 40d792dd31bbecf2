"""Lesson 03, the prologue: one stack check, where E and the guard sit, and the explorer.

:func:`prologue_state` evaluates the real check (``gostack.prologue``) at a position in
the stack and returns what the explorer shows; :func:`draw_prologue` draws it;
:func:`prologue_explorer` wires the position of E and the frame size to both. Defaults
are the running example's recA (frame 160).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import prologue
from ..arch import STACK_GUARD, STACK_SMALL
from . import draw, view
from .draw import PALETTE
from .running import RUNNING_FRAMES

FRAME = RUNNING_FRAMES["main.recA"]


@dataclass(frozen=True)
class PrologueState:
    """One prologue check on a stack of ``size`` bytes with E at ``e_used`` below hi."""

    size: int
    e_used: int
    frame: int
    form: prologue.Form
    instructions: tuple[str, ...]
    compared: int  # bytes below hi of the value compared with stackguard0
    guard_used: int  # bytes below hi of stackguard0 = lo + 928
    fires: bool

    @property
    def readout(self) -> str:
        what = "SP" if self.frame <= STACK_SMALL else f"SP-{self.frame - STACK_SMALL}"
        verdict = ("<= stackguard0: call morestack" if self.fires
                   else "> stackguard0: the frame fits")
        return (f"{self.form.name.lower()} form; {what} is {self.compared:,} B below hi, the "
                f"guard {self.guard_used:,} B below hi: {verdict}")


@functools.lru_cache(maxsize=1024)  # a widget revisits states; the value is frozen
def prologue_state(size: int = 2048, e_used: int = 1000, frame: int = FRAME) -> PrologueState:
    """Evaluate the real prologue check (gostack.prologue) at a position in the stack."""
    lo = 0xC000000000
    hi = lo + size
    fires = prologue.morestack_needed(hi - e_used, frame, lo + STACK_GUARD)
    return PrologueState(size, e_used, frame, prologue.form(frame), prologue.instructions(frame),
                         e_used + max(0, frame - STACK_SMALL), size - STACK_GUARD, fires)


def draw_prologue(state: PrologueState, ax: Axes | None = None) -> Axes:
    """One prologue check: E and the frame below it, E-(F-128) against the guard line.

    The guard line spans the stack column only, so no label is struck through.
    """
    ax = draw.axes(ax, (3.6, 5.0))
    size, e_used, frame = state.size, state.e_used, state.frame
    guard, probe = state.guard_used, state.compared
    top = max(size, e_used + frame) * 1.02
    ax.add_patch(Rectangle((0, 0), 1, size, facecolor=PALETTE["free"], edgecolor=PALETTE["edge"]))
    ax.add_patch(Rectangle((0, 0), 1, e_used, facecolor=PALETTE["frame"][0], alpha=0.5,
                           edgecolor="none"))
    ax.add_patch(Rectangle((0, e_used), 1, frame, facecolor=PALETTE["frame"][1], alpha=0.8,
                           edgecolor="white", hatch="//" if state.fires else None))
    ax.plot([0, 1], [guard, guard], color=PALETTE["guard"], linestyle="--", linewidth=1.2)
    # y grows downward (bytes below hi). Each label has a place of its own, so nothing
    # overlaps at the <= equality the lesson is about: E on the right, E-(F-128) on the
    # left, the guard's inside the column, on the side of its line away from E-(F-128).
    fires_side = probe >= guard
    gap = top * 0.012
    ax.text(0.5, guard - gap if fires_side else guard + gap, "stackguard0\n= lo + 928",
            color=PALETTE["guard"], fontsize=7, ha="center",
            va="bottom" if fires_side else "top",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
    ax.annotate("E (SP at entry)", xy=(1, e_used), xytext=(1.2, e_used), va="center",
                fontsize=8, arrowprops={"arrowstyle": "->"})
    if frame > STACK_SMALL:
        ax.annotate("E - (F-128)", xy=(0, probe), xytext=(-0.95, probe),
                    va="center", fontsize=8,
                    arrowprops={"arrowstyle": "->"})
    verdict = "morestack" if state.fires else "fits"
    ax.set_title(f"{state.form.name.lower()} form, frame {frame}: {verdict}",
                 color=PALETTE["guard"] if state.fires else PALETTE["ok"])
    ax.set_xlim(-1.0, 2.0)
    ax.set_ylim(top, 0)
    ax.set_xticks([])
    ax.set_yticks([0, size])
    ax.set_yticklabels(["hi", "lo"])
    ax.spines["bottom"].set_visible(False)
    return ax


def prologue_figure(state: PrologueState, fig: Figure | None = None) -> Figure:
    with draw.styled():
        fig = draw.canvas(fig, (3.6, 5.0))
        draw_prologue(state, fig.subplots())
        fig.tight_layout()
    return fig


def show_prologue(state: PrologueState) -> None:
    view.show(prologue_figure(state))


def prologue_explorer(size: int = 2048, frame: int = FRAME):
    """Move E (the SP at entry) and the frame size; see whether morestack fires."""
    import ipywidgets as w

    used = w.IntSlider(value=1000, min=8, max=size, step=8, description="hi - E",
                       continuous_update=False)
    frames = w.Dropdown(options=sorted({64, 128, 136, 160, 616, 4096, 4104, 10280, frame}),
                        value=frame, description="frame")
    text = w.HTML()
    picture = view.Picture(prologue_figure)

    def render(*_):
        key = (size, used.value, frames.value)
        state = prologue_state(*key)
        text.value = view.code(state.readout) + view.pre(state.instructions, size=12)
        picture.show(key, lambda: state)

    used.observe(render, "value")
    frames.observe(render, "value")
    render()
    return view.box([[used, frames]], picture, beside=[text])
