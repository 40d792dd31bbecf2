"""Pictures of a stack: one stack as a column, a step of a stepper, a move old -> new.

A stack is a column with hi at the top and lo at the bottom, because it grows down; the
y axis counts bytes below hi, so an offset keeps its height across a move. Functions take
a Snapshot and an Axes, draw, and return the Axes; they never run the simulator.

Speed: a widget redraws a stack for every step, so the artists live in :class:`StackArt`
(one stack) and :class:`MoveArt` (two, on one scale), built once per Axes and updated in
place for each snapshot (no axes cleared, no patch rebuilt). ``draw_*`` build one and draw
one snapshot, for a static picture.

Pointers arc right of a column; saved frame pointers (:func:`bp_links`, on request) arc
left of it, each frame's saved-BP slot to its caller's.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.patches import ConnectionPatch, FancyArrowPatch, Rectangle
from matplotlib.transforms import offset_copy

from ..arch import STACK_GUARD
from ..i18n import _
from ..runtime import Snapshot
from .draw import PALETTE, axes

# (from, to): a pointer as two offsets below hi, the slot's and its target's.
Arrow = tuple[int, int]

GUARD_GAP = 8  # points between the guard's label and the stack column
BP_COLOR = PALETTE["edge"]  # the saved frame pointers' arcs, left of the column


def _frame_color(name: str, names: list[str]) -> str:
    if name not in names:
        names.append(name)
    colors = PALETTE["frame"]
    return colors[names.index(name) % len(colors)]


def step_pointers(snap: Snapshot, pointer_frames: int = 3) -> list[Arrow]:
    """The pointers of the innermost ``pointer_frames`` frames that point into ``snap``
    (a deep recursion would be a thicket of arcs otherwise)."""
    out = []
    for fr in snap.frames[-pointer_frames:] if pointer_frames else ():
        for lc in fr.locals:
            if lc.kind.value == "pointer" and snap.lo <= lc.value < snap.hi:
                out.append((snap.hi - lc.addr, snap.hi - lc.value))
    return out


def bp_links(snap: Snapshot, frames: int = 4, skip: int = 0) -> list[Arrow]:
    """The frame-pointer chain, ``frames`` links after the ``skip`` innermost: (slot, the
    caller's slot it holds) as offsets below hi; the entry's saved 0 (no caller) is left
    out."""
    return [(snap.hi - slot, snap.hi - saved)
            for slot, saved in snap.bp_chain()[skip:skip + frames] if saved]


def _arrow(color: str, x: float = 1.0, rad: float = -0.5, **kw) -> FancyArrowPatch:
    # shrinkA/B 0: the arrow ends exactly at its points, with no path splitting per draw.
    return FancyArrowPatch((x, 0), (x, 0), connectionstyle=f"arc3,rad={rad}",
                           arrowstyle="->", mutation_scale=10, color=color, linewidth=1.2,
                           shrinkA=0, shrinkB=0, **kw)


class StackArt:
    """One stack drawn on an Axes: frames from hi down to SP, free space, the guard, SP and
    pointer arcs; :meth:`update` redraws it for another snapshot, in place.

    Only the ``label_frames`` innermost frames are labelled. The left axis runs from hi to
    lo and no further, also when ``span`` (the height drawn, to put two stacks on one
    scale) is larger than the stack.
    """

    def __init__(self, ax: Axes, *, show_guard: bool = True, label_frames: int = 6) -> None:
        self.ax, self.label_frames = ax, label_frames
        self.free = ax.add_patch(Rectangle((0, 0), 1, 1, facecolor=PALETTE["free"],
                                           edgecolor=PALETTE["edge"]))
        self.reserve = ax.add_patch(Rectangle((0, 0), 1, 0, facecolor=PALETTE["reserve"],
                                              edgecolor="none"))
        # One collection, not a patch per frame: a deep stack has hundreds.
        self.frames = PatchCollection([], edgecolor="white", linewidth=0.5)
        ax.add_collection(self.frames, autolim=False)
        self.labels = [ax.text(0.5, 0, "", ha="center", va="center", fontsize=7, color="white",
                               visible=False) for _i in range(label_frames)]
        self.guard = None
        if show_guard:
            zone = ax.add_patch(Rectangle((0, 0), 1, STACK_GUARD, edgecolor="none", alpha=0.5,
                                          facecolor=PALETTE["guard_zone"], zorder=1.5))
            # Across the column only: a full-width line struck through the SP label when SP
            # sat near the guard (as it did lesson 03's labels).
            (line,) = ax.plot([0, 1], [0, 0], color=PALETTE["guard"], linestyle="--",
                              linewidth=1)
            # A fixed gap in points: at 0.05 of the axis the label touched the frame that
            # sat on the guard (lesson 07, call 20).
            text = ax.text(0, 0, f"stackguard0\n= lo + {STACK_GUARD}", va="center",
                           color=PALETTE["guard"], ha="right", fontsize=7,
                           transform=offset_copy(ax.transData, ax.figure, x=-GUARD_GAP,
                                                 units="points"))
            self.guard = (zone, line, text)
        # A label and a line with an arrowhead marker: an annotation's arrow cost more to
        # draw than the rest of the column.
        self.sp = ax.text(1.25, 0, "SP", va="center", fontsize=8, color=PALETTE["sp"])
        (self.sp_arrow,) = ax.plot([1.02, 1.22], [0, 0], color=PALETTE["sp"], linewidth=1,
                                   marker="<", markersize=4, markevery=[0])
        self.arrows: list[FancyArrowPatch] = []
        self.bp_arrows: list[FancyArrowPatch] = []
        ax.set_xlim(-0.9, 1.9)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)

    def update(self, snap: Snapshot, *, title: str | None = None,
               pointers: Sequence[Arrow] = (), span: int | None = None,
               bps: Sequence[Arrow] = ()) -> None:
        """``pointers`` arc right of the column; ``bps`` (saved frame pointers, see
        bp_links) arc left of it."""
        ax, size, used = self.ax, snap.size, snap.used
        self.free.set_height(size)
        reserve_top = snap.frames[0].e + 8 if snap.frames else snap.sp
        self.reserve.set_height(max(snap.hi - reserve_top, 0))
        names: list[str] = []
        rects, colors, labels = [], [], []
        n = len(snap.frames)
        for i, fr in enumerate(snap.frames):
            top, bottom = snap.hi - (fr.e + 8), snap.hi - fr.sp
            rects.append(Rectangle((0, top), 1, bottom - top))
            colors.append(_frame_color(fr.func, names))
            if i >= n - self.label_frames and bottom - top > size / 60:
                labels.append(((top + bottom) / 2, f"{fr.func} ({fr.frame})"))
        self.frames.set_paths(rects)
        self.frames.set_facecolor(colors or ["none"])
        self.frames.set_visible(bool(rects))
        for k, text in enumerate(self.labels):
            if k < len(labels):
                text.set_y(labels[k][0])
                text.set_text(labels[k][1])
            text.set_visible(k < len(labels))
        if self.guard is not None:
            g = size - STACK_GUARD
            zone, line, text = self.guard
            zone.set_y(g)
            line.set_ydata([g, g])
            text.set_y(g)
        self.sp.set_y(used)
        self.sp_arrow.set_ydata([used, used])
        while len(self.arrows) < len(pointers):
            self.arrows.append(ax.add_patch(_arrow(PALETTE["pointer"])))
        for k, arrow in enumerate(self.arrows):
            if k < len(pointers):
                arrow.set_positions((1.0, pointers[k][0]), (1.0, pointers[k][1]))
            arrow.set_visible(k < len(pointers))
        while len(self.bp_arrows) < len(bps):
            self.bp_arrows.append(ax.add_patch(_arrow(BP_COLOR, x=0.0, rad=0.5)))
        for k, arrow in enumerate(self.bp_arrows):
            if k < len(bps):
                arrow.set_positions((0.0, bps[k][0]), (0.0, bps[k][1]))
            arrow.set_visible(k < len(bps))
        ax.set_ylim(max(span or size, size), 0)  # hi at the top
        # Just "lo": "lo (131,072 B)" read as an address, and the size is in the title
        # (every caller's title gives it; "lo\n128 KiB stack" overran the figure's edge).
        ax.set_yticks([0, size], ["hi", "lo"])
        ax.spines["left"].set_bounds(0, size)  # the stack ends at lo, whatever the span
        ax.set_title(title or _("stack {size:,} B, used {used:,} B").format(size=size, used=used))


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
    pointers = ([(snap.hi - local.addr, snap.hi - target) for local, target in snap.pointers()]
                if show_pointers else [])
    StackArt(ax, show_guard=show_guard, label_frames=label_frames).update(
        snap, title=title, pointers=pointers)
    return ax


def draw_step_stack(snap: Snapshot, ax: Axes | None = None, *, pointer_frames: int = 3,
                    title: str | None = None, span: int | None = None) -> Axes:
    """A stack like ``draw_stack``, with pointer arrows only from the innermost
    ``pointer_frames`` frames (a deep recursion would be a thicket of arcs otherwise).
    ``span`` sets the height drawn (to put two stacks on one scale)."""
    ax = axes(ax)
    StackArt(ax, label_frames=4).update(snap, title=title, span=span,
                                        pointers=step_pointers(snap, pointer_frames))
    return ax


class MoveArt:
    """The old and the new stack side by side on one scale, aligned at hi; see draw_move.
    :meth:`update` redraws both for another step of a move, in place."""

    def __init__(self, axes_: Sequence[Axes]) -> None:
        a_old, a_new = self.axes = tuple(axes_)
        self.old, self.new = StackArt(a_old, label_frames=4), StackArt(a_new, label_frames=4)
        self.bars = [a.add_patch(Rectangle((-0.06, 0), 0.04, 0, facecolor=PALETTE["grow"],
                                           edgecolor="none", clip_on=False))
                     for a in (a_old, a_new)]
        self.memmove = a_new.add_artist(ConnectionPatch(
            xyA=(1.9, 0), coordsA=a_old.transData, xyB=(-0.9, 0), coordsB=a_new.transData,
            arrowstyle="->", color=PALETTE["grow"], linewidth=1.5, shrinkA=0, shrinkB=0))
        # Under the bytes in use, where no dangling arrow runs (each joins two slots in
        # use): above the arrow, lesson 05's dashed arrow struck the label through.
        self.memmove_text = a_old.text(1.9, 0, "", fontsize=7, va="top",
                                       color=PALETTE["grow"],
                                       transform=offset_copy(a_old.transData, a_old.figure,
                                                             y=-4, units="points"))
        self.freed = a_old.add_patch(Rectangle((0, 0), 1, 0, facecolor=PALETTE["reserve"],
                                               alpha=0.85, hatch="xx",
                                               edgecolor=PALETTE["edge"], zorder=3))
        self.freed_text = a_old.text(0.5, 0, "", ha="center", va="center", fontsize=8,
                                     zorder=4, bbox={"facecolor": "white", "edgecolor": "none",
                                                     "pad": 2})
        self.dangling: list[ConnectionPatch] = []

    def update(self, old: Snapshot, new: Snapshot, *, pointer_frames: int = 3,
               titles: tuple[str, str] | None = None, copied: bool = True,
               freed: str | None = None) -> None:
        a_old, a_new = self.axes
        span = max(old.size, new.size)
        t_old, t_new = titles or (None, None)
        self.old.update(old, title=t_old, span=span, pointers=step_pointers(old, pointer_frames))
        self.new.update(new, title=t_new, span=span, pointers=step_pointers(new, pointer_frames))
        used = new.used
        show = bool(copied and used)
        for bar in self.bars:
            bar.set_height(used)
            bar.set_visible(show)
        self.memmove.xy1, self.memmove.xy2 = (1.9, used / 2), (-0.9, used / 2)
        self.memmove.set_visible(show)
        self.memmove_text.set_y(used)
        self.memmove_text.set_text(f" memmove\n {used:,} B")
        self.memmove_text.set_visible(show)
        self.freed.set_height(old.size)
        self.freed.set_visible(freed is not None)
        self.freed_text.set_y(old.size * 0.75)
        self.freed_text.set_text(_("freed\n{freed}").format(freed=freed))
        self.freed_text.set_visible(freed is not None)
        ends = []  # the innermost frame's pointer slots still aimed at the old stack
        for fr in new.frames[-1:] if pointer_frames else ():
            ends += [((0.0, new.hi - lc.addr), (1.0, old.hi - lc.value)) for lc in fr.locals
                     if lc.kind.value == "pointer" and old.lo <= lc.value < old.hi]
        while len(self.dangling) < len(ends):
            self.dangling.append(a_new.add_artist(ConnectionPatch(
                xyA=(0, 0), coordsA=a_new.transData, xyB=(0, 0), coordsB=a_old.transData,
                arrowstyle="->", color=PALETTE["guard"], linestyle="--", linewidth=1,
                shrinkA=0, shrinkB=0)))
        for k, patch in enumerate(self.dangling):
            if k < len(ends):
                patch.xy1, patch.xy2 = ends[k]
            patch.set_visible(k < len(ends))
            patch.stale = True


def draw_move(old: Snapshot, new: Snapshot, axes: Sequence[Axes], *, pointer_frames: int = 3,
              titles: tuple[str, str] | None = None, copied: bool = True,
              freed: str | None = None) -> Sequence[Axes]:
    """The old and the new stack side by side on one scale, aligned at hi. Each stack's
    axis ends at its own lo: the smaller one's stops short of the scale.

    With ``copied`` the bytes in use are marked in both, with the memmove arrow; a pointer
    slot of the new stack's innermost frame that still holds an old-stack address is drawn
    as a dashed red arrow into the old stack. ``freed`` (e.g. the poison's bytes) greys
    the old stack out as freed memory, with that text.
    """
    from .. import i18n
    from .draw import adopt

    with i18n.figure_fonts():
        MoveArt([adopt(a) for a in axes]).update(old, new, pointer_frames=pointer_frames,
                                                 titles=titles, copied=copied, freed=freed)
    return axes
