"""Lesson 09, why a scheduler in user space: what lesson 01's threads cost, and how many
threads N waiting goroutines really need (a channel wait: none more; a blocking system
call: one each).

The numbers are recorded: lesson 01's (``gostack.oscost``'s recordings of threads and of
goroutines) and stage 2's real runs (gostack/data/sched_stats_recorded.json, read through
``gostack.sched.stats``). The predictions are ``gostack.sched.procs``'s seeded simulation.
:func:`blocking_run` is one state (a kind of wait, N goroutines); the figures take those
states; :func:`blocking_explorer` wires two controls to both.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import i18n
from ..i18n import N_, _
from ..oscost import fmt_ns, gocost, threads
from ..sched import procs, stats
from ..sched.syscall import SyscallEnter
from ..sched.sysmon import Retake
from ..sched.trace import StartM
from . import draw, view
from .draw import PALETTE

#: What the N goroutines wait on, in statprobe's words (its ``mode`` argument).
KINDS: dict[str, str] = {
    "chan": N_("channel receive"),
    "read": N_("pipe read (blocking syscall)"),
    "nanosleep": "syscall.Nanosleep 50 ms",
}
NS: tuple[int, ...] = (20, 60, 1_000, 10_000)
#: go1.27.3 proc.go schedinit: ``sched.maxmcount = 10000``; ``checkmcount`` throws
#: "thread exhaustion" when a new M would go over it (debug.SetMaxThreads changes it).
MAX_THREADS = 10_000
#: Threads every run has besides the Ms it creates: m0 (main's thread) and sysmon's.
BASE_THREADS = 2
COLORS = {"chan": PALETTE["ok"], "read": PALETTE["grow"], "nanosleep": PALETTE["pointer"]}


# ---- lesson 01's recorded costs -----------------------------------------------------------

@dataclass(frozen=True)
class Costs:
    """Lesson 01's recorded measurements that a scheduler in user space is about."""

    thread_create_ns: float  # a raw pthread: clone + mmap, CPU
    thread_switch_ns: float  # one kernel handoff between two threads (pipe ping-pong)
    goroutine_create_ns: float  # CPU per goroutine, 100,000 started
    goroutine_switch_ns: float  # one channel handoff between two goroutines, GOMAXPROCS=1
    goroutines: int  # the most goroutines the Go probe parked at once
    goroutine_threads: int  # the OS threads of that process meanwhile
    thread_date: str
    go_date: str

    def lines(self) -> list[str]:
        def cell(text: str, width: int, left: bool = False) -> str:  # Hangul takes two
            pad = " " * (width - i18n.text_width(text))
            return text + pad if left else pad + text

        return [
            cell("", 22, True) + cell(_("OS thread"), 12) + cell(_("goroutine"), 12)
            + "   " + _("ratio"),
            cell(_("create (CPU)"), 22, True) + f"{fmt_ns(self.thread_create_ns):>12}"
            f"{fmt_ns(self.goroutine_create_ns):>12}   {self.create_ratio:>4.0f}x",
            cell(_("switch to another"), 22, True) + f"{fmt_ns(self.thread_switch_ns):>12}"
            f"{fmt_ns(self.goroutine_switch_ns):>12}   {self.switch_ratio:>4.0f}x",
            _("{n:,} parked goroutines ran in a process of {threads} OS threads").format(
                n=self.goroutines, threads=self.goroutine_threads),
            _("(recorded: threads {threads}, goroutines {goroutines})").format(
                threads=self.thread_date, goroutines=self.go_date)]

    @property
    def create_ratio(self) -> float:
        return self.thread_create_ns / self.goroutine_create_ns

    @property
    def switch_ratio(self) -> float:
        return self.thread_switch_ns / self.goroutine_switch_ns


def lesson01_costs() -> Costs:
    t = threads.load_recorded_threads()
    go = gocost.recorded_costs()
    big = go.largest
    return Costs(t["creation"]["pthread"].cpu_ns, t["switch"]["pipe"].ns, big.create_cpu_ns,
                 go.rungs["chan_p1"].ns, big.n, big.threads, t["date"], go.date)


# ---- threads for N waiting goroutines: real runs and the model ------------------------------

