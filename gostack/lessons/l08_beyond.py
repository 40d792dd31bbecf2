"""Lesson 08, beyond growth: shrinking at GC, and the hot split that contiguous stacks ended.

:func:`shrink_run` runs the lesson's experiment (deep, back up, then runtime.GC() a few
times) and returns each GC's decision (:class:`ShrinkRow`); :func:`hot_split` compares Go
1.2's segmented stacks with contiguous ones around a segment boundary. Figures take those
values; :func:`shrink_explorer` wires four controls to both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import i18n
from .. import segmented as seg
from ..arch import FIXED_STACK, STACK_NOSPLIT
from ..i18n import N_, _
from ..runtime import Runtime
from ..symtab import Func
from ..trace import GC, Trace
from . import draw, view
from .draw import PALETTE, plural
from .running import RUNNING_FRAMES

# What shrinkstack compares with a quarter of the stack: the bytes in use plus stackNosplit
# (the 800 bytes the guard keeps for NOSPLIT functions). Not a number of calls.
NOSPLIT_LABEL = f"in use + {STACK_NOSPLIT} B (stackNosplit)"


def nosplit_label() -> str:
    """NOSPLIT_LABEL in the language in use."""
    return _("in use + {n} B (stackNosplit)").format(n=STACK_NOSPLIT)


@dataclass(frozen=True)
class ShrinkRow:
    gc: int
    size: int  # when scanned
    used: int  # in use where the goroutine is parked
    new_size: int | None

    @property
    def threshold(self) -> int:
        return self.size // 4


def shrink_rows(trace: Trace) -> tuple[ShrinkRow, ...]:
    """One row per GC scan of the goroutine: its size, what was in use, the new size."""
    shrinks = {e.gc: e for e in trace.shrinks}
    return tuple(ShrinkRow(e.gc, e.size, e.used, shrinks[e.gc].new_size if e.gc in shrinks
                           else None) for e in trace.of(GC))


def shrink_table(rows: Sequence[ShrinkRow]) -> str:
    """One line per GC; "in use + 800 B" counts stackNosplit's 800 bytes as in use."""
    out = [_("GC  size before  in use + {n} B  size / 4  shrinks to").format(n=STACK_NOSPLIT)]
    for r in rows:
        new = f"{r.new_size:,}" if r.new_size else "-"
        out.append(f"{r.gc:>2}  {r.size:>11,}  {r.used + STACK_NOSPLIT:>13,}  "
                   f"{r.threshold:>8,}  {new:>10}")
    return "\n".join(out)


@dataclass(frozen=True)
class ShrinkRun:
    """Lesson 08's experiment: a recursion ``calls`` deep, back to depth ``stay``, then
    ``gcs`` calls of runtime.GC() from there."""

    calls: int
    stay: int
    worker: int  # the worker's frame (40 in the running example; 56 stops a halving early)
    frame: int
    peak: int  # the stack size the recursion reached
    rows: tuple[ShrinkRow, ...]
    final: int

    @property
    def halvings(self) -> int:
        return sum(1 for r in self.rows if r.new_size)

    @property
    def counts(self) -> str:
        n, gcs = self.halvings, len(self.rows)
        return _("{halvings} in {gcs}").format(halvings=plural(n, "halving"),
                                               gcs=plural(gcs, "GC"))

    @property
    def title(self) -> str:
        return _("{calls} deep, back to depth {stay:,}: {counts}").format(
            calls=plural(self.calls, "call"), stay=self.stay, counts=self.counts)

    @property
    def stop(self) -> str:
        """Why the halving stopped: the first GC that kept the stack, and the rule it met."""
        r = next((r for r in self.rows if not r.new_size), None)
        if r is None:
            return _("every GC halved the stack: one more could halve it again")
        if r.size // 2 < FIXED_STACK:
            return _("GC {gc} keeps {size:,} B: 2 KiB is the floor").format(gc=r.gc, size=r.size)
        return _("GC {gc} keeps {size:,} B: {label} = {used:,} is not under {size:,} / 4 = "
                 "{quarter:,}").format(gc=r.gc, size=r.size, label=nosplit_label(),
                                       used=r.used + STACK_NOSPLIT, quarter=r.threshold)

    def lines(self) -> list[str]:
        """What the explorer shows beside the picture (the bars give each GC's numbers)."""
        used = self.rows[0].used if self.rows else 0
        grew = (_("{calls} of a {frame}-byte frame from a {worker}-byte worker: the stack "
                  "grew to {peak:,} B") if self.peak > FIXED_STACK else
                _("{calls} of a {frame}-byte frame from a {worker}-byte worker: the stack "
                  "stayed at {peak:,} B"))
        return [grew.format(calls=plural(self.calls, "call"), frame=self.frame,
                            worker=self.worker, peak=self.peak),
                _("back at depth {stay:,}, parked in runtime.GC: {used:,} B in use").format(
                    stay=self.stay, used=used),
                f"{self.counts}: {self.peak:,} → {self.final:,} B", self.stop]


