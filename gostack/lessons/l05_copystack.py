"""Lesson 05, copystack: where the new stack comes from, what the copy moves, where stacks live.

Plain values only: :func:`alloc_path` (stackalloc's two paths, in words), :func:`slot_rows`
(every local before and after a move, described without printing addresses) and the
formatting lesson 05-07 share (:func:`fmt_delta`, :func:`word_bytes`). The step-by-step
view of a growth is ``gostack.lessons.recorder`` (the steps) and ``gostack.lessons.stepper``
(the stepper that shows them); :func:`draw_address_map` draws where each stack lived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from .. import arch, i18n
from ..arch import STACK_CACHE_SIZE
from ..i18n import N_, _
from ..runtime import Snapshot
from ..stackalloc import stack_order
from ..symtab import Kind
from ..trace import Grow, Shrink
from . import draw
from .draw import PALETTE


def alloc_path(size: int) -> str:
    """Which of stackalloc's two paths serves ``size``, in words."""
    order = stack_order(size)
    if order is not None:
        kib = size // 1024
        return _("small stack: order {order} ({kib} KiB) from the P's cache of {kib} KiB "
                 "stacks, refilled from the global pool of them (32 KiB spans cut in {parts})"
                 ).format(order=order, kib=kib, parts=STACK_CACHE_SIZE // size)
    pages = size // arch.PAGE_SIZE
    return _("large stack: a span of its own ({pages:,} pages of 8 KiB), from the free list "
             "of large stacks if one is there, else from the heap").format(pages=pages)


def fmt_delta(delta: int) -> str:
    """A delta with its sign and thousands separators: +32,768 or -131,072."""
    return f"{delta:+,}"


def word_bytes(value: int) -> str:
    """A word as its 8 bytes in memory order: `fc fc fc fc fc fc fc fc` for the old-stack poison."""
    return value.to_bytes(8, "little").hex(" ")


# ---------------------------------------------------------------------------------------
# Describing slots without printing addresses (lessons 05 and 06)
# ---------------------------------------------------------------------------------------


def local_at(snap: Snapshot, addr: int) -> str | None:
    """The local at ``addr`` as func#call.name, or None if no local lives there."""
    for fr in snap.frames:
        for lc in fr.locals:
            if lc.addr == addr:
                return f"{fr.func}#{fr.call_index}.{lc.name}"
    return None


def describe(value: int, snap: Snapshot, *, old: tuple[int, int] | None = None,
             heap: Sequence[int] = (), kind: Kind = Kind.POINTER,
             freed: Sequence[tuple[int, int]] = ()) -> str:
    """What a word holds, in words: `&main.worker#0.x`, `old stack hi-312`, `heap object`...

    ``snap`` is the stack the word is read in, ``old`` the bounds of the stack before a
    move (a value there dangles once the stack has moved), ``heap`` heap object addresses,
    ``freed`` the bounds of stacks freed by earlier moves.
    """
    if kind is Kind.SCALAR:
        return f"{value:,}"
    if value == 0:
        return "nil"
    if snap.lo <= value < snap.hi:
        name = local_at(snap, value)
        return f"&{name}" if name else f"hi-{snap.hi - value:,}"
    if old is not None and old[0] <= value < old[1]:
        return _("old stack hi-{offset:,}").format(offset=old[1] - value)
    for lo, hi in freed:
        if lo <= value < hi:
            return _("freed stack hi-{offset:,}").format(offset=hi - value)
    if value in heap:
        return _("heap object")
    if value in (arch.POISON_OLD, arch.POISON_NEW):
        return _("poison {bytes}").format(bytes=word_bytes(value))
    return _("another address")


@dataclass(frozen=True)
class SlotRow:
    """One local before and after a move."""

    frame: str
    local: str
    kind: Kind
    offset: int  # hi - address: the same before and after a move
    before: str
    after: str
    adjusted: bool


def slot_rows(before: Snapshot, after: Snapshot, grow: Grow | Shrink,
              heap: Sequence[int] = (), frames: Sequence[int] | None = None,
              freed: Sequence[tuple[int, int]] = ()) -> tuple[SlotRow, ...]:
    """Every local of the frames that existed before the move (or of ``frames``, indexes
    into them): what it held, what it holds, whether adjustpointers rewrote it (from the
    event's record). ``after`` may be the new stack at any point of the move; ``freed``:
    see describe."""
    moved = {(a.func, a.local, a.addr - grow.delta) for a in grow.adjusted}
    old = (grow.old_lo, grow.old_hi)
    pairs = list(zip(before.frames, after.frames, strict=False))
    if frames is not None:
        pairs = [pairs[i] for i in frames]
    rows = []
    for fb, fa in pairs:
        for lb, la in zip(fb.locals, fa.locals, strict=True):
            rows.append(SlotRow(
                f"{fb.func}#{fb.call_index}", lb.name, lb.kind, before.hi - lb.addr,
                describe(lb.value, before, heap=heap, kind=lb.kind, freed=freed),
                describe(la.value, after, old=old, heap=heap, kind=la.kind, freed=freed),
                (fb.func, lb.name, lb.addr) in moved,
            ))
    return tuple(rows)


# Headings the lessons pass to slot_table (translated where the table is made).
HEADINGS = (N_("before the move"), N_("after the move"), N_("old stack"),
            N_("new stack, just copied"), N_("before the last move"), N_("after it"))
KINDS = (N_("pointer"), N_("scalar"))  # symtab.Kind's values, shown in the tables


def slot_table(rows: Sequence[SlotRow], *, adjusted: bool = True,
               headings: tuple[str, str] = HEADINGS[:2]) -> str:
    """The rows as an aligned text table (offsets from hi, never addresses), its words in
    the language in use (columns padded by i18n.text_width: Hangul takes two)."""
    head = (_("slot"), _("kind"), _("at"), *map(_, headings)) + ((_("adjusted"),) if adjusted
                                                                   else ())
    body = [(f"{r.frame}.{r.local}", _(r.kind.value), f"hi-{r.offset:,}", r.before, r.after)
            + ((_("yes") if r.adjusted else _("no"),) if adjusted else ()) for r in rows]
    width = i18n.text_width
    widths = [max(width(x[i]) for x in (head, *body)) for i in range(len(head))]
    return "\n".join("  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths,
                                                                      strict=True)).rstrip()
                     for row in (head, *body))


