"""Pictures of a stack: one stack as a column, a step of a stepper, a move old -> new.

A stack is a column with hi at the top and lo at the bottom, because it grows down; the
y axis counts bytes below hi, so an offset keeps its height across a move. Functions take
a Snapshot and an Axes, draw, and return the Axes; they never run the simulator.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.patches import ConnectionPatch, FancyArrowPatch, Rectangle

from ..arch import STACK_GUARD
from ..runtime import Snapshot
from .draw import PALETTE, axes


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
    ax = axes(ax)
    size = snap.size
    ax.add_patch(Rectangle((0, 0), 1, size, facecolor=PALETTE["free"], edgecolor=PALETTE["edge"]))
    names: list[str] = []
    reserve_top = snap.frames[0].e + 8 if snap.frames else snap.sp
    if snap.hi - reserve_top > 0:
        ax.add_patch(Rectangle((0, 0), 1, snap.hi - reserve_top, facecolor=PALETTE["reserve"],
                               edgecolor="none"))
    frames = []
    for i, fr in enumerate(snap.frames):
        top, bottom = snap.hi - (fr.e + 8), snap.hi - fr.sp
        frames.append(Rectangle((0, top), 1, bottom - top, edgecolor="white", linewidth=0.5,
                                facecolor=_frame_color(fr.func, names)))
        if i >= len(snap.frames) - label_frames and bottom - top > size / 60:
            ax.text(0.5, (top + bottom) / 2, f"{fr.func} ({fr.frame})", ha="center",
                    va="center", fontsize=7, color="white")
    # One collection, not a patch per frame: a deep stack has hundreds, and each patch
    # would update the data limits (the limits are set below anyway).
    ax.add_collection(PatchCollection(frames, match_original=True), autolim=False)
    if show_guard:
        g = size - STACK_GUARD
        ax.add_patch(Rectangle((0, g), 1, STACK_GUARD, facecolor=PALETTE["guard_zone"],
                               edgecolor="none", alpha=0.5, zorder=1.5))
        # Across the column only: a full-width line struck through the SP label when SP
        # sat near the guard (as it did lesson 03's labels).
        ax.plot([0, 1], [g, g], color=PALETTE["guard"], linestyle="--", linewidth=1)
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


def draw_step_stack(snap: Snapshot, ax: Axes | None = None, *, pointer_frames: int = 3,
                    title: str | None = None, span: int | None = None) -> Axes:
    """A stack like ``draw_stack``, with pointer arrows only from the innermost
    ``pointer_frames`` frames (a deep recursion would be a thicket of arcs otherwise).
    ``span`` sets the height drawn (to put two stacks on one scale)."""
    ax = draw_stack(snap, ax, show_pointers=False, label_frames=4, title=title)
    for fr in snap.frames[-pointer_frames:] if pointer_frames else ():
        for lc in fr.locals:
            if lc.kind.value == "pointer" and snap.lo <= lc.value < snap.hi:
                ax.add_patch(FancyArrowPatch(
                    (1.0, snap.hi - lc.addr), (1.0, snap.hi - lc.value),
                    connectionstyle="arc3,rad=-0.5", arrowstyle="->", mutation_scale=10,
                    color=PALETTE["pointer"], linewidth=1.2))
    if span is not None:
        ax.set_ylim(span, 0)
    return ax


def draw_move(old: Snapshot, new: Snapshot, axes: Sequence[Axes], *, pointer_frames: int = 3,
              titles: tuple[str, str] | None = None, copied: bool = True,
              freed: str | None = None) -> Sequence[Axes]:
    """The old and the new stack side by side on one scale, aligned at hi.

    With ``copied`` the bytes in use are marked in both, with the memmove arrow; a pointer
    slot of the new stack's innermost frame that still holds an old-stack address is drawn
    as a dashed red arrow into the old stack. ``freed`` (e.g. the poison's bytes) greys
    the old stack out as freed memory, with that text.
    """
    a_old, a_new = axes
    span = max(old.size, new.size)
    t_old, t_new = titles or (None, None)
    draw_step_stack(old, a_old, pointer_frames=pointer_frames, title=t_old, span=span)
    draw_step_stack(new, a_new, pointer_frames=pointer_frames, title=t_new, span=span)
    used = new.used
    if copied and used:
        for a in (a_old, a_new):
            a.add_patch(Rectangle((-0.06, 0), 0.04, used, facecolor=PALETTE["grow"],
                                  edgecolor="none", clip_on=False))
        a_new.add_artist(ConnectionPatch(
            xyA=(1.9, used / 2), coordsA=a_old.transData, xyB=(-0.9, used / 2),
            coordsB=a_new.transData, arrowstyle="->", color=PALETTE["grow"], linewidth=1.5))
        a_old.text(1.9, used / 2, f" memmove\n {used:,} B", fontsize=7, va="bottom",
                   color=PALETTE["grow"])
    if freed is not None:
        a_old.add_patch(Rectangle((0, 0), 1, old.size, facecolor=PALETTE["reserve"], alpha=0.85,
                                  hatch="xx", edgecolor=PALETTE["edge"], zorder=3))
        a_old.text(0.5, old.size * 0.75, f"freed\n{freed}", ha="center", va="center", fontsize=8,
                   zorder=4, bbox={"facecolor": "white", "edgecolor": "none", "pad": 2})
    for fr in new.frames[-1:] if pointer_frames else ():  # the innermost frame's only
        for lc in fr.locals:
            if lc.kind.value == "pointer" and old.lo <= lc.value < old.hi:
                a_new.add_artist(ConnectionPatch(
                    xyA=(0.0, new.hi - lc.addr), coordsA=a_new.transData,
                    xyB=(1.0, old.hi - lc.value), coordsB=a_old.transData, arrowstyle="->",
                    color=PALETTE["guard"], linestyle="--", linewidth=1))
    return axes