@functools.lru_cache(maxsize=256)  # a widget revisits states; the value is frozen
def shrink_run(calls: int = 400, stay: int = 0, gcs: int = 8, *,
               worker: int = RUNNING_FRAMES["main.worker"],
               frame: int = RUNNING_FRAMES["main.recA"]) -> ShrinkRun:
    """Run the experiment on the simulator; ``stay`` is clipped to ``calls``."""
    stay = min(stay, calls)
    g = Runtime(trace=False).go(Func("main.worker", frame=worker))
    rec = Func("main.recA", frame=frame)
    for _i in range(calls):
        g.call(rec)
    peak = g.stack_size
    for _i in range(calls - stay):
        g.ret()
    for _i in range(gcs):
        g.runtime_gc()
    rows = shrink_rows(g.trace)
    # runtime.GC's own calls may grow the stack first (arch.GC_FIRST_CHECK): count that too.
    peak = max([peak, *(r.size for r in rows)])
    return ShrinkRun(calls, stay, worker, frame, peak, rows, g.stack_size)


@dataclass(frozen=True)
class HotSplit:
    """Costs of a loop calling one function right below a given depth."""

    frame: int
    args: int
    iterations: int
    boundary: int  # depth at which each loop call splits (segmented)
    depths: tuple[int, ...]
    segmented_splits: tuple[int, ...]  # morestack calls per depth
    segmented_copied: tuple[int, ...]  # argument bytes copied in and out
    contiguous_grows: tuple[int, ...]
    contiguous_copied: tuple[int, ...]
    # At the boundary depth, as the loop runs: (iterations, morestack calls, growths).
    by_iterations: tuple[tuple[int, int, int], ...]


