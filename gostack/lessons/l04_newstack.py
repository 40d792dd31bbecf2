"""Lesson 04, newstack: how big the new stack is, what a recursion's growths cost, the overflow.

Computations return frozen values (:class:`Sizing` is newstack's fit loop candidate by
candidate, :class:`GrowthRun` a recursion's growths, :class:`CopyCost` the bytes they
copied); the size itself always comes from ``gostack.newstack.new_size``. Figures take
those values; :func:`growth_explorer` wires three controls to both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from .. import arch, i18n, newstack
from ..arch import MAX_STACK_DEFAULT, STACK_GUARD
from ..errors import StackOverflow
from ..i18n import _, ngettext
from ..runtime import Runtime
from ..symtab import Func
from ..trace import Call, Grow, Overflow
from . import draw, view
from .draw import PALETTE, plural
from .l04_lines import overflow_lines  # noqa: F401  (the lesson's cell calls l04's)

# ---------------------------------------------------------------------------------------
# newstack's sizing
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One size newstack tries: does the frame plus the guard fit below the copied bytes?"""

    size: int
    used: int  # bytes that will be copied (hi - E of the function whose check failed)
    needed: int  # its frame + stackGuard (928)

    @property
    def room(self) -> int:
        """What is left below the copied bytes in a stack of this size."""
        return self.size - self.used

    @property
    def fits(self) -> bool:
        return self.room >= self.needed


@dataclass(frozen=True)
class Sizing:
    """newstack's decision for one failed check: the sizes it tried and the one it took."""

    old_size: int
    used: int
    frame: int
    limit: int
    candidates: tuple[Candidate, ...]  # 2*old, 4*old, ...: the last is the one taken
    new_size: int | None  # None: over the limit, `fatal error: stack overflow`

    @property
    def overflow(self) -> bool:
        return self.new_size is None

    @property
    def doublings(self) -> int:
        return len(self.candidates)

    def lines(self) -> list[str]:
        need = f"{self.frame:,} + {STACK_GUARD} = {self.frame + STACK_GUARD:,}"
        out = [_("old stack {old:,} B, {used:,} B in use; the frame needs {need} B below "
                 "them").format(old=self.old_size, used=self.used, need=need)]
        for c in self.candidates:
            verdict = _(">= needed: fits") if c.fits else _("< needed: double again")
            out.append(_("  try {size:>13,}: room {size:,} - {used:,} = {room:,} {verdict}")
                       .format(size=c.size, used=self.used, room=c.room, verdict=verdict))
        last = self.candidates[-1].size
        if self.new_size is None:
            out.append(_("  {last:,} > limit {limit:,}: ").format(last=last, limit=self.limit)
                       + f"runtime: goroutine stack exceeds {self.limit}-byte limit; "
                       "fatal error: stack overflow")
        else:
            times = ngettext("{n} doubling", "{n} doublings", self.doublings).format(
                n=self.doublings)
            out.append(_("new stack {size:,} B ({times} in one copy)").format(
                size=self.new_size, times=times))
        return out


def sizing(old_size: int, used: int, frame: int, limit: int = MAX_STACK_DEFAULT) -> Sizing:
    """The candidates of newstack's fit loop; the size taken comes from newstack.new_size."""
    try:
        final = newstack.new_size(old_size, used, frame, limit)
        taken: int | None = final
    except StackOverflow as e:
        final, taken = e.new_size or 2 * old_size, None
    candidates = []
    size = 2 * old_size
    while size <= final:
        candidates.append(Candidate(size, used, frame + STACK_GUARD))
        size *= 2
    return Sizing(old_size, used, frame, limit, tuple(candidates), taken)


def sizing_of(grow: Grow, limit: int = MAX_STACK_DEFAULT) -> Sizing:
    return sizing(grow.old_size, grow.used, grow.frame, limit)


def last_size_under(limit: int = MAX_STACK_DEFAULT) -> int:
    """The largest stack a goroutine can have under ``limit``: sizes are powers of two and
    growth fails when the new size is over the limit, so it is the power of two <= limit."""
    return 1 << (limit.bit_length() - 1)


