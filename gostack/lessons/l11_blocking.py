"""Lesson 11, blocking: what happens to G, M and P when a goroutine waits on a channel,
sits in a blocking system call, or reads through the netpoller.

One simulated trace (``gostack.sched.procs``, GOMAXPROCS=1) feeds the timelines: each M's
state over time, read off the trace's ``StartM``, ``SyscallEnter``, ``Retake``,
``SyscallExit`` and ``StopM`` events (:func:`timeline`). The real numbers are recorded:
gostack/data/sched_netpoll_recorded.json (``gostack.sched.netprobe``'s program, 10 runs per
configuration) and stage 2's chan_p1_n20 (``gostack.sched.stats``). The model has no
netpoller: a read through ``os.File`` is run as a channel wait (both ``gopark`` the G),
and every line that shows it says so. :func:`blocking_explorer` wires two controls to
:func:`blocking_state`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import i18n
from ..i18n import N_, _, ngettext
from ..sched import procs, stats
from ..sched.syscall import SyscallEnter, SyscallExit
from ..sched.sysmon import Retake
from ..sched.trace import StartM, StopM
from . import draw, view
from .draw import PALETTE

NETPOLL_PATH = Path(__file__).resolve().parent.parent / "data" / "sched_netpoll_recorded.json"

#: What the N goroutines block on (netprobe's modes, and statprobe's ``chan``).
KINDS: dict[str, str] = {
    "chan": N_("channel receive"),
    "osfile": N_("pipe read through os.File (netpoller)"),
    "raw": N_("pipe read by syscall.Read (blocking)"),
}
NS: tuple[int, ...] = (2, 20, 100)
#: The model's workload for each kind (procs' modes): no netpoller, so os.File reads
#: run as channel waits.
MODEL_MODE = {"chan": "chan", "osfile": "chan", "raw": "read"}
MODEL_NOTE = {"osfile": N_("no netpoller in the model: run as a channel wait, both gopark")}

#: An M's states on a timeline, and their colours.
STATES = {"go": N_("holds a P: wakes, schedules or runs Go code"),
          "sys+P": N_("in a system call, still holding its P"),
          "sys": N_("in a system call, P handed off (thread in the kernel)")}
COLORS = {"go": PALETTE["ok"], "sys+P": PALETTE["pointer"], "sys": PALETTE["grow"]}


# ---- the real runs --------------------------------------------------------------------------

def load_netpoll(path: Path | str | None = None) -> dict:
    return json.loads(Path(path or NETPOLL_PATH).read_text())


def recorded(kind: str, n: int) -> stats.Recorded | None:
    name = f"{kind}_p1_n{n}"
    if kind == "chan":
        return stats.recorded_created(name)
    runs = load_netpoll()["configs"].get(name)
    if runs is None:
        return None
    return stats.Recorded(name, tuple(r["threadcreate"] - r["threads_start"]
                                      for r in runs["runs"]))


@dataclass(frozen=True)
class Claim:
    name: str
    config: str
    text: str
    at_least: int  # threads created by the end: >= at_least (or == 0 when at_least is 0)

    def holds(self, run: dict) -> bool:
        created = run["threadcreate"] - run["threads_start"]
        return created == 0 if self.at_least == 0 else created >= self.at_least


CLAIMS: tuple[Claim, ...] = (
    Claim("osfile_none_20", "osfile_p1_n20",
          N_("20 goroutines reading os.File pipes: no thread created"), 0),
    Claim("osfile_none_100", "osfile_p1_n100",
          N_("100 goroutines reading os.File pipes: no thread created"), 0),
    Claim("raw_each_20", "raw_p1_n20",
          N_("20 goroutines in syscall.Read: at least 18 threads created"), 18),
    Claim("raw_most_100", "raw_p1_n100",
          N_("100 goroutines in syscall.Read: at least 70 threads created"), 70),
)


def claim_lines(data: dict | None = None) -> list[str]:
    """Each claim and how often it held in the recorded runs."""
    configs = (data or load_netpoll())["configs"]
    out = []
    for c in CLAIMS:
        runs = configs[c.config]["runs"]
        out.append(_("real {held:>2}/{runs}  ").format(held=sum(map(c.holds, runs)),
                                                         runs=len(runs)) + _(c.text))
    return out


# ---- the model ------------------------------------------------------------------------------

def workload(kind: str, n: int, work_ns: int = 0) -> procs.Workload:
    """The model's run of ``n`` goroutines blocking on ``kind``, GOMAXPROCS=1, calibrated
    (idle Ms at main's start) from stage 2's recorded runs of N=20."""
    if kind == "nanosleep":
        return replace(stats.workload("nanosleep_p1_n20"), n=n, work_ns=work_ns)
    mode = MODEL_MODE[kind]
    return replace(stats.workload(f"{mode}_p1_n20"), n=n)


@dataclass(frozen=True)
class Timeline:
    """Each M's states over ``[0, end)`` ns: ``lanes[m]`` = ((start, stop, state, goid),
    ...), goids as real Go numbers them (``procs.runtime_goid``); ``retakes``: when sysmon's
    retake handed a P off."""

    lanes: dict[int, tuple[tuple[int, int, str, int], ...]]
    retakes: tuple[int, ...]
    end: int
    created: int  # threads the run created (all of it, not only the window)


def timeline(outcome, end: int | None = None) -> Timeline:
    """The Ms' states read off one simulated run's trace, up to ``end`` (default: a bit
    after the last thread event before main wakes from its 30 ms sleep)."""
    settle = outcome.workload.settle_ns
    events = [a for a in outcome.trace
              if isinstance(a.what, (StartM, StopM, SyscallEnter, SyscallExit, Retake))]
    if end is None:
        last = max([a.t for a in events if a.t < settle], default=0)
        end = min(max(int(last * 1.15), 100_000), settle)
    open_: dict[int, tuple[int, str, int]] = {0: (0, "go", 1)}  # m -> (since, state, goid)
    lanes: dict[int, list] = {0: []}

    def move(m: int, t: int, state: str | None, goid: int = 0) -> None:
        if m in open_:
            since, was, g = open_.pop(m)
            if min(t, end) > since:
                lanes.setdefault(m, []).append((since, min(t, end), was, g))
        if state is not None and t < end:
            open_[m] = (t, state, goid)
            lanes.setdefault(m, [])

    for a in events:
        e = a.what
        if isinstance(e, StartM):
            move(e.m, a.t, "go")
        elif isinstance(e, SyscallEnter):
            move(e.m, a.t, "sys" if e.block else "sys+P", procs.runtime_goid(e.goid))
        elif isinstance(e, Retake):
            move(e.m, a.t, "sys", open_.get(e.m, (0, "", 0))[2])
        elif isinstance(e, SyscallExit):
            move(e.m, a.t, None if e.path == "no P" else "go")
        elif isinstance(e, StopM):
            move(e.m, a.t, None)
    for m in list(open_):
        move(m, end, None)
    retakes = tuple(a.t for a in events if isinstance(a.what, Retake) and a.t < end)
    return Timeline({m: tuple(s) for m, s in sorted(lanes.items())}, retakes, end,
                    outcome.threads_created)


#: The static figure's two runs: two goroutines call syscall.Nanosleep for ``work`` ns.
SHORT_NS, LONG_NS = 5_000, 1_000_000


@functools.lru_cache(maxsize=4)
def syscall_pair() -> tuple[Timeline, Timeline]:
    """Two nanosleeping goroutines: 5 µs (back before sysmon looks) and 1 ms (handed off)."""
    short = procs.simulate(workload("nanosleep", 2, SHORT_NS))
    long = procs.simulate(workload("nanosleep", 2, LONG_NS))
    return timeline(short, 30_000), timeline(long, 1_500_000)


def syscall_story(t: Timeline) -> list[str]:
    """The timeline in words: one line per segment of each M."""
    out = []
    for m, segs in t.lanes.items():
        for a, b, state, g in segs:
            who = f"G{g} " if state != "go" else ""
            out.append(f"M{m} {a / 1e3:8.1f}-{b / 1e3:8.1f} µs  {who}{_(STATES[state])}")
    return out


@dataclass(frozen=True)
class Blocking:
    """N goroutines blocking on one kind of thing: one seeded model run, the real runs."""

    kind: str
    n: int
    seed: int
    created: int
    handoffs: int
    line: Timeline
    real: stats.Recorded | None

    @property
    def title(self) -> str:
        return _("{n:,} goroutines in a {kind}, GOMAXPROCS=1").format(
            n=self.n, kind=_(KINDS[self.kind]))

    def lines(self) -> list[str]:
        note = f" ({_(MODEL_NOTE[self.kind])})" if self.kind in MODEL_NOTE else ""
        made = ngettext("simulator (seed {seed}): {created:,} thread created, ",
                        "simulator (seed {seed}): {created:,} threads created, ", self.created)
        return [self.title,
                made.format(seed=self.seed, created=self.created)
                + _("{handoffs:,} handoffs by sysmon").format(handoffs=self.handoffs) + note,
                _("real go1.27.3: {text}").format(text=self.real.text()) if self.real
                else _("real go1.27.3: no run recorded for this N")]


@functools.lru_cache(maxsize=32)
def blocking_state(kind: str = "raw", n: int = 20, seed: int = 0) -> Blocking:
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {sorted(KINDS)}")
    o = procs.simulate(workload(kind, n), seed)
    t = timeline(o)
    handoffs = sum(1 for a in o.trace if isinstance(a.what, Retake))
    return Blocking(kind, n, seed, o.threads_created, handoffs, t, recorded(kind, n))


def threads_table() -> str:
    """The recorded runs against the model, per kind and N (threads created by the end)."""
    rows = [_("threads created after main.main started (GOMAXPROCS=1)"),
            ljust(_("N goroutines blocked in a"), 48) + ljust(_("real go1.27.3"), 23)
            + _("simulator"),
            " " * 48 + ljust(_("median (range), runs"), 23) + _("(seed 0)")]
    for kind in KINDS:
        for n in NS:
            rec = recorded(kind, n)
            if rec is None:
                continue
            b = blocking_state(kind, n)
            real = f"{rec.cell()}, {len(rec.created)}"
            model = f"{b.created}" + (_(" as a channel wait") if kind in MODEL_NOTE else "")
            rows.append(f"{n:>3} x {ljust(_(KINDS[kind]), 42)}{real:<23}{model}")
    return "\n".join(rows)


def ljust(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns (Hangul takes two)."""
    return text + " " * (width - i18n.text_width(text))