def config_name(kind: str, n: int) -> str | None:
    """The recorded configuration with GOMAXPROCS=1 for this wait and N, if there is one."""
    name = f"{kind}_p1_n{n}"
    return name if name in stats.CONFIGS else None


def recorded(kind: str, n: int) -> stats.Recorded | None:
    name = config_name(kind, n)
    return None if name is None else stats.recorded_created(name)


def workload(kind: str, n: int) -> procs.Workload:
    """statprobe's program for ``kind`` and ``n`` with GOMAXPROCS=1, calibrated as stats
    calibrates it from the recorded runs of N=20."""
    return replace(stats.workload(f"{kind}_p1_n20"), n=n)


@dataclass(frozen=True)
class Blocking:
    """N goroutines waiting on one kind of thing: one seeded model run, the real runs."""

    kind: str
    n: int
    seed: int
    created: int  # the model's threads created after main.main started
    new_m_ms: tuple[float, ...]  # when the model created each thread (ms)
    retake_ms: tuple[float, ...]  # when sysmon's retake took the P from a syscall (ms)
    drain_ms: float
    real: stats.Recorded | None

    @property
    def threads(self) -> int:
        """Threads the process ever had: m0, sysmon, the idle ones of runtime.main, the
        created ones (what the threadcreate profile counts)."""
        return BASE_THREADS + workload(self.kind, self.n).idle_ms + self.created

    @property
    def title(self) -> str:
        return _("{n:,} goroutines in a {kind}, GOMAXPROCS=1").format(
            n=self.n, kind=_(KINDS[self.kind]))

    def lines(self) -> list[str]:
        out = [self.title,
               _("simulator (seed {seed}): {created:,} threads created, {handoffs:,} handoffs "
                 "by sysmon").format(seed=self.seed, created=self.created,
                                     handoffs=len(self.retake_ms))]
        out.append(_("real go1.27.3: {text}").format(text=self.real.text()) if self.real
                   else _("real go1.27.3: no run recorded for this N"))
        if self.threads > MAX_THREADS:
            out.append(_("{threads:,} threads > {max:,}: real Go would stop with \"thread "
                         "exhaustion\" (checkmcount)").format(threads=self.threads,
                                                              max=MAX_THREADS))
        return out


@functools.lru_cache(maxsize=64)  # a widget revisits states; the value is frozen
def blocking_run(kind: str = "read", n: int = 20, seed: int = 0) -> Blocking:
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {sorted(KINDS)}")
    o = procs.simulate(workload(kind, n), seed)
    new = tuple(a.t / 1e6 for a in o.trace if isinstance(a.what, StartM) and a.what.new)
    retakes = tuple(a.t / 1e6 for a in o.trace if isinstance(a.what, Retake))
    return Blocking(kind, n, seed, o.threads_created, new, retakes, o.drain_ns / 1e6,
                    recorded(kind, n))


def handoff_story(kind: str = "read", n: int = 3, seed: int = 0) -> list[str]:
    """The model's first thread events for ``n`` goroutines, one line each: who enters a
    system call (numbered as real Go numbers it), sysmon's retakes, the Ms that start (and
    whether a thread was created)."""
    out = []
    for a in procs.simulate(workload(kind, n), seed).trace:
        e, at = a.what, f"{a.t / 1e6:7.3f} ms  "
        if isinstance(e, SyscallEnter):
            out.append(at + _("G{g} enters a system call on M{m}; M{m} keeps P{p}").format(
                g=procs.runtime_goid(e.goid), m=e.m, p=e.p))
        elif isinstance(e, Retake):
            out.append(at + _("sysmon: retake takes P{p} from M{m}, handoffp").format(
                p=e.p, m=e.m))
        elif isinstance(e, StartM) and e.why.startswith("handoffp"):
            how = _("a new thread (newm)") if e.new else _("an idle thread")
            out.append(at + _("startm: M{m} runs P{p}: {how}").format(m=e.m, p=e.p, how=how))
        if len(out) == 3 * n:
            break
    return out