# ---------------------------------------------------------------------------------------
# A recursion's growths and their cost
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthRun:
    """A goroutine (entry frame ``entry``) calling a ``frame``-byte function ``calls`` times."""

    frame: int
    calls: int
    entry: int
    limit: int
    grows: tuple[Grow, ...]
    overflow: Overflow | None
    calls_made: int  # calls that ran (fewer than ``calls`` after an overflow)
    size: int  # stack size at the end

    def lines(self) -> list[str]:
        head = _("{calls} of a {frame:,}-byte frame (entry frame {entry}, limit {limit:,} B): "
                 "{growths}").format(calls=plural(self.calls, "call"), frame=self.frame,
                                     entry=self.entry, limit=self.limit,
                                     growths=plural(len(self.grows), "growth"))
        out = [head]
        for e in self.grows:
            d = _(" ({n} doublings)").format(n=e.doublings) if e.doublings > 1 else ""
            out.append(_("  call {call:>6,}: {old:>11,} -> {new:>11,} B{d}, {copied:,} B copied")
                       .format(call=e.call_index, old=e.old_size, new=e.new_size, d=d,
                               copied=e.used))
        if self.overflow is not None:
            o = self.overflow
            out.append(_("  call {call:>6,}: {old:,} -> {new:,} B is over the limit: ").format(
                call=o.call_index, old=o.old_size, new=o.new_size) + "fatal error: stack overflow")
        return out


@functools.lru_cache(maxsize=256)  # a widget revisits states; the value is frozen
def growth_run(frame: int = 160, calls: int = 400, *, entry: int = 40,
               limit: int = MAX_STACK_DEFAULT) -> GrowthRun:
    """Run the recursion on the simulator; an overflow ends it (it is in ``overflow``)."""
    g = Runtime(max_stack=limit, trace=False).go(Func("main.worker", frame=entry))
    rec = Func("main.rec", frame=frame)
    try:
        for _ in range(calls):
            g.call(rec)
    except StackOverflow:
        pass
    t = g.trace
    made = t.overflow.call_index - 1 if t.overflow else g.calls - 1  # the entry is call 0
    return GrowthRun(frame, calls, entry, limit, t.grows, t.overflow, made, g.stack_size)


@dataclass(frozen=True)
class CopyCost:
    """After each call of a recursion: stack size, bytes in use, bytes copied so far."""

    frame: int
    call: tuple[int, ...]  # call index 0..n
    size: tuple[int, ...]
    in_use: tuple[int, ...]  # hi - SP once the call's frame is allocated
    copied: tuple[int, ...]  # bytes copystack moved in all growths up to this call

    @property
    def final_size(self) -> int:
        return self.size[-1]

    @property
    def total_copied(self) -> int:
        return self.copied[-1]

    @property
    def per_call(self) -> float:
        """Bytes copied per call, amortised over the whole recursion."""
        return self.total_copied / max(1, self.call[-1])


def copy_cost(frame: int = 160, calls: int = 400, *, entry: int = 40) -> CopyCost:
    """Trace a recursion and add up, call by call, the bytes its growths copied."""
    g = Runtime().go(Func("main.worker", frame=entry))
    rec = Func("main.rec", frame=frame)
    for _call in range(calls):
        g.call(rec)
    idx, size, in_use, copied = [], [], [], []
    cur, total = arch.STACK_MIN, 0
    for e in g.trace:
        if isinstance(e, Grow):
            cur, total = e.new_size, total + e.used
        elif isinstance(e, Call):
            idx.append(e.call_index)
            size.append(cur)
            in_use.append(e.used + e.frame)
            copied.append(total)
    return CopyCost(frame, tuple(idx), tuple(size), tuple(in_use), tuple(copied))


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def _kib(n: float) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 1024 else f"{n:,.0f} B"


