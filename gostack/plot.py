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
    ax.text(1.03, size - STACK_GUARD, "guard\nlo + 928", color=PALETTE["guard"], va="top",
            fontsize=8)
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


# ---- lesson 02 ----


def draw_population(used: Sequence[int], ax: Axes | None = None, *,
                    title: str | None = None) -> Axes:
    """How many goroutines use how many bytes at their deepest point (two bins per
    doubling, log axis), with the guard line of a 2, 4 and 8 KiB stack: what each holds
    before it grows."""
    from .population import fmt_bytes

    ax = _ax(ax, (7.2, 3.0))
    k0, k1 = max(64, min(used)).bit_length() - 1, max(used).bit_length()
    bins = [2 ** (k / 2) for k in range(2 * k0, 2 * k1 + 1)]
    ax.hist(used, bins=bins, color=PALETTE["frame"][0], edgecolor="white", linewidth=0.5)
    ax.set_xscale("log", base=2)
    top = ax.get_ylim()[1] * 1.3
    ax.set_ylim(0, top)
    for size in (2048, 4096, 8192):
        x = size - STACK_GUARD
        ax.axvline(x, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.text(x * 1.05, top * 0.98, f"{fmt_bytes(size)} stack:\nguard at\n{x:,} B",
                color=PALETTE["guard"], fontsize=7, va="top")
    ticks = [2 ** k for k in range(k0, k1 + 1)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_bytes(t).replace(" ", "\u00a0") for t in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("bytes in use at the deepest point (hi − SP)")
    ax.set_ylabel("goroutines")
    ax.set_title(title or f"{len(used):,} goroutines (a model: log-normal bytes used)")
    return ax


def draw_stack_sizes(summaries: Sequence, ax: Axes | None = None, *,
                     title: str | None = None) -> Axes:
    """Goroutines per final stack size, one bar colour per policy (log scale: the tail shows)."""
    from .population import fmt_bytes

    ax = _ax(ax, (6.4, 3.0))
    sizes = sorted({s for summ in summaries for s, _ in summ.sizes})
    width = 0.8 / len(summaries)
    for i, summ in enumerate(summaries):
        counts = dict(summ.sizes)
        xs = [j + (i - (len(summaries) - 1) / 2) * width for j in range(len(sizes))]
        ax.bar(xs, [counts.get(s, 0) for s in sizes], width=width, label=summ.label,
               color=PALETTE["frame"][i % len(PALETTE["frame"])])
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([fmt_bytes(s) for s in sizes], fontsize=8)
    ax.set_xlabel("stack size at the deepest point")
    ax.set_ylabel("goroutines (log scale)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or "where the goroutines end up")
    return ax


def draw_policies(summaries: Sequence, axes: tuple[Axes, Axes] | None = None, *,
                  highlight=None) -> tuple[Axes, Axes]:
    """Two panels, one row per policy: resident memory split into used and waste (with the
    reserve when it is larger), and the growth work: copies or new segments, bytes copied.
    ``highlight`` (a Summary) is drawn as an extra row on top."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    from .population import fmt_bytes

    rows = list(summaries) + ([highlight] if highlight is not None else [])
    if axes is None:
        with plt.rc_context(STYLE):
            _, axes = plt.subplots(1, 2, figsize=(10.0, 0.45 * len(rows) + 1.4), sharey=True,
                                   width_ratios=(3, 2))
    mem, work = axes
    ys = list(range(len(rows)))
    mib = 1 << 20
    for y, s in zip(ys, rows, strict=True):
        edge = PALETTE["pointer"] if s is highlight else "none"
        mem.barh(y, s.used / mib, color=PALETTE["frame"][0], edgecolor=edge, linewidth=1.5)
        mem.barh(y, s.waste / mib, left=s.used / mib, color=PALETTE["guard_zone"],
                 edgecolor=edge, linewidth=1.5)
        note = fmt_bytes(s.resident)
        if s.reserved > s.resident:
            note += f"  (reserved {fmt_bytes(s.reserved)})"
        mem.text(s.resident / mib, y, "  " + note, va="center", fontsize=7)
        work.barh(y, s.moves, color=PALETTE["grow"], edgecolor=edge, linewidth=1.5)
        work.text(s.moves, y, f"  {s.moves:,} {s.move_kind}, {fmt_bytes(s.bytes_copied)} copied",
                  va="center", fontsize=7)
    labels = [s.label for s in rows]
    if highlight is not None:
        labels[-1] = "your choice: " + labels[-1]
    mem.set_yticks(ys)
    mem.set_yticklabels(labels, fontsize=8)
    if highlight is not None:
        mem.get_yticklabels()[-1].set_color(PALETTE["pointer"])
    mem.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    mem.set_xlim(0, max(s.resident for s in rows) / mib * 1.45)
    mem.set_xlabel("MiB (resident)")
    mem.set_title("memory: used (dark) and waste (light)")
    work.set_xlim(0, max(max(s.moves for s in rows), 1) * 2.3)
    work.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    work.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    work.set_xlabel("stack copies / new segments")
    work.set_title("growth work")
    n = rows[0].n
    mem.figure.suptitle(f"{n:,} goroutines, each at its deepest point", fontsize=10)
    return mem, work


# ---- lesson 01 ----

COST_COLORS = {"thread": PALETTE["grow"], "goroutine": PALETTE["ok"], "other": PALETTE["uintptr"]}
COST_NAMES = {"thread": "OS thread", "goroutine": "goroutine", "other": "Python generator"}


def _cost_ticks(unit: str, lo: float, hi: float) -> list[float]:
    """Round ticks from the last one at or below ``lo`` to the first one at or above ``hi``:
    powers of 32 bytes (32 B, 1 KiB, 32 KiB, ...), or powers of 10 ns."""
    base = 32.0 if unit == "bytes" else 10.0
    t = base if unit == "bytes" else 1.0
    while t * base <= lo:
        t *= base
    ticks = [t]
    while ticks[-1] < hi:
        ticks.append(ticks[-1] * base)
    return ticks


def draw_cost_comparison(panels: Sequence[tuple[str, str, Sequence]], axes=None, *,
                         title: str | None = None):
    """Horizontal bars on log axes, one panel per (title, unit, bars); unit is "bytes" or
    "ns". Each bar has ``label``, ``value`` and ``who`` ("thread", "goroutine", "other"),
    which picks the colour. Returns the list of Axes."""
    from matplotlib.ticker import FixedLocator, NullLocator

    from .oscost import fmt_bytes, fmt_ns

    if axes is None:
        with plt.rc_context(STYLE):
            fig, axes = plt.subplots(
                len(panels), 1, figsize=(7.6, 0.9 + 0.34 * sum(len(p[2]) for p in panels)),
                gridspec_kw={"height_ratios": [len(p[2]) for p in panels]})
        axes = [axes] if isinstance(axes, Axes) else list(axes)
    for ax, (name, unit, bars) in zip(axes, panels, strict=True):
        fmt = fmt_bytes if unit == "bytes" else fmt_ns
        ys = range(len(bars))
        values = [b.value for b in bars]
        ax.barh(list(ys), values, color=[COST_COLORS[b.who] for b in bars], height=0.65)
        ax.set_xscale("log")
        ticks = _cost_ticks(unit, min(values) / 2, max(values) * 10)
        ax.set_xlim(ticks[0], ticks[-1])
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(lambda v, _pos, fmt=fmt: fmt(v))
        ax.set_yticks(list(ys))
        ax.set_yticklabels([b.label for b in bars])
        ax.invert_yaxis()
        for y, b in zip(ys, bars, strict=True):
            ax.text(b.value * 1.12, y, fmt(b.value), va="center", fontsize=8)
        ax.set_title(name, loc="left")
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
    fig = axes[0].figure
    handles = [Rectangle((0, 0), 1, 1, color=COST_COLORS[k]) for k in COST_COLORS]
    fig.legend(handles, list(COST_NAMES.values()), loc="lower center", ncols=3, frameon=False,
               fontsize=8)
    top = 1.0
    if title:
        import textwrap

        text = textwrap.fill(title, 95)
        fig.suptitle(text, x=0.01, ha="left", fontsize=9)
        top -= 0.15 * (text.count("\n") + 1) / fig.get_figheight()  # ~0.15 in a line
    fig.tight_layout(rect=(0, 0.035, 1, top))
    return axes


# ---- lessons 04-08 ----


def _kib(n: float) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 1024 else f"{n:,.0f} B"


def draw_sizing(sizing, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """newstack's fit loop, one row per size it tries (an ``explore.Sizing``).

    Each row is a stack drawn from hi (left) to lo: the bytes in use that will be copied,
    then the frame + 928 that must fit below them. A row whose need runs past lo is red.
    """
    ax = _ax(ax, (4.2, 2.8))
    rows = sizing.candidates
    top = max(max(c.size for c in rows), max(c.used + c.needed for c in rows))
    for k, c in enumerate(rows):
        y = len(rows) - 1 - k
        over = sizing.overflow and k == len(rows) - 1
        ax.add_patch(Rectangle((0, y - 0.35), c.size, 0.7, facecolor=PALETTE["free"],
                               edgecolor=PALETTE["guard"] if over else PALETTE["edge"]))
        ax.add_patch(Rectangle((0, y - 0.35), c.used, 0.7, facecolor=PALETTE["frame"][0]))
        ok = c.fits and not over
        ax.add_patch(Rectangle((c.used, y - 0.25), max(c.needed, top * 0.006), 0.5, alpha=0.85,
                               facecolor=PALETTE["ok"] if ok else PALETTE["guard"],
                               hatch=None if ok else "//", edgecolor="white"))
        verdict = "over the limit" if over else ("fits" if c.fits else "too small")
        ax.text(max(c.size, c.used + c.needed) + top * 0.03, y, f"{c.size:,}: {verdict}",
                va="center", fontsize=8,
                color=PALETTE["ok"] if ok else PALETTE["guard"])
    if sizing.overflow:
        ax.axvline(sizing.limit, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.text(sizing.limit, len(rows) - 0.45, f"limit {sizing.limit:,}", ha="center",
                fontsize=7, color=PALETTE["guard"])
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.set_xlim(0, top * 1.6)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(MultipleLocator(1 << max(0, int(top * 1.6 / 3).bit_length() - 1)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _kib(v)))
    ax.set_xlabel("bytes below hi")
    ax.spines["left"].set_visible(False)
    ax.set_title(title or f"newstack: {sizing.used:,} B in use + frame {sizing.frame:,} + 928",
                 fontsize=9)
    handles = [Rectangle((0, 0), 1, 1, facecolor=PALETTE["frame"][0]),
               Rectangle((0, 0), 1, 1, facecolor=PALETTE["ok"])]
    ax.legend(handles, ["in use (copied)", "frame + 928"], fontsize=7, loc="lower right",
              frameon=False)
    return ax


def draw_amortised(cost, ax: Axes | None = None) -> Axes:
    """Stack size, bytes in use and bytes copied so far, after every call (an
    ``explore.CopyCost``): the copies never add up to the stack they built."""
    ax = _ax(ax, (6.0, 3.2))
    xs = cost.call
    kib = [s / 1024 for s in cost.size]
    ax.step(xs, kib, where="post", color=PALETTE["frame"][0], label="stack size")
    ax.step(xs, [c / 1024 for c in cost.copied], where="post", color=PALETTE["grow"],
            label="bytes copied so far (all growths)")
    ax.plot(xs, [u / 1024 for u in cost.in_use], color=PALETTE["uintptr"], linewidth=1,
            label="bytes in use")
    ax.set_xlabel("call index")
    ax.set_ylabel("KiB")
    ax.set_xlim(0, xs[-1])
    ax.set_ylim(0, max(kib) * 1.08)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_title(f"{cost.frame}-byte frames: {cost.total_copied:,} B copied in all, "
                 f"final stack {cost.final_size:,} B")
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
    from matplotlib.patches import ConnectionPatch

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


def draw_address_map(moves: Sequence[Grow | Shrink], ax: Axes | None = None, *,
                     base: int | None = None) -> Axes:
    """Where each stack of a goroutine lived: one bar per stack at its addresses (offsets
    from ``base``, by default the lowest one), an arrow from each old hi to the new hi."""
    stacks = [(m.old_lo, m.old_hi) for m in moves] + [(moves[-1].new_lo, moves[-1].new_hi)]
    ax = _ax(ax, (6.4, 0.9 + 0.42 * len(stacks)))
    base = min(lo for lo, _ in stacks) if base is None else base
    n = len(stacks)
    for i, (lo, hi) in enumerate(stacks):
        y = n - 1 - i
        live = i == n - 1
        ax.add_patch(Rectangle(((lo - base) / 1024, y - 0.3), (hi - lo) / 1024, 0.6,
                               facecolor=PALETTE["frame"][0] if live else PALETTE["reserve"],
                               edgecolor=PALETTE["edge"], linewidth=0.6))
        ax.text((hi - base) / 1024, y, f"  {(hi - lo) // 1024} KiB"
                + ("" if live else " (freed)"), va="center", fontsize=7)
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
    ax.set_xlabel("address - lowest stack's lo (KiB)")
    ax.set_title("each new stack is somewhere else: delta = new.hi - old.hi")
    return ax


def draw_stack_map(func, ax: Axes | None = None) -> Axes:
    """One frame word by word, SP at the bottom: its locals by kind, the saved BP and the
    return address above, and the stack map's bit for each word (1: a pointer)."""
    ax = _ax(ax, (3.4, 4.2))
    kinds = {lc.offset: lc for lc in func.locals}
    words = func.frame // 8
    colors = {"pointer": PALETTE["pointer"], "uintptr": PALETTE["uintptr"],
              "scalar": PALETTE["frame"][3]}
    for w in range(words + 1):
        off = 8 * w
        if w == words:
            label, color, bit = "return address", PALETTE["reserve"], ""
        elif w == words - 1:
            label, color, bit = "saved BP", PALETTE["reserve"], ""
        elif off in kinds:
            lc = kinds[off]
            label, color = f"{lc.name}  ({lc.kind.value})", colors[lc.kind.value]
            bit = "1" if lc.kind.value == "pointer" else "0"
        else:
            label, color, bit = "", PALETTE["free"], "0"
        ax.add_patch(Rectangle((0, w), 1, 1, facecolor=color, edgecolor=PALETTE["edge"],
                               linewidth=0.6))
        ax.text(0.5, w + 0.5, label, ha="center", va="center", fontsize=8)
        ax.text(-0.08, w + 0.5, f"SP+{off}", ha="right", va="center", fontsize=7)
        ax.text(1.15, w + 0.5, bit, ha="center", va="center", fontsize=9,
                fontweight="bold", color=PALETTE["pointer"] if bit == "1" else PALETTE["edge"])
    ax.text(1.15, words + 1.2, "map", ha="center", fontsize=8)
    ax.set_xlim(-0.7, 1.4)
    ax.set_ylim(0, words + 1.6)
    ax.axis("off")
    ax.set_title(f"{func.name}: frame {func.frame} B", fontsize=9)
    return ax


def draw_shrinks(rows, ax: Axes | None = None, *,
                 title: str = "shrinking at GC: at most one halving per cycle") -> Axes:
    """One GC per group (``explore.ShrinkRow``): the stack size when scanned, its quarter,
    and what was in use + 800; the stack halves only when that is under the quarter."""
    ax = _ax(ax, (6.0, 3.0))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r.size for r in rows], width=0.4, color=PALETTE["frame"][0],
           label="stack size when scanned")
    ax.bar([x + 0.2 for x in xs], [r.threshold for r in rows], width=0.4,
           color=PALETTE["frame"][3], label="size / 4")
    used = rows[0].used + 800 if rows else 0
    ax.axhline(used, color=PALETTE["guard"], linestyle="--", linewidth=1,
               label=f"in use + 800 = {used:,}")
    for x, r in zip(xs, rows, strict=True):
        ax.text(x, r.size, "halve" if r.new_size else "keep", ha="center", va="bottom",
                fontsize=7, color=PALETTE["ok"] if r.new_size else PALETTE["edge"])
    ax.set_yscale("log", base=2)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"GC {r.gc}" for r in rows])
    ax.set_ylabel("bytes")
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.set_title(title)
    return ax