def threads_table(seeds: range = range(100)) -> str:
    """Every recorded configuration with GOMAXPROCS=1 that waits: threads created, real
    runs against the model's seeded runs."""
    def left(text: str, width: int) -> str:  # Hangul takes two columns
        return text + " " * (width - i18n.text_width(text))

    rows = [_("threads created after main.main started"),
            left(_("N goroutines waiting in a"), 38) + left(_("real go1.27.3, 20 runs"), 26)
            + _("simulator"),
            left("", 38) + left(_("median (range)"), 26)
            + _("median ({runs} runs)").format(runs=len(seeds))]
    for kind in KINDS:
        for n in NS:
            rec = recorded(kind, n)
            if rec is None:
                continue
            model = [o.threads_created for o in stats.model_runs(rec.config, seeds)]
            rows.append(f"{n:>3} x {left(_(KINDS[kind]), 32)}{rec.cell():<26}{median(model):g}")
    return "\n".join(rows)


#: The claims of stats.CLAIMS this lesson makes, in the order it prints them: what was
#: measured and how often it held.
CLAIMS: tuple[str, ...] = ("chan_no_threads_20", "chan_no_threads_60", "nanosleep_thread_each",
                           "nanosleep_overlap", "read_thread_each_20", "read_thread_each_60")


def claim_rows(seeds: range = range(100)) -> tuple[stats.ClaimRow, ...]:
    return stats.claim_rows(CLAIMS, seeds)


# ---- figures ------------------------------------------------------------------------------

class ThreadsArt:
    """Threads created over time on one Axes, one step line per state, updated in place:
    the model's thread creations, sysmon's retakes as ticks under the line, and the real
    runs' median as a dashed line."""

    def __init__(self, ax: Axes, kinds: Sequence[str]) -> None:
        self.ax = ax
        self.lines = {k: ax.plot([], [], drawstyle="steps-post", color=COLORS[k],
                                 linewidth=1.6)[0] for k in kinds}
        self.reals = {k: ax.axhline(0, color=COLORS[k], linestyle="--", linewidth=1)
                      for k in kinds}
        self.ticks = {k: ax.plot([], [], "|", color=COLORS[k], markersize=6)[0]
                      for k in kinds}
        self.limit = ax.axhline(0, color=PALETTE["edge"], linestyle=(0, (5, 3)), linewidth=1)
        self.limit_text = ax.text(0.01, 0, _("Go's limit: {max:,} threads (checkmcount)").format(
            max=MAX_THREADS), transform=ax.get_yaxis_transform(), ha="left", va="bottom",
            fontsize=7, color=PALETTE["edge"])
        ax.set_xlabel(_("ms since main spawned them (simulator)"))
        ax.set_ylabel(_("threads created"))
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)

    def update(self, states: Sequence[Blocking], title: str) -> None:
        ax, shown = self.ax, {s.kind: s for s in states}
        end = max([max(s.new_m_ms, default=0.0) for s in states] + [1.0]) * 1.15
        top = max([s.created for s in states]
                  + [s.real.median for s in states if s.real] + [1])
        # proc.go checkmcount counts every M: the line is where the created ones reach
        # MAX_THREADS with m0, sysmon and runtime.main's idle Ms (drawn once it is near)
        limit = min(MAX_THREADS - (s.threads - s.created) for s in states)
        near = top >= limit / 2
        for art in (self.limit, self.limit_text):
            art.set_visible(near)
        if near:
            self.limit.set_ydata([limit, limit])
            self.limit_text.set_y(limit)
            top = max(top, limit)
        labels = []
        for kind, line in self.lines.items():
            s = shown.get(kind)
            for art in (line, self.reals[kind], self.ticks[kind]):
                art.set_visible(s is not None)
            if s is None:
                continue
            xs = [0.0, *s.new_m_ms, end]
            line.set_data(xs, list(range(len(xs) - 1)) + [s.created])
            self.ticks[kind].set_data(s.retake_ms, [-top * 0.04] * len(s.retake_ms))
            real = self.reals[kind]
            real.set_visible(s.real is not None)
            if s.real:
                real.set_ydata([s.real.median, s.real.median])
            tail = (_("; real median {median:g}").format(median=s.real.median) if s.real
                    else _("; no real run"))
            labels.append((line, f"{s.n:,} x {_(KINDS[kind])}: {s.created:,}{tail}"))
        ax.set_xlim(0, end)
        ax.set_ylim(-top * 0.08, top * 1.35)  # headroom: the legend sits above the lines
        ax.set_title(title, loc="left")
        if ax.get_legend():
            ax.get_legend().remove()
        ax.legend([a for a, _t in labels], [t for _a, t in labels], fontsize=7, frameon=False,
                  loc="upper left")


