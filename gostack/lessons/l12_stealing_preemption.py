"""Lesson 12, many Ps: spinning Ms and ``wakep``, work stealing (``stealWork``,
``runqsteal``), and preemption by sysmon (``retake``, ``preemptone``: ``stackguard0``
and, since Go 1.14, a signal).

The runs drawn are ``gostack.sched.procs``'s seeded simulation, recorded per P by
``gostack.sched.timeline`` (one trace: the figure, the explorer and the tests read it);
the claims are ``gostack.sched.stats``'s, with how often each held in the 20 recorded
real runs per configuration (gostack/data/sched_stats_recorded.json).
:func:`timeline_run` is one state (a workload, a seed); :func:`timeline_explorer` wires
two controls to it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import i18n
from ..i18n import N_, _, ngettext
from ..sched import preemptprobe, procs, stats, timeline
from ..sched.runq import queued, runqput, runqsteal
from ..sched.runtime2 import G, World
from ..sched.steal import RandomOrder
from . import draw, view
from .draw import PALETTE

#: The explorer's workloads: statprobe's programs, calibrated from the recording (the
#: spin ones with 100 goroutines instead of 1,000, so that one slice is wide enough to see).
#: (configuration, n, GOMAXPROCS); the loop on 2 Ps is the recorded 1-P one with a second P.
WORKLOADS: dict[str, tuple[str, int, int]] = {
    N_("100 goroutines of ~33 µs, 4 Ps"): ("spin_p4_w20000", 100, 4),
    N_("100 goroutines of ~33 µs, 2 Ps"): ("spin_p2_w20000", 100, 2),
    N_("a 20 ms loop without calls, 1 P"): ("hog_p1_n20", 20, 1),
    N_("the same, GODEBUG=asyncpreemptoff=1"): ("hog_p1_n20_asyncoff", 20, 1),
    N_("a 20 ms loop without calls, 2 Ps"): ("hog_p1_n20", 20, 2),
}
SEEDS = range(10)
MAIN, RUNTIME_G = 1, 2  # main.main's goid; runtime.main's last goroutine (the GOMAXPROCS updater)
SLICE_COLORS = ("#4C72B0", "#8FB0DA")  # alternate, so neighbouring slices stay apart


def workload(name: str) -> procs.Workload:
    config, n, procs_ = WORKLOADS[name]
    return replace(stats.workload(config), n=n, gomaxprocs=procs_)


def hog_goid(tl: timeline.Timeline) -> int | None:
    """The loop without calls: spawned last, so it has the largest goid."""
    wl = tl.outcome.workload
    return wl.n + 3 if wl.mode == "hog" else None  # goids 3..n+2 first, the loop n+3


# ---- stealing, by hand: stealOrder and half of a ring ------------------------------------

def steal_orders(count: int = 4, starts: Sequence[int] = range(8)) -> list[str]:
    """``stealOrder.start(i)`` for a few ``i`` (proc.go ``randomOrder``): where each
    enumeration begins, its step (a number coprime with ``count``), the Ps it visits."""
    order = RandomOrder.reset(count)
    out = [_("{count} Ps: steps coprime with {count}: {steps}").format(
        count=count, steps=", ".join(map(str, order.coprimes)))]
    for i in starts:
        inc = order.coprimes[i // count % len(order.coprimes)]
        ps = " ".join(f"P{p}" for p in order.start(i))
        out.append(f"start({i}): " + _("first P{p}, step {inc}: {ps}").format(
            p=i % count, inc=inc, ps=ps))
    return out


@dataclass(frozen=True)
class Grab:
    """One ``runqsteal`` from a victim with ``ring`` Gs in its ring and ``runnext``."""

    ring: int
    runnext: bool
    last_pass: bool
    taken: int  # Gs that came over (the one to run included)
    took_runnext: bool
    left: int  # Gs left in the victim's ring (its runnext not counted)

    def line(self) -> str:
        nxt = " + runnext" if self.runnext else ""
        when = _("last pass") if self.last_pass else _("passes 1-3")
        what = (_("its runnext") if self.took_runnext
                else _("{n} from the ring's head").format(n=self.taken))
        return (_("victim ring {ring:>2}").format(ring=self.ring) + f"{nxt:<10} ({when}): "
                + _("the thief takes {what}; {left} left in the ring").format(
                    what=what if self.taken else _("nothing"), left=self.left))


def grab(ring: int, runnext: bool = True, last_pass: bool = False) -> Grab:
    """Build a victim P with ``ring`` queued Gs (and a runnext) and let P1 steal from it
    with gostack.sched.runq.runqsteal."""
    w = World.new(2)
    victim, thief = w.allp
    for i in range(ring):
        runqput(w, victim, G(10 + i, "main.f", i), False)
    if runnext:
        victim.runnext = G(9, "main.f", -1)
    before = victim.runnext
    gp = runqsteal(thief, victim, last_pass)
    taken = 0 if gp is None else 1 + len(queued(thief))
    took_next = gp is not None and gp is before
    return Grab(ring, runnext, last_pass, taken, took_next, len(victim.local()))


def grab_table() -> list[str]:
    return [grab(n, nxt, last).line()
            for n, nxt, last in ((7, True, False), (8, True, False), (1, True, False),
                                 (0, True, False), (0, True, True))]


# ---- the claims: how often each held in the recorded real runs -----------------------------

#: stats.CLAIMS this lesson makes, in the order it makes them.
CLAIMS: tuple[str, ...] = ("every_p_ran_p4", "four_threads_ran_them_p4", "spin_no_new_threads",
                           "stolen_share_p4", "stolen_share_p2", "short_work_every_p",
                           "hog_preempted", "hog_asyncpreemptoff")
#: stats.MEDIANS it quotes.
MEDIANS: tuple[str, ...] = ("share_off_main_p4", "hog_preempt_delay_ms")


def claim_rows(names: Sequence[str] = CLAIMS,
               seeds: range = range(100)) -> tuple[stats.ClaimRow, ...]:
    return stats.claim_rows(names, seeds)


def median_lines(seeds: range = range(60)) -> list[str]:
    chosen = [m for n in MEDIANS for m in stats.MEDIANS if m.name == n]
    return [_("median real {real:.3g}, simulator {model:.3g} ({nr} and {nm} runs): ").format(
                real=r, model=m, nr=nr, nm=nm) + _(md.text)
            for md, r, m, nr, nm in stats.compare_medians(chosen, seeds=seeds)]


# ---- one state: a workload and a seed ------------------------------------------------------

@dataclass(frozen=True)
class TimelineState:
    name: str
    seed: int
    tl: timeline.Timeline

    @property
    def title(self) -> str:
        return _("{name}, seed {seed}").format(name=_(self.name), seed=self.seed)

    def lines(self) -> list[str]:
        tl, o = self.tl, self.tl.outcome
        per_p = ", ".join(f"P{p} {n}" for p, n in sorted(o.per_p.items()))
        out = [self.title,
               _("done after {ms:.2f} ms; goroutines started per P: {per_p}").format(
                   ms=tl.end / 1e6, per_p=per_p),
               # counted per call: the same idle P can be woken for more than once
               (ngettext("wakep started a spinning M {n} time", "wakep started a spinning "
                         "M {n} times", len(tl.spinning_starts)).format(
                   n=len(tl.spinning_starts)) if tl.spinning_starts
                else _("wakep started no spinning M")) + "; "
               + draw.plural(len(tl.steals), "steal")
               + (_(", the first 3:") if len(tl.steals) > 3 else "")]
        for a in tl.steals[:3]:
            s = a.what
            what = (_("P{victim}'s runnext") if s.runnext
                    else _("{n} of P{victim}'s ring")).format(n=s.n, victim=s.victim)
            out.append(f"  {a.t / 1e6:.3f} ms: " + _(
                "P{thief} steals {what} (after looking at {tries})").format(
                thief=s.thief, what=what, tries=draw.plural(s.tries, "victim")))
        if tl.outcome.workload.gomaxprocs == 1:  # nothing left for the seed to draw
            out.append(_("one P: no M wakes and none steals, so every seed gives this run "
                         "(the seed draws only wake-up latencies and steal orders)"))
        for a in tl.preempts:
            e = a.what
            out.append(f"{a.t / 1e6:.2f} ms: " + _(
                "sysmon preempts G{g} on P{p}, {ms:.1f} ms on one schedtick: {how}").format(
                g=procs.runtime_goid(e.goid), p=e.p, ms=e.ran_ns / 1e6, how=how_text(e.how)))
        hog = hog_goid(tl)
        if hog:
            cut = [s for s in tl.of(hog) if s.ended == "runnable"]
            g = procs.runtime_goid(hog)  # as real Go numbers it: the runtime's own first
            out.append(_("G{g}, the loop, stopped at {ms:.2f} ms by the signal").format(
                g=g, ms=cut[0].end / 1e6) if cut else _(
                "G{g}, the loop, ran to its end at {ms:.2f} ms: nothing stopped it").format(
                g=g, ms=tl.of(hog)[-1].end / 1e6))
        return out


def how_text(how: str) -> str:
    """sysmon's request, ``stackguard0`` or ``stackguard0+signal``, with its word translated."""
    return "+".join(_(N_("signal")) if part == "signal" else part for part in how.split("+"))


