"""Pictures of stacks, for every lesson: one palette, one way to draw a stack.

Views take data (a Snapshot, a Trace) and an optional Axes, and return the Axes.
They never run the simulator. The stack is drawn as a column with hi at the top
and lo at the bottom, because it grows down.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, Rectangle

from . import prologue
from .arch import STACK_GUARD, STACK_SMALL
from .runtime import Snapshot
from .trace import Grow, Shrink, Trace

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


def _ax(ax: Axes | None, size: tuple[float, float] = (3.2, 5.0)) -> Axes:
    if ax is not None:
        return ax
    with plt.rc_context(STYLE):
        _, ax = plt.subplots(figsize=size)
    return ax


def _frame_color(name: str, names: list[str]) -> str:
    if name not in names:
        names.append(name)
    colors = PALETTE["frame"]
    return colors[names.index(name) % len(colors)]


def draw_stack(
    snap: Snapshot,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    show_guard: bool = True,
    show_pointers: bool = True,
    label_frames: int = 6,
) -> Axes:
    """The stack as a column: frames from hi down to SP, free space, the guard, pointers.

    The y axis counts bytes below hi, so the same offset is the same height before
    and after a move. Only the ``label_frames`` innermost frames are labelled.
    """
    ax = _ax(ax)
    size = snap.size
    ax.add_patch(Rectangle((0, 0), 1, size, facecolor=PALETTE["free"], edgecolor=PALETTE["edge"]))
    names: list[str] = []
    reserve_top = snap.frames[0].e + 8 if snap.frames else snap.sp
    if snap.hi - reserve_top > 0:
        ax.add_patch(Rectangle((0, 0), 1, snap.hi - reserve_top, facecolor=PALETTE["reserve"],
                               edgecolor="none"))
    for i, fr in enumerate(snap.frames):
        top, bottom = snap.hi - (fr.e + 8), snap.hi - fr.sp
        ax.add_patch(Rectangle((0, top), 1, bottom - top, edgecolor="white", linewidth=0.5,
                               facecolor=_frame_color(fr.func, names)))
        if i >= len(snap.frames) - label_frames and bottom - top > size / 60:
            ax.text(0.5, (top + bottom) / 2, f"{fr.func} ({fr.frame})", ha="center",
                    va="center", fontsize=7, color="white")
    if show_guard:
        g = size - STACK_GUARD
        ax.add_patch(Rectangle((0, g), 1, STACK_GUARD, facecolor=PALETTE["guard_zone"],
                               edgecolor="none", alpha=0.5, zorder=1.5))
        ax.axhline(g, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.text(-0.05, g, "stackguard0\n= lo + 928", color=PALETTE["guard"], va="center",
                ha="right", fontsize=7)
    used = snap.used
    ax.annotate("SP", xy=(1, used), xytext=(1.25, used), va="center", fontsize=8,
                arrowprops={"arrowstyle": "->", "color": PALETTE["sp"]})
    if show_pointers:
        for local, target in snap.pointers():
            ax.add_patch(FancyArrowPatch(
                (1.0, snap.hi - local.addr), (1.0, snap.hi - target),
                connectionstyle="arc3,rad=-0.5", arrowstyle="->", mutation_scale=10,
                color=PALETTE["pointer"], linewidth=1.2,
            ))
    ax.set_xlim(-0.9, 1.9)
    ax.set_ylim(size, 0)  # hi at the top
    ax.set_xticks([])
    ax.set_yticks([0, size])
    ax.set_yticklabels(["hi", f"lo\n({size:,} B)"])
    ax.spines["bottom"].set_visible(False)
    ax.set_title(title or f"stack {size:,} B, used {used:,} B")
    return ax


def draw_growth(trace: Trace, ax: Axes | None = None, *, calls: int | None = None,
                title: str | None = None) -> Axes:
    """Stack size against call index: a step at every growth, with its call index."""
    ax = _ax(ax, (6.0, 3.2))
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
    ax.set_xlabel("call index")
    ax.set_ylabel("stack size (bytes)")
    ax.set_title(title or f"{len(grows)} growths")
    return ax


def draw_moves(events: Sequence[Grow | Shrink], ax: Axes | None = None) -> Axes:
    """Bytes copied by each move: the amortised cost of growth, as bars."""
    ax = _ax(ax, (6.0, 2.8))
    xs = range(len(events))
    colors = [PALETTE["grow"] if isinstance(e, Grow) else PALETTE["shrink"] for e in events]
    ax.bar(xs, [e.used for e in events], color=colors)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{e.old_size // 1024}→{e.new_size // 1024} KiB" for e in events],
                       rotation=30, fontsize=7)
    ax.set_ylabel("bytes copied")
    return ax


def draw_prologue(size: int, e_used: int, frame: int, ax: Axes | None = None) -> Axes:
    """One prologue check on a stack of ``size`` bytes: where E and E-(F-128) sit
    against the guard, and whether morestack fires."""
    ax = _ax(ax, (3.6, 5.0))
    lo, hi = 0x1000, 0x1000 + size
    guard = lo + STACK_GUARD
    e = hi - e_used
    fires = prologue.morestack_needed(e, frame, guard)
    probe = e - max(0, frame - STACK_SMALL)
    ax.add_patch(Rectangle((0, 0), 1, size, facecolor=PALETTE["free"], edgecolor=PALETTE["edge"]))
    ax.add_patch(Rectangle((0, 0), 1, e_used, facecolor=PALETTE["frame"][0], alpha=0.5,
                           edgecolor="none"))
    ax.add_patch(Rectangle((0, e_used), 1, frame, facecolor=PALETTE["frame"][1], alpha=0.8,
                           edgecolor="white", hatch="//" if fires else None))
    ax.axhline(size - STACK_GUARD, color=PALETTE["guard"], linestyle="--", linewidth=1)
    ax.text(1.03, size - STACK_GUARD, "guard", color=PALETTE["guard"], va="center", fontsize=8)
    ax.annotate("E (SP at entry)", xy=(1, e_used), xytext=(1.2, e_used), va="center",
                fontsize=8, arrowprops={"arrowstyle": "->"})
    if frame > STACK_SMALL:
        ax.annotate("E - (F-128)", xy=(0, hi - probe), xytext=(-0.95, hi - probe),
                    va="center", fontsize=8, arrowprops={"arrowstyle": "->"})
    verdict = "morestack" if fires else "fits"
    ax.set_title(f"{prologue.form(frame).name.lower()} form, frame {frame}: {verdict}",
                 color=PALETTE["guard"] if fires else PALETTE["ok"])
    ax.set_xlim(-1.0, 2.0)
    ax.set_ylim(max(size, e_used + frame) * 1.02, 0)
    ax.set_xticks([])
    ax.set_yticks([0, size])
    ax.set_yticklabels(["hi", "lo"])
    ax.spines["bottom"].set_visible(False)
    return ax