def draw_threads(states: Sequence[Blocking], ax: Axes | None = None, *,
                 title: str | None = None) -> Axes:
    """One step line per state: threads the model created over time; ticks: sysmon's
    handoffs; dashed: the real runs' median."""
    with i18n.figure_fonts():
        ax = draw.axes(ax, (7.0, 3.2))
        ThreadsArt(ax, [s.kind for s in states]).update(
            states, title or _("threads created while N goroutines wait"))
    return ax


class ThreadsPainter:
    """The explorer's figure: built once, redrawn in place for each state."""

    SIZE, RECT = (7.2, 3.3), (0.11, 0.14, 0.86, 0.76)  # room for 5-digit tick labels

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self.art: ThreadsArt | None = None

    def __call__(self, state: Blocking, fig: Figure | None = None) -> Figure:
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, self.SIZE)
                self.art = ThreadsArt(self.fig.add_axes(self.RECT), list(KINDS))
            self.art.update([state], _("threads created: each tick is a handoff by sysmon"))
        return self.fig


def threads_figure(states: Sequence[Blocking]) -> Figure:
    with draw.styled():
        fig = draw.canvas(None, ThreadsPainter.SIZE)
        draw_threads(states, fig.add_axes(ThreadsPainter.RECT))
    return fig


def show_threads(states: Sequence[Blocking]) -> None:
    view.show(threads_figure(states))


# ---- the explorer -------------------------------------------------------------------------

def blocking_explorer(kind: str = "read", n: int = 20):
    """What the goroutines wait on and how many of them in; threads created out, the
    simulator's against the recorded real runs."""
    import ipywidgets as w

    wait = w.Dropdown(options=[(_(label), k) for k, label in KINDS.items()], value=kind,
                      description=_("waiting on"), style={"description_width": "initial"})
    count = w.Dropdown(options=[(f"{v:,}", v) for v in NS], value=n, description="N")
    text = w.HTML()
    picture = view.Picture(ThreadsPainter())
    ahead = view.Prefetch(picture)

    def state(key):
        return lambda: blocking_run(*key)

    # N=10,000 takes most of a second to simulate, too long to block the kernel for in
    # the prefetch (an action would wait for it): a thread computes those states (pure,
    # cached) and the prefetch then only draws them (tens of ms).
    big = [(k, 10_000) for k in KINDS]
    ready: set = set()

    def warm() -> None:
        for k in big:
            blocking_run(*k)
            ready.add(k)

    threading.Thread(target=warm, name="l09-prefetch", daemon=True).start()

    def render(*_):
        key = (wait.value, count.value)
        picture.render(key, state(key))  # the picture first: text and picture change together
        text.value = view.pre(blocking_run(*key).lines())
        picture.show(key, state(key))
        nexts = [(k, count.value) for k in KINDS if k != wait.value]
        nexts += [(wait.value, v) for v in NS if v != count.value]
        ahead.after((k, state(k)) for k in nexts if k[1] <= 1_000 or k in ready)

    for wid in (wait, count):
        wid.observe(view.serial(render), "value")
    render()
    return view.box([[wait, count], text], picture)


# ---- an optional live rerun ---------------------------------------------------------------

#: The claims the live rerun checks, one per kind of wait (statprobe's configs with N=20).
LIVE_CLAIMS: tuple[str, ...] = ("chan_no_threads_20", "read_thread_each_20",
                                "nanosleep_thread_each")


def live_lines(runs: int = 3) -> list[str]:
    """Run statprobe's program here, ``runs`` times for each claim of :data:`LIVE_CLAIMS`
    (needs Go), and say how often each held: the same function of a run as for the
    recorded runs, so the lines read the same wherever the claims hold."""
    from ..sched import statprobe

    binary = statprobe.build()
    out = []
    for c in (c for c in stats.CLAIMS if c.name in LIVE_CLAIMS):
        cfg = stats.CONFIGS[c.config]
        made = [statprobe.run_once(binary, cfg.mode, cfg.n, cfg.work, cfg.gomaxprocs)
                for _i in range(runs)]
        out.append(_("live {held}/{runs}  ").format(held=sum(map(c.holds, made)), runs=runs)
                   + _(c.text))
    return out