# ---- figures --------------------------------------------------------------------------------

MAX_LANES = 10


class TimelineArt:
    """Ms as lanes, their states as bars, sysmon's retakes as ticks on a top lane."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax

    def update(self, t: Timeline, title: str, legend: bool = True) -> None:
        ax = self.ax
        ax.clear()
        ms = list(t.lanes)[:MAX_LANES]
        scale, unit = (1e3, "µs") if t.end <= 200_000 else (1e6, "ms")
        for row, m in enumerate(ms):
            for a, b, state, g in t.lanes[m]:
                ax.barh(row, (b - a) / scale, left=a / scale, height=0.6,
                        color=COLORS[state], edgecolor="none")
                if state != "go" and len(t.lanes) <= 4 and (b - a) > t.end / 12:
                    ax.text((a + b) / 2 / scale, row, f"G{g}", ha="center",
                            va="center", fontsize=7, color="white")
        top = len(ms)
        ax.plot([r / scale for r in t.retakes], [top] * len(t.retakes), "|",
                color=PALETTE["edge"], markersize=8)
        ax.set_yticks(range(top + 1), [f"M{m}" for m in ms] + ["sysmon"])
        ax.set_ylim(-0.6, top + 0.6)
        ax.invert_yaxis()
        ax.set_xlim(0, t.end / scale)
        ax.set_xlabel(_("{unit} since main started the goroutines (simulator)").format(
            unit=unit))
        # The lanes are the Ms that ran before ``end`` (main's wake-up at the latest); the
        # title's threads count the whole run, so say which Ms these are.
        tail = (_(" (first {shown} of the {total} Ms up to {end:.3g} {unit})").format(
            shown=len(ms), total=len(t.lanes), end=t.end / scale, unit=unit)
            if len(t.lanes) > len(ms) else "")
        ax.set_title(title + tail, loc="left", fontsize=9)
        if legend:
            for state, label in STATES.items():
                ax.barh(0, 0, color=COLORS[state], label=_(label))
            ax.legend(fontsize=7, frameon=False, loc="upper left", ncol=2,
                      bbox_to_anchor=(-0.1, -0.3))


def draw_timeline(t: Timeline, ax: Axes | None = None, *, title: str = "",
                  legend: bool = True) -> Axes:
    ax = draw.axes(ax, (7.0, 2.4))
    TimelineArt(ax).update(t, title, legend)
    return ax


def syscall_pair_figure() -> Figure:
    short, long = syscall_pair()
    with draw.styled():
        fig = draw.canvas(None, (7.2, 5.0))
        draw_timeline(short, fig.add_axes((0.1, 0.67, 0.87, 0.26)), legend=False,
                      title=_("2 goroutines, Nanosleep 5 µs: back before sysmon looks"))
        draw_timeline(long, fig.add_axes((0.1, 0.24, 0.87, 0.3)),
                      title=_("2 goroutines, Nanosleep 1 ms: retake and handoffp"))
    return fig


def show_syscall_pair() -> None:
    view.show(syscall_pair_figure())


class TimelinePainter:
    """The explorer's figure: built once, redrawn in place for each state."""

    SIZE, RECT = (7.2, 4.0), (0.1, 0.3, 0.87, 0.62)

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self.art: TimelineArt | None = None

    def __call__(self, state: Blocking, fig: Figure | None = None) -> Figure:
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, self.SIZE)
                self.art = TimelineArt(self.fig.add_axes(self.RECT))
            made = ngettext("{n:,} thread created", "{n:,} threads created", state.created)
            self.art.update(state.line, f"N={state.n:,}, {_(KINDS[state.kind])}: "
                            + made.format(n=state.created))
        return self.fig