@functools.lru_cache(maxsize=64)  # a widget revisits states; the value is frozen
def timeline_run(name: str = "100 goroutines of ~33 µs, 4 Ps", seed: int = 0) -> TimelineState:
    if name not in WORKLOADS:
        raise ValueError(f"workload {name!r}: one of {list(WORKLOADS)}")
    return TimelineState(name, seed, timeline.run(workload(name), seed))


def preempt_story(name: str = "a 20 ms loop without calls, 1 P", seed: int = 0) -> list[str]:
    """The loop's slices on P0 and sysmon's request, one line each."""
    tl = timeline_run(name, seed).tl
    hog = hog_goid(tl)
    out = []
    for s in tl.of(hog):
        then = {"runnable": _("preempted, to the global queue"), "dead": _("done")}[s.ended]
        out.append(f"{s.start / 1e6:7.3f} - {s.end / 1e6:7.3f} ms  " + _(
            "G{g} (the loop) runs on P{p}; then {then}").format(g=procs.runtime_goid(hog), p=s.p,
                                                                then=then))
    for a in tl.preempts:
        out.append(f"{a.t / 1e6:7.3f} ms            sysmon: preemptone({how_text(a.what.how)})")
    others = [s.start for s in tl.slices if s.goid not in (hog, MAIN, RUNTIME_G)]
    out.append(f"{min(others) / 1e6:7.3f} ms            " + _(
        "the first of the {n} others starts").format(n=tl.outcome.workload.n))
    return sorted(out)