def draw_sizing(sizing, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """newstack's fit loop, one row per size it tries (a :class:`Sizing`).

    Each row is a stack drawn from hi (left) to lo: the bytes in use that will be copied,
    then the frame + 928 that must fit below them. A row whose need runs past lo is red.
    """
    with i18n.figure_fonts():
        return _draw_sizing(sizing, draw.axes(ax, (4.2, 2.8)), title)


def _draw_sizing(sizing, ax: Axes, title: str | None) -> Axes:
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
        verdict = _("over the limit") if over else (_("fits") if c.fits else _("too small"))
        ax.text(max(c.size, c.used + c.needed) + top * 0.03, y, f"{c.size:,}: {verdict}",
                va="center", fontsize=8,
                color=PALETTE["ok"] if ok else PALETTE["guard"])
    if sizing.overflow:
        ax.axvline(sizing.limit, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.text(sizing.limit, len(rows) - 0.45, _("limit {limit:,}").format(limit=sizing.limit),
                ha="center", fontsize=7, color=PALETTE["guard"])
    ax.set_xlim(0, top * 1.6)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(MultipleLocator(1 << max(0, int(top * 1.6 / 3).bit_length() - 1)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _kib(v)))
    ax.set_xlabel(_("bytes below hi"))
    ax.spines["left"].set_visible(False)
    ax.set_title(title or _("newstack: {used:,} B in use + frame {frame:,} + 928").format(
                     used=sizing.used, frame=sizing.frame),
                 fontsize=9)
    handles = [Rectangle((0, 0), 1, 1, facecolor=PALETTE["frame"][0]),
               Rectangle((0, 0), 1, 1, facecolor=PALETTE["ok"]),
               Rectangle((0, 0), 1, 1, facecolor=PALETTE["guard"], hatch="//", alpha=0.85,
                         edgecolor="white")]
    # Below the axis: inside, a 65,536-byte frame's last row ("131,072: fits") sat under it.
    # Every kind of bar drawn has its entry: the red, hatched "too small" ones too.
    ax.legend(handles, [_("in use (copied)"), _("frame + 928: fits"),
                        _("frame + 928: too small")],
              fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3,
              frameon=False, handlelength=1.5, columnspacing=1.0)
    return ax


def draw_amortised(cost, ax: Axes | None = None) -> Axes:
    """Stack size, bytes in use and bytes copied so far, after every call (an
    :class:`CopyCost`): the copies never add up to the stack they built."""
    with i18n.figure_fonts():
        return _draw_amortised(cost, draw.axes(ax, (6.0, 3.2)))


def _draw_amortised(cost, ax: Axes) -> Axes:
    xs = cost.call
    kib = [s / 1024 for s in cost.size]
    ax.step(xs, kib, where="post", color=PALETTE["frame"][0], label=_("stack size"))
    ax.step(xs, [c / 1024 for c in cost.copied], where="post", color=PALETTE["grow"],
            label=_("bytes copied so far (all growths)"))
    ax.plot(xs, [u / 1024 for u in cost.in_use], color=PALETTE["uintptr"], linewidth=1,
            label=_("bytes in use"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(_("call index"))
    ax.set_ylabel("KiB")
    ax.set_xlim(0, xs[-1])
    ax.set_ylim(0, max(kib) * 1.08)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_title(_("{frame}-byte frames: {copied:,} B copied in all, final stack {size:,} B")
                 .format(frame=cost.frame, copied=cost.total_copied, size=cost.final_size))
    return ax


def featured_growth(run: GrowthRun) -> Grow | Overflow | None:
    """The growth a picture should explain: the overflow, else the one with the most
    doublings (the earliest), else the last one."""
    if run.overflow is not None:
        return run.overflow
    if not run.grows:
        return None
    most = max(e.doublings for e in run.grows)
    if most > 1:
        return next(e for e in run.grows if e.doublings == most)
    return run.grows[-1]


def _sizing_key(run: GrowthRun):
    """What the fit-loop panel shows for ``run`` (equal keys, equal panels)."""
    ev = featured_growth(run)
    if ev is None:
        return None
    return (ev.call_index, ev.old_size, ev.used, run.frame, run.limit)


def _draw_fit_loop(run: GrowthRun, ax: Axes) -> None:
    ev = featured_growth(run)
    if ev is None:
        ax.axis("off")
        ax.text(0.5, 0.5, _("no growth yet"), ha="center", va="center")
        return
    siz = sizing(ev.old_size, ev.used, run.frame, run.limit)
    draw_sizing(siz, ax, title=_("call {call:,}: {used:,} B in use + frame {frame:,} + 928")
                .format(call=ev.call_index, used=ev.used, frame=run.frame))


class _Growth:
    """growth_figure's artists: the growth chart, updated in place, and the fit loop of the
    featured growth, drawn again only when that growth changes."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.a, self.b = fig.subplots(1, 2, width_ratios=(3, 2))
        self.chart = draw.GrowthChart(self.a)
        # Calls on a log scale (linear from 0 to 1): growths come after about twice as many
        # calls each time, so they stand evenly spaced; on a linear axis a 65,536-byte
        # frame's 1, 2, 4, 8, 16, 32 crowded into a column against the y axis.
        self.a.set_xscale("symlog", linthresh=1, linscale=0.4)
        self.a.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        self.a.set_xlabel(_("call index (log scale)"))
        self.fit = object()  # the fit loop's key: none drawn yet

    def update(self, run: GrowthRun) -> None:
        self.chart.update(run.grows, calls=max(run.calls, 1),
                          title=_("{frame:,}-byte frames: {growths}").format(
                              frame=run.frame, growths=plural(len(run.grows), "growth"))
                          + (_(" then overflow") if run.overflow else ""))
        key = _sizing_key(run)
        if key != self.fit:
            self.b.cla()
            self.b.axis("on")
            _draw_fit_loop(run, self.b)
            self.fit = key


# Laid out once for a state with a long fit-loop title and big call indexes.
_LAYOUT_RUN = dict(frame=10272, calls=2000, entry=40, limit=MAX_STACK_DEFAULT)


def growth_figure(run: GrowthRun, fig: Figure | None = None) -> Figure:
    """The figure show_growth displays; a widget's figure (``fig``) is updated in place:
    the chart's artists move, the fit loop is drawn again only for another growth, and
    the canvas redraws only the half that changed (draw.Panels)."""
    with draw.styled():
        art = draw.kept(fig, "growth", None)
        if art is None:
            fig = draw.canvas(fig, (9.5, 3.4))
            art = draw.keep(fig, "growth", None, _Growth(fig))
            art.update(growth_run(_LAYOUT_RUN["frame"], _LAYOUT_RUN["calls"],
                                  entry=_LAYOUT_RUN["entry"], limit=_LAYOUT_RUN["limit"]))
            draw.fix_layout(fig)
            split = (art.a.get_position().x1 + art.b.get_position().x0) / 2
            art.panels = draw.panels(fig, [([art.a], 0.0, split), ([art.b], split, 1.0)])
        art.update(run)
        art.panels.set_keys([(run.frame, run.calls, run.entry, run.limit), art.fit])
    return fig


def explorer_lines(run: GrowthRun) -> list[str]:
    """The explorer's readout: what the lesson's table of growths (run.lines(), printed
    above the explorer) does not give: the first growth, and the numbers of the fit loop
    the picture's right half draws."""
    out = [run.lines()[0]]
    if run.grows:
        e = run.grows[0]
        d = _(", {n} doublings").format(n=e.doublings) if e.doublings > 1 else ""
        out.append(_("first growth: call {call:,}, {old:,} -> {new:,} B{d}").format(
            call=e.call_index, old=e.old_size, new=e.new_size, d=d))
    ev = featured_growth(run)
    if ev is None:
        out.append(_("no growth: the stack stays at {size:,} B").format(size=run.size))
        return out
    what = _(", the overflow") if isinstance(ev, Overflow) else ""
    out.append(_("on the right, newstack's fit loop at call {call:,}{what}:").format(
        call=ev.call_index, what=what))
    out += ["  " + line for line in sizing(ev.old_size, ev.used, run.frame, run.limit).lines()]
    return out


def show_growth(run: GrowthRun) -> None:
    """The stack size staircase of a growth run, and newstack's candidates for its
    featured growth (see featured_growth)."""
    view.show(growth_figure(run))


def growth_explorer(frame: int = 160, calls: int = 400, *, entry: int = 40):
    """Frame size, number of calls and limit in; the growth events and the fit loop out."""
    import ipywidgets as w

    size = w.Dropdown(options=sorted({64, 160, 616, 4096, 10272, 65536, frame}), value=frame,
                      description=_("frame"))
    depth = w.IntSlider(value=calls, min=0, max=2000, step=10, description=_("calls"),
                        continuous_update=False)
    limit = w.Dropdown(options=[(_("1,000,000,000 (default)"), MAX_STACK_DEFAULT),
                                (_("32,768 (SetMaxStack)"), 32768),
                                ("1 MiB", 1 << 20)], value=MAX_STACK_DEFAULT,
                       description=_("limit"))
    text = w.HTML()
    picture = view.Picture(growth_figure)
    ahead = view.Prefetch(picture)  # the slider's neighbours, drawn while the kernel is idle

    def render(*_):
        args = (size.value, depth.value, entry, limit.value)
        run = growth_run(args[0], args[1], entry=entry, limit=args[3])
        picture.show(args, lambda: run)  # then the text: both change at once
        text.value = view.pre(explorer_lines(run))
        ahead.after(((args[0], c, entry, args[3]),
                     functools.partial(growth_run, args[0], c, entry=entry, limit=args[3]))
                    for c in (args[1] + depth.step, args[1] - depth.step)
                    if depth.min <= c <= depth.max)

    for wid in (size, depth, limit):
        wid.observe(view.serial(render), "value")
    render()
    return view.box([[size, depth, limit], text], picture)