def show_state(state: Blocking) -> None:
    view.show(TimelinePainter()(state))


# ---- the explorer ---------------------------------------------------------------------------

def blocking_explorer(kind: str = "raw", n: int = 20):
    """What the goroutines block on and how many of them in; the Ms' timeline and the
    threads created out, the simulator's beside the recorded real runs."""
    import ipywidgets as w

    wait = w.Dropdown(options=[(_(label), k) for k, label in KINDS.items()], value=kind,
                      description=_("blocked in"), style={"description_width": "initial"},
                      layout=w.Layout(width="24em"))  # its longest option shows whole
    count = w.Dropdown(options=[(f"{v:,}", v) for v in NS], value=n, description="N",
                       layout=w.Layout(width="10em"))
    text = w.HTML()
    picture = view.Picture(TimelinePainter())
    ahead = view.Prefetch(picture)

    def state(key):
        return lambda: blocking_state(*key)

    def render(*_):
        key = (wait.value, count.value)
        picture.render(key, state(key))
        text.value = view.pre(blocking_state(*key).lines())
        picture.show(key, state(key))
        nexts = [(k, count.value) for k in KINDS if k != wait.value]
        nexts += [(wait.value, v) for v in NS if v != count.value]
        ahead.after((k, state(k)) for k in nexts)

    for wid in (wait, count):
        wid.observe(view.serial(render), "value")
    render()
    return view.box([[wait, count], text], picture)


# ---- an optional live rerun -----------------------------------------------------------------

def live_lines(runs: int = 3) -> list[str]:
    """netprobe's program run here ``runs`` times per claim (needs Go), each claim checked
    on each run by the same function as for the recorded runs."""
    from ..sched import netprobe

    binary = netprobe.build()
    out = []
    for c in CLAIMS:
        cfg = load_netpoll()["configs"][c.config]
        made = [netprobe.run_once(binary, cfg["mode"], cfg["n"], cfg["gomaxprocs"]).as_dict()
                for _i in range(runs)]
        out.append(_("live {held}/{runs}  ").format(held=sum(map(c.holds, made)), runs=runs)
                   + _(c.text))
    return out