# ---- which loops preemption stops: preemptprobe's recorded real runs ------------------------

LOOPS: dict[str, str] = {"nocall": N_("no calls"), "leaf": N_("calls a leaf (NOSPLIT)"),
                         "call": N_("calls a function with a prologue")}


def preempt_table(recorded: dict | None = None) -> list[str]:
    """Per configuration of preemptprobe: in how many real runs another goroutine started
    while the 50 ms loop ran, and the median ms from the loop's start until one did."""
    recorded = recorded or preemptprobe.load_recorded()
    out = [ljust(_("GOMAXPROCS=1, a 50 ms loop that"), 34) + f"{'GODEBUG':<20}"
           + ljust(_("cut"), 8) + _("median ms to the first other")]
    for name, c in preemptprobe.CONFIGS.items():
        runs = preemptprobe.recorded_runs(name, recorded)
        cut = sum(r.cut for r in runs)
        out.append(f"{ljust(_(LOOPS[c.kind]), 34)}{c.godebug or '-':<20}"
                   f"{f'{cut}/{len(runs)}':<8}{median(r.delay_ms for r in runs):.0f}")
    return out


def ljust(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns (Hangul takes two)."""
    return text + " " * (width - i18n.text_width(text))


# ---- the figure: one lane per P ---------------------------------------------------------

class TimelineArt:
    """The lanes of one run on one Axes, redrawn for each state."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax

    def update(self, st: TimelineState, title: str | None = None) -> None:
        ax, tl = self.ax, st.tl
        ax.clear()
        hog, scale = hog_goid(tl), 1e6
        for p in range(tl.gomaxprocs):
            lane = sorted(tl.lane(p), key=lambda s: s.goid != hog)  # the loop under the rest
            least = tl.end / scale / (800 if hog is None else 150)
            bars = [(s.start / scale, max(s.ns / scale, least)) for s in lane]
            colors = [PALETTE["grow"] if s.goid == hog else "#555555" if s.goid == MAIN
                      else SLICE_COLORS[i % 2] for i, s in enumerate(lane)]
            ax.broken_barh(bars, (p - 0.35, 0.7), facecolors=colors, linewidth=0)
            for s in lane:
                if s.ns > tl.end * 0.12:
                    label = f"G{procs.runtime_goid(s.goid)}"  # real Go's number
                    ax.text((s.start + s.ns / 2) / scale, p, label, ha="center",
                            va="center", fontsize=7, color="white")
            others = [s for s in lane if hog and s.goid not in (hog, MAIN, RUNTIME_G)]
            if others:
                ax.text(others[0].start / scale, p - 0.42,
                        " " + _("{n} others").format(n=len(others)), fontsize=7, va="bottom",
                        color=SLICE_COLORS[0])
        for a in tl.steals:
            s = a.what
            ax.annotate("", xy=(a.t / scale, s.thief), xytext=(a.t / scale, s.victim),
                        arrowprops={"arrowstyle": "->", "color": PALETTE["pointer"],
                                    "linewidth": 1.2})
            ax.plot([a.t / scale], [s.thief], "v", color=PALETTE["pointer"], markersize=5)
        for a in tl.preempts:
            ax.plot([a.t / scale], [a.what.p + 0.5], "X", color=PALETTE["guard"], markersize=7)
        ax.set_yticks(range(tl.gomaxprocs), [f"P{p}" for p in range(tl.gomaxprocs)])
        ax.set_ylim(tl.gomaxprocs - 0.4, -0.6)
        ax.set_xlim(0, tl.end / scale * 1.01)
        ax.set_xlabel(_("ms since main.main began (simulator)"))
        ax.set_title(title or _("{title}: {steals} (arrows), {preempts} (X)").format(
            title=st.title, steals=draw.plural(len(tl.steals), "steal"),
            preempts=draw.plural(len(tl.preempts), "preemption")), loc="left", fontsize=9)
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)


