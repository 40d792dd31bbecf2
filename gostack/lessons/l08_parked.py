"""Lesson 08, parked goroutines: the park depth the GC counts, the deferred shrink of a
goroutine in a system call, and the room an asynchronous preemption needs.

:func:`parked_run` runs the running example 400 calls deep, back to ``worker``, blocked
in one operation (``Goroutine.park``) while main calls runtime.GC(); :func:`deferred_shrink`
does the same in a system call, then preempts it; :func:`async_room` reads how far SP is
from ``lo``. Figures take those values; the recorded real-Go ladders come from
gostack/data/recorded.json ("scenes").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from .. import i18n
from ..arch import FIXED_STACK, PARK_DEPTH, STACK_NOSPLIT
from ..i18n import _
from ..runtime import Goroutine, Runtime
from ..symtab import Func
from . import draw
from .draw import PALETTE
from .l08_beyond import ShrinkRow, shrink_rows
from .running import RUNNING_FRAMES

# runtime.asyncPreemptStack (preempt.go init: funcMaxSPDelta of asyncPreempt 128,
# asyncPreempt2 24 and xRegRestore 48, plus 8 words), read from a go1.27.3 linux/amd64
# binary through a linkname; init throws "async stack too large" if it exceeds stackNosplit.
ASYNC_PREEMPT_STACK = 264

# The recorded go1.27.3 scenes that are this experiment (400 deep, back to the entry,
# blocked there, eight GCs from main), by blocking operation.
LADDER_SCENES = {"recv": "parked_shrink_ladder", "gosched": "gosched_ladder"}
OPS = ("recv", "select", "gosched")
OP_LABELS = {"recv": "v := <-c (recv)", "select": "select", "gosched": "runtime.Gosched()"}


@dataclass(frozen=True)
class ParkedRun:
    """One goroutine blocked in ``op`` while the GC runs ``len(rows)`` times."""

    op: str
    own: int  # hi - SP of the goroutine's own innermost frame
    park: int  # the park depth: the blocking call's runtime frames below it
    peak: int
    rows: tuple[ShrinkRow, ...]

    @property
    def used(self) -> int:
        """What the GC counts as in use: hi - gp.sched.sp."""
        return self.own + self.park

    @property
    def sizes(self) -> tuple[int, ...]:
        """The stack size after each GC."""
        return tuple(r.new_size or r.size for r in self.rows)

    @property
    def final(self) -> int:
        return self.sizes[-1] if self.rows else self.peak


@functools.lru_cache(maxsize=32)
def parked_run(op: str, calls: int = 400, stay: int = 0, gcs: int = 8) -> ParkedRun:
    """The running example ``calls`` deep, back to depth ``stay``, parked in ``op``; main
    calls runtime.GC() ``gcs`` times (Runtime.gc with no caller)."""
    rt = Runtime()
    g = rt.go(Func("main.worker", frame=RUNNING_FRAMES["main.worker"]))
    rec = Func("main.recA", frame=RUNNING_FRAMES["main.recA"])
    for _i in range(calls):
        g.call(rec)
    peak = g.stack_size
    for _i in range(calls - min(stay, calls)):
        g.ret()
    own = g.used
    g.park(op)
    for _i in range(gcs):
        rt.gc()
    return ParkedRun(op, own, PARK_DEPTH[op], peak, shrink_rows(g.trace))


def parked_runs(ops: Sequence[str] = OPS, **kw) -> tuple[ParkedRun, ...]:
    return tuple(parked_run(op, **kw) for op in ops)


def parked_table(runs: Sequence[ParkedRun]) -> str:
    w = i18n.text_width
    blocked, park, used = _("blocked in"), _("park depth"), _("in use")
    out = [blocked + " " * (20 - w(blocked)) + " " * (11 - w(park)) + park
           + " " * (8 - w(used)) + used + f"{' + 800':>7}   " + _("stops at")]
    for r in runs:
        out.append(f"{OP_LABELS[r.op]:<20}{r.park:>11,}{r.used:>8,}"
                   f"{r.used + STACK_NOSPLIT:>7,}   {r.final:>8,} B")
    return "\n".join(out)


def recorded_ladders(scenes: Mapping[str, Mapping]) -> dict[str, tuple[int, ...]]:
    """op -> the stack size after each GC, as go1.27.3 did it in the recorded scenes
    (``scenes``: recorded.json's "scenes"); a GC with no move kept the size."""
    out = {}
    for op, name in LADDER_SCENES.items():
        case = scenes[name]
        size = max(m[4] for m in case["moves"])  # the peak, reached before the first GC
        by_gc = {m[3]: m[4] for m in case["moves"] if m[1] == "main"}
        sizes = []
        for k in range(1, case["scene"]["steps"].count("gc") + 1):
            size = by_gc.get(k, size)
            sizes.append(size)
        out[op] = tuple(sizes)
    return out


def draw_parked(runs: Sequence[ParkedRun], real: Mapping[str, Sequence[int]],
                axes: Sequence[Axes]) -> Sequence[Axes]:
    """Left: what the GC counts for each operation (own frames, park depth, stackNosplit)
    against a quarter of 4 KiB and of 8 KiB. Right: the size after each GC, the
    simulator's line and go1.27.3's recorded points where there is a recorded scene."""
    with i18n.figure_fonts():
        _draw_parked(runs, real, *map(draw.adopt, axes))
    return axes


def _draw_parked(runs: Sequence[ParkedRun], real: Mapping[str, Sequence[int]], a: Axes,
                 b: Axes) -> None:
    colors = (PALETTE["frame"][0], PALETTE["guard"], PALETTE["frame"][3])
    ys = range(len(runs))
    for y, r in zip(ys, runs, strict=True):
        left = 0
        for part, color in zip((r.own, r.park, STACK_NOSPLIT), colors, strict=True):
            a.barh(y, part, left=left, color=color, height=0.6)
            left += part
        a.text(left + 20, y, f"{left:,}", va="center", fontsize=7)
    for size in (4096, 8192):
        a.axvline(size // 4, color=PALETTE["edge"], linestyle="--", linewidth=1)
        a.text(size // 4 + 20, -0.5, f"{size // 1024} KiB / 4", va="top", fontsize=7)
    a.set_yticks(list(ys), [OP_LABELS[r.op] for r in runs], fontsize=7)
    a.invert_yaxis()
    a.set_xlim(0, 3000)
    a.set_ylim(len(runs) - 0.3, -0.6)
    a.set_xlabel(_("bytes the GC counts (hi - gp.sched.sp + 800)"))
    a.legend([Patch(color=c) for c in colors],
             [_("own frames"), _("park depth"), f"stackNosplit {STACK_NOSPLIT}"],
             fontsize=7, frameon=False, loc="lower right")
    a.set_title(_("where the GC scans a parked goroutine"))
    for r, color, style in zip(runs, colors, ("-", "--", ":"), strict=True):
        xs = range(len(r.rows) + 1)
        b.step(xs, (r.peak, *r.sizes), where="post", color=color, linestyle=style,
               label=f"{OP_LABELS[r.op]}: {r.final // 1024} KiB")
        if r.op in real:
            b.plot(xs, (r.peak, *real[r.op]), "o", color=color, markersize=4,
                   markerfacecolor="none")
    b.plot([], [], "o", color=PALETTE["edge"], markerfacecolor="none", markersize=4,
           label=_("go1.27.3, recorded"))
    b.set_yscale("log", base=2)
    b.set_ylim(FIXED_STACK / 1.5, max(r.peak for r in runs) * 1.5)
    b.set_xlabel(_("GC cycles"))
    b.set_ylabel(_("stack size (bytes)"))
    b.set_title(_("one halving per GC, down to where each stops"))
    b.legend(fontsize=7, frameon=False, loc="upper right")


@dataclass(frozen=True)
class DeferredShrink:
    """A goroutine in a system call through ``gcs`` GCs, then preempted at a call."""

    used: int  # hi - gp.syscallsp at the scans
    sizes: tuple[int, ...]  # after each GC
    pending: bool  # gp.preemptShrink after them
    after_preempt: int
    shrink_used: int | None  # what newstack's shrinkstack counted as in use


def deferred_shrink(calls: int = 400, stay: int = 2, gcs: int = 2) -> DeferredShrink:
    """The running example ``calls`` deep, back to depth ``stay``, in read(2) during
    ``gcs`` GCs; then it returns, is preempted, and calls recA again."""
    rt = Runtime()
    g = rt.go(Func("main.worker", frame=RUNNING_FRAMES["main.worker"]))
    rec = Func("main.recA", frame=RUNNING_FRAMES["main.recA"])
    for _i in range(calls):
        g.call(rec)
    for _i in range(calls - min(stay, calls)):
        g.ret()
    g.park("syscall")
    sizes = []
    for _i in range(gcs):
        rt.gc()
        sizes.append(g.stack_size)
    pending = g.shrink_pending
    g.unpark()
    g.preempt()
    g.call(rec)
    shrinks = g.trace.shrinks
    used = [r.used for r in shrink_rows(g.trace)]
    return DeferredShrink(used[0] if used else g.used, tuple(sizes), pending, g.stack_size,
                          shrinks[-1].used if shrinks else None)


def deferred_lines(d: DeferredShrink) -> str:
    keeps = ", ".join(_("GC {gc} keeps {size:,} B").format(gc=k, size=size)
                      for k, size in enumerate(d.sizes, 1))
    after = (_("newstack halves it to {size:,} B ({used:,} B in use)").format(
                 size=d.after_preempt, used=d.shrink_used)
             if d.shrink_used is not None else
             _("it stays at {size:,} B").format(size=d.after_preempt))
    return "\n".join([_("in read(2): {used:,} B in use at each scan; {keeps}").format(
                          used=d.used, keeps=keeps),
                      f"gp.preemptShrink: {d.pending}",
                      _("back from read(2), preempted at its next call: {after}").format(
                          after=after)])


def async_room(g: Goroutine) -> int:
    """SP - lo where the goroutine stands: isAsyncSafePoint (preempt.go) refuses an
    asynchronous preemption when it is under asyncPreemptStack."""
    return g.sp - g.lo


def async_points(calls: int = 6, leaf: int = 720) -> tuple[tuple[str, int], ...]:
    """(where, SP - lo) in recA's body ``calls`` deep on the 2 KiB stack, and in a NOSPLIT
    function with a ``leaf``-byte frame that recA then calls."""
    g = Runtime().go(Func("main.worker", frame=RUNNING_FRAMES["main.worker"]))
    rec = Func("main.recA", frame=RUNNING_FRAMES["main.recA"])
    for _i in range(calls):
        g.call(rec)
    body = async_room(g)
    g.call(Func("main.leaf", frame=leaf, nosplit=True))
    return ((_("in recA's body, call {calls}").format(calls=calls), body),
            (_("in a NOSPLIT function of {leaf} B it calls").format(leaf=leaf), async_room(g)))


def async_table(points: Sequence[tuple[str, int]]) -> str:
    out = [_("asyncPreemptStack: {size} B (go1.27.3; at most stackNosplit, {nosplit})").format(
        size=ASYNC_PREEMPT_STACK, nosplit=STACK_NOSPLIT)]
    for where, room in points:
        verdict = (_("room") if room >= ASYNC_PREEMPT_STACK
                   else _("no room: isAsyncSafePoint says no"))
        pad = " " * (44 - i18n.text_width(where))
        out.append(f"{where}{pad} SP - lo = {room:>4,}   {verdict}")
    return "\n".join(out)