def draw_address_map(moves: Sequence[Grow | Shrink], ax: Axes | None = None, *,
                     base: int | None = None) -> Axes:
    """Where each stack of a goroutine lived: one bar per stack at its addresses (offsets
    from ``base``, by default the lowest one), an arrow from each old hi to the new hi."""
    stacks = [(m.old_lo, m.old_hi) for m in moves] + [(moves[-1].new_lo, moves[-1].new_hi)]
    with i18n.figure_fonts():
        return _address_map(moves, stacks, draw.axes(ax, (6.4, 0.9 + 0.42 * len(stacks))), base)


def _address_map(moves, stacks, ax: Axes, base: int | None) -> Axes:
    base = min(lo for lo, _ in stacks) if base is None else base
    n = len(stacks)
    for i, (lo, hi) in enumerate(stacks):
        y = n - 1 - i
        live = i == n - 1
        ax.add_patch(Rectangle(((lo - base) / 1024, y - 0.3), (hi - lo) / 1024, 0.6,
                               facecolor=PALETTE["frame"][0] if live else PALETTE["reserve"],
                               edgecolor=PALETTE["edge"], linewidth=0.6))
        ax.text((hi - base) / 1024, y, f"  {(hi - lo) // 1024} KiB"
                + ("" if live else _(" (freed)")), va="center", fontsize=7)
    for i, m in enumerate(moves):
        y0, y1 = n - 1 - i, n - 2 - i
        ax.annotate("", xy=((m.new_hi - base) / 1024, y1 + 0.3),
                    xytext=((m.old_hi - base) / 1024, y0 - 0.3),
                    arrowprops={"arrowstyle": "->", "color": PALETTE["grow"] if m.delta >= 0
                                else PALETTE["shrink"], "linewidth": 1.2})
        ax.text((max(m.old_hi, m.new_hi) - base) / 1024, (y0 + y1) / 2,
                f"   delta {m.delta:+,}", fontsize=7, ha="left", va="center",
                color=PALETTE["grow"] if m.delta >= 0 else PALETTE["shrink"])
    right = max(hi for _, hi in stacks) - base
    ax.set_xlim(-right / 1024 * 0.02, right / 1024 * 1.25)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(_("address - lowest stack's lo (KiB)"))
    ax.set_title(_("each new stack is somewhere else: delta = new.hi - old.hi"))
    return ax



# ---- the lesson's printed lines (one source for both editions) ----------------------------

def copy_line(e: Grow) -> str:
    """``call 7: 2,048 -> 4,096 B, 1,096 B to copy``."""
    return _("call {call}: {old:,} -> {new:,} B, {used:,} B to copy").format(
        call=e.call_index, old=e.old_size, new=e.new_size, used=e.used)


def delta_line(e: Grow | Shrink) -> str:
    """``call 7: 2,048 -> 4,096 B, delta +40,960``."""
    return _("call {call}: {old:,} -> {new:,} B, delta {delta}").format(
        call=e.call_index, old=e.old_size, new=e.new_size, delta=fmt_delta(e.delta))


def delta_row(e: Grow | Shrink) -> str:
    """One move as a row of a column-aligned list."""
    return _("call {call:>3}: {old:>7,} -> {new:>7,} B   delta {delta:>9}").format(
        call=e.call_index, old=e.old_size, new=e.new_size, delta=fmt_delta(e.delta))


def probe_row(m) -> str:
    """One move of real Go's running example (realgo's move): its delta and how far the
    probe's pointer moved."""
    return _("call {call:>3}: {old:>7,} -> {new:>7,} B   delta {delta:>+12,}   the probe's "
             "pointer moved by {moved:>+12,}").format(call=m.call_index, old=m.old_size,
                                                      new=m.new_size, delta=m.delta,
                                                      moved=m.pointer_delta)


def probe_verdict(moves) -> str:
    return _("the pointer moved by delta at every move: {all}").format(
        all=all(m.pointer_delta == m.delta for m in moves))


def after_free_lines(rt, old: Snapshot, new: Snapshot) -> list[str]:
    """What the worker's x (its frame's first local) reads on the freed old stack and on
    the new one, and the new stack's word at lo, which nothing copied."""
    x_old, x_new = old.frames[0].locals[0], new.frames[0].locals[0]
    return [_("old stack, freed: the worker's x at hi-{at} reads {value}").format(
                at=old.hi - x_old.addr, value=word_bytes(rt.read(x_old.addr))),
            _("new stack:        the worker's x at hi-{at} reads {value}").format(
                at=new.hi - x_new.addr, value=rt.read(x_new.addr)),
            _("new stack:        the word at lo (never copied) reads {value}").format(
                value=word_bytes(rt.read(new.lo)))]