def draw_timeline(st: TimelineState, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    ax = draw.axes(ax, (7.2, 2.6))
    TimelineArt(ax).update(st, title)
    return ax


class TimelinePainter:
    """The explorer's figure: built once, redrawn in place for each state."""

    SIZE, RECT = (7.4, 2.9), (0.07, 0.17, 0.9, 0.72)

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self.art: TimelineArt | None = None

    def __call__(self, state: TimelineState, fig: Figure | None = None) -> Figure:
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, self.SIZE)
                self.art = TimelineArt(self.fig.add_axes(self.RECT))
            self.art.update(state)
        return self.fig


def timeline_figure(states: Sequence[TimelineState]) -> Figure:
    """The states one above the other, one lane per P each."""
    with draw.styled():
        heights = [0.6 + 0.45 * s.tl.gomaxprocs for s in states]
        fig = draw.canvas(None, (7.4, sum(heights) + 0.6 * len(states)))
        top = 1.0
        for s, h in zip(states, heights, strict=True):
            frac = (h + 0.6) / (sum(heights) + 0.6 * len(states))
            draw_timeline(s, fig.add_axes((0.07, top - frac + 0.45 / (sum(heights) + 1),
                                           0.9, frac * h / (h + 0.6) * 0.8)))
            top -= frac
    return fig


def show_timelines(states: Sequence[TimelineState]) -> None:
    view.show(timeline_figure(states))


# ---- the explorer ---------------------------------------------------------------------------

def timeline_explorer(name: str = "100 goroutines of ~33 µs, 4 Ps", seed: int = 0):
    """A workload and a seed in; the M/P/G timeline of that simulated run out."""
    import ipywidgets as w

    pick = w.Dropdown(options=[(_(k), k) for k in WORKLOADS], value=name,
                      description=_("workload"),
                      layout={"width": "26em"})
    seeds = w.IntSlider(value=seed, min=SEEDS.start, max=SEEDS.stop - 1, description=_("seed"),
                        continuous_update=False)
    text = w.HTML()
    picture = view.Picture(TimelinePainter())
    ahead = view.Prefetch(picture)

    def state(key):
        return lambda: timeline_run(*key)

    def render(*_):
        key = (pick.value, seeds.value)
        picture.render(key, state(key))  # the picture first: text and picture together
        text.value = view.pre(timeline_run(*key).lines())
        picture.show(key, state(key))
        nexts = [(pick.value, s) for s in (seeds.value + 1, seeds.value - 1) if s in SEEDS]
        nexts += [(k, seeds.value) for k in WORKLOADS if k != pick.value]
        ahead.after((k, state(k)) for k in nexts)

    for wid in (pick, seeds):  # callbacks come on two threads (see view.DRAWING)
        wid.observe(view.serial(render), "value")
    render()
    return view.box([[pick, seeds], text], picture)