def draw_hot_split(hs, axes: Sequence[Axes]) -> Sequence[Axes]:
    """Segmented (Go 1.2) against contiguous (go1.27) stacks (an ``explore.HotSplit``):
    stack switches for a loop run at each depth, and at the boundary as the loop runs."""
    a, b = axes
    xs = list(hs.depths)
    for dx, ys, color, label in ((-0.2, hs.segmented_splits, PALETTE["guard"],
                                  "segmented: morestack calls"),
                                 (0.2, hs.contiguous_grows, PALETTE["frame"][0],
                                  "contiguous: growths")):
        a.bar([x + dx for x in xs], ys, width=0.4, color=color, label=label)
        for x, y in zip(xs, ys, strict=True):
            a.text(x + dx, max(y, 0.6) * 1.15, f"{y:,}", ha="center", fontsize=6, color=color)
    a.set_yscale("log")
    a.set_ylim(0.5, max(hs.segmented_splits) * 4)
    a.set_xlabel("depth of the loop (frames already on the stack)")
    a.set_ylabel("count")
    a.set_title(f"{hs.iterations:,} calls in a loop, by depth")
    a.legend(fontsize=7, frameon=False, loc="upper left")
    a.set_xticks(xs)
    a.tick_params(axis="x", labelsize=7)
    ns = [n for n, _, _ in hs.by_iterations]
    b.plot(ns, [s for _, s, _ in hs.by_iterations], "o-", color=PALETTE["guard"],
           label="segmented, at the boundary")
    b.plot(ns, [c for _, _, c in hs.by_iterations], "o-", color=PALETTE["frame"][0],
           label="contiguous")
    b.set_xlabel("loop iterations")
    b.set_ylabel("stack switches / growths")
    b.set_title(f"at depth {hs.boundary}: the hot split")
    b.legend(fontsize=7, frameon=False, loc="upper left")
    return axes