def hot_split(frame: int = 160, args: int = 16, iterations: int = 1000,
              around: int = 6) -> HotSplit:
    """Go 1.2 segmented stacks against go1.27 contiguous ones, depth by depth around the
    segment boundary: a loop of ``iterations`` calls at each depth."""

    b = seg.boundary_depth(frame, args=args, loop_args=args)
    depths = tuple(range(max(1, b - around), b + around + 1))
    ss, sc, cg, cc = [], [], [], []
    for d in depths:
        ops = seg.hot_split_program([frame] * d, frame, iterations, loop_args=args)
        c = seg.compare_with_contiguous(ops)
        ss.append(c.segmented.morestack_calls)
        sc.append(c.segmented.arg_bytes_copied)
        cg.append(c.contiguous.grows)
        cc.append(c.contiguous.bytes_copied)
    curve = []
    for n in range(0, iterations + 1, max(1, iterations // 10)):
        c = seg.compare_with_contiguous(seg.hot_split_program([frame] * b, frame, n,
                                                              loop_args=args))
        curve.append((n, c.segmented.morestack_calls, c.contiguous.grows))
    return HotSplit(frame, args, iterations, b, depths, tuple(ss), tuple(sc), tuple(cg),
                    tuple(cc), tuple(curve))


class ShrinkArt:
    """draw_shrinks' artists on one Axes, updated in place for another run's rows: a
    widget redraws them for every state without rebuilding bars, legend or axes."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.sizes: list = []
        self.quarters: list = []
        self.marks: list = []
        self.used = ax.axhline(1, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.set_yscale("log", base=2)
        ax.set_ylabel(_("bytes"))
        self._grow(1)
        self.legend = ax.legend([self.sizes[0], self.quarters[0], self.used],
                                [_("stack size when scanned"), _("size / 4"), nosplit_label()],
                                fontsize=7, frameon=False, loc="upper right")

    def _grow(self, n: int) -> None:
        for x in range(len(self.sizes), n):
            self.sizes.append(self.ax.bar(x - 0.2, 1, width=0.4, color=PALETTE["frame"][0])[0])
            self.quarters.append(self.ax.bar(x + 0.2, 1, width=0.4,
                                             color=PALETTE["frame"][3])[0])
            self.marks.append(self.ax.text(x, 1, "", ha="center", va="bottom", fontsize=7))

    def update(self, rows: Sequence[ShrinkRow], title: str) -> None:
        ax, n = self.ax, len(rows)
        self._grow(n)
        for x, (size, quarter, mark) in enumerate(zip(self.sizes, self.quarters, self.marks,
                                                       strict=True)):
            shown = x < n
            for art in (size, quarter, mark):
                art.set_visible(shown)
            if shown:
                r = rows[x]
                size.set_height(r.size)
                quarter.set_height(r.threshold)
                mark.set_y(r.size)
                mark.set_text(_("halve") if r.new_size else _("keep"))
                mark.set_color(PALETTE["ok"] if r.new_size else PALETTE["edge"])
        used = rows[0].used + STACK_NOSPLIT if rows else 0
        self.used.set_ydata([used, used])
        self.used.set_visible(bool(rows))
        self.legend.get_texts()[2].set_text(f"{nosplit_label()} = {used:,}")
        low = min([used, *(r.threshold for r in rows)]) if rows else 512
        high = max((r.size for r in rows), default=4096)
        ax.set_ylim(low / 2, high * 6)  # room above the tallest bar for its mark and the legend
        ax.set_xlim(-0.6, max(n, 1) - 0.4)
        ax.set_xticks(range(n), [f"GC {r.gc}" for r in rows])
        ax.set_title(title)


def draw_shrinks(rows, ax: Axes | None = None, *,
                 title: str | None = None) -> Axes:
    """One GC per group (:class:`ShrinkRow`): the stack size when scanned, its quarter,
    and what was in use + 800 (stackNosplit); the stack halves only when that is under the
    quarter."""
    with i18n.figure_fonts():
        ax = draw.axes(ax, (6.0, 3.0))
        ShrinkArt(ax).update(rows, title or _("shrinking at GC: at most one halving per cycle"))
    return ax


def draw_hot_split(hs, axes: Sequence[Axes]) -> Sequence[Axes]:
    """Segmented (Go 1.2) against contiguous (go1.27) stacks (a :class:`HotSplit`):
    stack switches for a loop run at each depth, and at the boundary as the loop runs."""
    with i18n.figure_fonts():
        _hot_split(hs, *map(draw.adopt, axes))
    return axes


def _hot_split(hs, a: Axes, b: Axes) -> None:
    xs = list(hs.depths)
    for dx, ys, color, label in ((-0.2, hs.segmented_splits, PALETTE["guard"],
                                  _("segmented: morestack calls")),
                                 (0.2, hs.contiguous_grows, PALETTE["frame"][0],
                                  _("contiguous: growths"))):
        a.bar([x + dx for x in xs], ys, width=0.4, color=color, label=label)
        for x, y in zip(xs, ys, strict=True):
            a.text(x + dx, max(y, 0.6) * 1.15, f"{y:,}", ha="center", fontsize=6, color=color)
    a.set_yscale("log")
    a.set_ylim(0.5, max(hs.segmented_splits) * 4)
    a.set_xlabel(_("depth of the loop (frames already on the stack)"))
    a.set_ylabel(_("count"))
    a.set_title(_("{calls} in a loop, by depth").format(calls=plural(hs.iterations, "call")))
    a.legend(fontsize=7, frameon=False, loc="upper left")
    a.set_xticks(xs)
    a.tick_params(axis="x", labelsize=7)
    ns = [n for n, _s, _c in hs.by_iterations]
    b.plot(ns, [s for _n, s, _c in hs.by_iterations], "o-", color=PALETTE["guard"],
           label=_("segmented, at the boundary"))
    grows = hs.by_iterations[-1][2]  # all of them before the loop: the same at 0 iterations
    b.plot(ns, [c for _n, _s, c in hs.by_iterations], "o-", color=PALETTE["frame"][0],
           label=_("contiguous: {growths}, all before the loop").format(
               growths=plural(grows, "growth")))
    b.set_xlabel(_("loop iterations"))
    b.set_ylabel(_("stack switches / growths"))
    b.set_title(_("at depth {boundary}: the hot split").format(boundary=hs.boundary))
    b.legend(fontsize=7, frameon=False, loc="upper left")


class ShrinkPainter:
    """The figure of shrink runs: built once with a fixed layout, redrawn in place."""

    SIZE, RECT = (7.5, 3.2), (0.09, 0.1, 0.89, 0.8)

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self.art: ShrinkArt | None = None

    def __call__(self, run: ShrinkRun, fig: Figure | None = None) -> Figure:
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, self.SIZE)
                self.art = ShrinkArt(self.fig.add_axes(self.RECT))
            self.art.update(run.rows, run.title)
        return self.fig


def shrink_figure(run: ShrinkRun, fig: Figure | None = None) -> Figure:
    """The figure of a shrink run: draw_shrinks, titled with the run (a new figure; the
    explorer keeps a :class:`ShrinkPainter`)."""
    return ShrinkPainter()(run)


def show_shrinks(run: ShrinkRun) -> None:
    view.show(shrink_figure(run))


def shrink_explorer(calls: int = 400, stay: int = 0, gcs: int = 8):
    """How deep, back to which depth, the worker's frame and how many GCs in; each GC's
    decision out (the default state is shrink_run()'s)."""
    import ipywidgets as w

    deep = w.IntSlider(value=calls, min=0, max=2000, step=10, description=_("calls"),
                       continuous_update=False)

    def back_to(value: int, reached: int):
        # "back to" can only be a depth the recursion reached: its maximum is "calls".
        return w.IntSlider(value=min(value, reached), min=0, max=reached, step=10,
                           description=_("back to"), continuous_update=False)

    back = back_to(stay, calls)
    # The options give no answer away: which worker stops the halving early is a question.
    worker = w.Dropdown(options=[(_("40 (running example)"), 40), ("56", 56)],
                        value=RUNNING_FRAMES["main.worker"], description=_("worker"))
    cycles = w.IntSlider(value=gcs, min=1, max=12, description=_("GCs"), continuous_update=False)
    text = w.HTML()
    picture = view.Picture(ShrinkPainter())
    row = w.HBox([deep, back])

    ahead = view.Prefetch(picture)

    def state(key):
        return lambda: shrink_run(*key[:3], worker=key[3])

    def render(*_):
        calls, stay, n, frame = key = (deep.value, row.children[1].value, cycles.value,
                                       worker.value)
        picture.render(key, state(key))  # the picture first: text and picture change together
        text.value = view.pre(shrink_run(*key[:3], worker=frame).lines())
        picture.show(key, state(key))
        # The states one nudge away: each slider a step either way, the other worker.
        nexts = [(c, min(stay, c), n, frame) for c in (calls + 10, calls - 10)
                 if 0 <= c <= deep.max]
        nexts += [(calls, b, n, frame) for b in (stay + 10, stay - 10) if 0 <= b <= calls]
        nexts += [(calls, stay, g, frame) for g in (n + 1, n - 1)
                  if cycles.min <= g <= cycles.max]
        nexts += [(calls, stay, n, v) for _, v in worker.options if v != frame]
        ahead.after((k, state(k)) for k in nexts)

    def on_calls(change):
        # A new "back to" slider rather than a new max on the old one: the browser's slider
        # (noUiSlider) keeps its first range for the End and Home keys after its max changes,
        # so End would stop at the old "calls".
        old = row.children[1]
        new = back_to(old.value, change["new"])
        new.observe(view.serial(render), "value")
        row.children = (deep, new)
        old.close()
        render()

    deep.observe(view.serial(on_calls), "value")
    for wid in (back, worker, cycles):
        wid.observe(view.serial(render), "value")
    render()
    return view.box([row, [worker, cycles], text], picture)


# ---- the lesson's printed lines (one source for both editions) ----------------------------

def hot_split_lines(hs: HotSplit) -> list[str]:
    """Depth by depth around the segment boundary: morestack calls against growths."""
    out = [_("the first 8 KiB segment holds {n} frames: a loop at that depth splits every "
             "time").format(n=hs.boundary)]
    for d, s, c in zip(hs.depths, hs.segmented_splits, hs.contiguous_grows, strict=True):
        out.append(_("depth {d}: segmented {s:>5,} morestack calls   contiguous {c} "
                     "growths").format(d=d, s=s, c=c)
                   + (_("   <- the boundary") if d == hs.boundary else ""))
    return out


def at_boundary_lines(at) -> list[str]:
    """segmented.compare_with_contiguous's totals for the loop at the boundary."""
    s = at.segmented
    return [_("segmented:  {calls:,} morestack calls, {alloc:,} segments allocated and "
              "{freed:,} freed, {copied:,} argument bytes copied in and out").format(
                calls=s.morestack_calls, alloc=s.segments_allocated, freed=s.segments_freed,
                copied=s.arg_bytes_copied),
            _("contiguous: {grows} growths, {copied:,} bytes copied, all before the "
              "loop").format(grows=at.contiguous.grows, copied=at.contiguous.bytes_copied)]


#: golessons.adaptive_sizes' setups in words (the GODEBUG setting stays as it is).
SETUPS = {"default": N_("default"), "fresh G": N_("fresh G")}


def adaptive_rows(adaptive: dict, depths) -> list[str]:
    """Recorded start sizes: one row per setup, one column per parked depth."""
    head = _("parked depth D:")
    out = [head + " " * (22 - i18n.text_width(head)) + "".join(f"{d:>8}" for d in depths)]
    for setup, sizes in adaptive.items():
        name = _(SETUPS.get(setup, setup))
        out.append(name + " " * (22 - i18n.text_width(name))
                   + "".join(f"{sizes[str(d)]:>8,}" for d in depths))
    return out
