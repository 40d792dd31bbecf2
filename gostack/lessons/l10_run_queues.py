"""Lesson 10, run queues and fairness: a P's ``runnext`` and 256-slot ring, the global
queue, and the order in which one P runs its goroutines.

Every order is recorded (gostack/data/sched_recorded.json, real go1.27.3 runs with
GOMAXPROCS=1) and predicted by stage 1's model (``gostack.sched.machine``); the queues
at each event come from the model's trace through ``gostack.sched.replay``. One trace
feeds the figures, the readouts and the step-through: :func:`steps` is a probe's trace
from main.main on, one :class:`Step` per event; :class:`QueuesPainter` draws one.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import i18n, sched
from ..i18n import N_, _, ngettext
from ..sched import catalog, machine, realrun, replay
from ..sched.runtime2 import GLOBAL_CHECK_TICKS, RUNQ_SIZE
from . import draw, view
from .draw import PALETTE
from .stepper import Cursor

#: The probes the step-through offers (catalog names), small to large.
EXPLORER_PROBES: tuple[str, ...] = ("spawn_3", "spawn_10", "main_gosched", "chan_ready_runnext",
                                    "wg_done_wakes_main", "tick61_once", "spawn_257",
                                    "spawn_300")


# ---- the recorded runs ------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    """One probe's real runs (scripts/record_sched.py) beside the model's prediction."""

    name: str
    runs: int
    as_model: int
    as_startup_preempted: int  # the model's second prediction (startup.py: one tick more)
    other: int
    orders: int  # distinct orders among the runs
    output: tuple[str, ...]  # the most common order
    quiet_runs: int  # the same program, sysmon's preemptions patched out
    quiet_as_model: int
    model: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return self.model == self.output

    def line(self) -> str:
        orders = ngettext("{n} distinct order", "{n} distinct orders",
                          self.orders).format(n=self.orders)
        return f"{self.name:<19}" + _(
            "{runs} real runs ({orders}): {as_model:>2} as the model, {later} one tick later, "
            "{other:>2} other; sysmon quiet: {quiet_as_model}/{quiet_runs} as the model").format(
            runs=self.runs, orders=orders, as_model=self.as_model,
            later=self.as_startup_preempted, other=self.other,
            quiet_as_model=self.quiet_as_model, quiet_runs=self.quiet_runs)

    def position(self, token: str, model: bool = False) -> int:
        """1-based place of ``token`` in the recorded order (or the model's)."""
        return (self.model if model else self.output).index(token) + 1


@functools.cache
def recorded(name: str) -> Recorded:
    p = realrun.load_recorded()["probes"][name]
    quiet = p.get("quiet_sysmon") or {}
    return Recorded(name, p["runs"], p["as_model"], p["as_model_startup_preempted"],
                    p["other"], len(p["observed"]), tuple(p["output"]), quiet.get("runs", 0),
                    quiet.get("as_model", 0), run(name).output)


def order_text(tokens: tuple[str, ...], head: int = 12, tail: int = 3) -> str:
    """A printed order, shortened in the middle: ``w299 w127 ... w255 end0``."""
    if len(tokens) <= head + tail + 1:
        return " ".join(tokens)
    more = _("({n} more)").format(n=len(tokens) - head - tail)
    return " ".join(tokens[:head]) + f" ... {more} ... " + " ".join(tokens[-tail:])


def compare_lines(names: tuple[str, ...]) -> list[str]:
    """For each probe: the recorded order, whether the model prints it, how often it held."""
    out = []
    for n in names:
        r = recorded(n)
        real = _("real:  ") if r.orders < r.runs else _("one:   ")  # every run differed
        out += [r.line(), f"  {real}{order_text(r.output)}",
                "  " + _("model: ") + (_("the same") if r.agrees else order_text(r.model))]
    return out


# ---- the model's trace, one step per event ---------------------------------------------

@functools.lru_cache(maxsize=32)
def run(name: str) -> machine.Result:
    return machine.run(catalog.PROBES[name])


@dataclass(frozen=True)
class Step:
    """One event of a probe's trace and the queues after it."""

    index: int  # in the trace
    event: object
    before: replay.QueueState
    state: replay.QueueState
    text: str
    names: dict

    @property
    def is_run(self) -> bool:
        return isinstance(self.event, sched.Execute)

    @property
    def moved(self) -> int:
        """The goid the event is about (0: none), highlighted in the picture."""
        return getattr(self.event, "goid", 0)

    def label(self, goid: int) -> str:
        return self.names.get(goid, f"G{goid}") if goid else "–"

    def lines(self) -> list[str]:
        s = self.state
        ring = " ".join(self.label(g) for g in s.runq[:16]) + (" ..." if len(s.runq) > 16 else "")
        glob = " ".join(self.label(g) for g in s.global_[:16]) + (
            " ..." if len(s.global_) > 16 else "")
        due = (s.schedtick // GLOBAL_CHECK_TICKS + 1) * GLOBAL_CHECK_TICKS
        return [self.text, "",
                ljust(_("running"), 11) + self.label(s.running),
                f"runnext    {self.label(s.runnext)}",
                ljust(_("local ring"), 11) + f"{len(s.runq):>3}/{RUNQ_SIZE}  {ring or '–'}",
                ljust(_("global"), 11) + f"{len(s.global_):>3}      {glob or '–'}",
                f"schedtick  {s.schedtick}  "
                + _("(next 61-tick check when it reaches {due})").format(due=due)]


def ljust(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns (Hangul takes two)."""
    return text + " " * (width - i18n.text_width(text))


def rjust(text: str, width: int) -> str:
    return " " * (width - i18n.text_width(text)) + text


def describe(e: object, before: replay.QueueState, nm: Callable[[int], str]) -> str:
    """What the runtime did, in its own functions' words."""
    if isinstance(e, sched.NewProc):
        return _("{parent}: go {name}({arg}): newproc").format(
            parent=nm(e.parent), name=e.name.removeprefix("main."), arg=e.arg)
    if isinstance(e, sched.RunqPut):
        if not e.next:
            return _("runqput: {g} to the ring's tail").format(g=nm(e.goid))
        if not e.kicked:
            return _("runqput: {g} into the empty runnext").format(g=nm(e.goid))
        full = _("; the ring is full") if len(before.runq) == RUNQ_SIZE else ""
        return _("runqput: {g} into runnext, kicking {kicked} to the tail").format(
            g=nm(e.goid), kicked=nm(e.kicked)) + full
    if isinstance(e, sched.RunqPutSlow):
        half = e.goids[:-1]
        return _("runqputslow: the ring's first {n} ({first} ... {last}) and {g} go to the "
                 "global queue").format(n=len(half), first=nm(half[0]), last=nm(half[-1]),
                                        g=nm(e.goids[-1]))
    if isinstance(e, sched.GlobRunqPut):
        return _("globrunqput: {g} to the global queue's tail").format(g=nm(e.goid))
    if isinstance(e, sched.GlobRunqBatch):
        return _("findRunnable: the local queue is empty: {n} from the global queue, {g} to "
                 "run, the rest to the ring").format(n=len(e.goids), g=nm(e.goids[0]))
    if isinstance(e, sched.Execute):
        t, g = e.schedtick, nm(e.goid)
        how = {"runnext": _("schedule: {g} from runnext, inheriting the time slice "
                            "(schedtick stays {t})"),
               "runq": _("schedule: {g} from the ring's head (schedtick {t})"),
               "global61": _("schedule: schedtick {t1} % 61 == 0: {g} from the global queue "
                             "first (schedtick {t})"),
               "global": _("schedule: {g}, the first of the batch (schedtick {t})"),
               }.get(e.where, _("schedule: {g} on its locked M (schedtick {t})"))
        return how.format(g=g, t=t, t1=t - 1)
    if isinstance(e, sched.Park):
        return _("{g} parks (gopark: {reason})").format(g=nm(e.goid), reason=e.reason)
    if isinstance(e, sched.Ready):
        return _("{by} readies {g} (goready)").format(by=nm(e.by), g=nm(e.goid))
    if isinstance(e, sched.Yield):
        return (_("{g} calls Gosched: to the global queue") if e.to.startswith("global")
                else _("{g} yields to its own ring (goyield)")).format(g=nm(e.goid))
    if isinstance(e, sched.Exit):
        return _("{g} returns (goexit0)").format(g=nm(e.goid))
    if isinstance(e, sched.Output):
        return _("{g} records {token}").format(g=nm(e.goid), token=e.token)
    if isinstance(e, sched.HandoffP):
        return f"P{e.p} from M{e.from_m} to M{e.to_m} ({e.why})"
    return type(e).__name__


def steps(name: str) -> tuple[Step, ...]:
    """The probe's trace from main.main's first event to its end, one step per event, and
    first the queues main.main starts with; its words in the language in use."""
    return _steps(name, i18n.language())


@functools.lru_cache(maxsize=16)  # per language: a step's text is made once, translated
def _steps(name: str, _lang: str) -> tuple[Step, ...]:
    events = run(name).trace.events
    start = replay.main_start(events)
    states = replay.states(events)
    nm = replay.names(events)

    def label(g: int) -> str:
        return nm.get(g, f"G{g}")

    first = states[start - 1] if start else replay.QueueState()
    out = [Step(start - 1, None, first, first, _("main.main starts"), nm)]
    for i in range(start, len(events)):
        e = events[i]
        if isinstance(e, sched.Queues):
            continue
        out.append(Step(i, e, states[i - 1], states[i], describe(e, states[i - 1], label), nm))
    return tuple(out)


def main_parks(name: str) -> int:
    """The position (in :func:`steps`) of main's first gopark: all its goroutines queued."""
    return next(k for k, s in enumerate(steps(name))
                if isinstance(s.event, sched.Park) and s.event.goid == 1)


def overflows(name: str) -> int:
    """How many times the model's ring overflowed (runqputslow)."""
    return len(run(name).trace.of(sched.RunqPutSlow))


WHERE = {"runnext": N_("from runnext (inherits the slice)"),
         "runq": N_("from the ring's head"),
         "global61": N_("from the global queue: the 61-tick check"),
         "global": N_("from the global queue: a batch, the ring being empty"),
         "locked": N_("on its locked M")}


def rules_lines() -> list[str]:
    """The model's two constants, where go1.27.3 has them."""
    return [_("local ring: {size} slots per P          (runtime2.go, type p: "
              "runq [{size}]guintptr)").format(size=RUNQ_SIZE),
            _("global queue first every {ticks} ticks   (proc.go, findRunnable: "
              "pp.schedtick%{ticks} == 0)").format(ticks=GLOBAL_CHECK_TICKS)]


def overflow_line(names: tuple[str, ...] = ("spawn_300", "spawn_5000")) -> str:
    """How many times the model's ring overflowed in each of ``names``."""
    counts = ", ".join(f"{n} {overflows(n)}" for n in names)
    return _("ring overflows in the simulator: {counts}").format(counts=counts)


def landmark_lines(name: str, tokens: tuple[str, ...]) -> list[str]:
    """Where each of ``tokens`` printed in the recorded order and the model's, and which
    rule of findRunnable started it in the model (with its schedtick)."""
    r, res = recorded(name), run(name)
    starts = {}
    for e in res.trace.of(sched.Execute):
        starts.setdefault(e.goid, e)
    nm = replay.names(res.trace.events)
    goid = {v: k for k, v in nm.items()}
    out = [" " * 8 + rjust(_("real"), 6) + rjust(_("model"), 7) + "   "
           + _("how the model's G started")]
    for t in tokens:
        e = starts[goid[t]]  # w(i) records "wi": its token is its name
        out.append(f"{t:<8}{'#' + str(r.position(t)):>6}{'#' + str(r.position(t, True)):>7}"
                   f"   {_(WHERE[e.where])}, schedtick {e.schedtick}")
    return out


# ---- the picture ------------------------------------------------------------------------

SLOTS = 14  # queue slots drawn with their names; the rest are counted
X0, W = 2.2, 1.0  # first slot's left edge, slot width (data units)
ROWS = {"ring": 1.9, "global": 0.55}


class QueuesArt:
    """The running G, runnext, the ring (first slots named, a gauge of its 256) and the
    global queue on one Axes, built once and updated in place."""

    def __init__(self, ax) -> None:
        self.ax = ax
        ax.set_xlim(0, X0 + SLOTS * W + 2.2)
        ax.set_ylim(0, 4.2)
        ax.axis("off")
        kw = dict(ha="center", va="center", fontsize=7)
        self.boxes: dict[str, list] = {}
        for key, x, y in (("running", 0.05, 3.2), ("runnext", X0 + 2.6 * W, 3.2)):
            ax.text(x, y + 0.35, _("running") if key == "running" else key, ha="left",
                    va="center", fontsize=8)
            self.boxes[key] = [self._slot(x + (X0 - 0.05), y, 2 * W, kw)]
        self.tick = ax.text(X0 + 7.4 * W, 3.5, "", ha="left", va="center", fontsize=8)
        self.more, self.counts = {}, {}
        for key, y in ROWS.items():
            ax.text(0.05, y + 0.35, _("local ring") if key == "ring" else _("global queue"),
                    ha="left", va="center", fontsize=8)
            self.counts[key] = ax.text(0.05, y - 0.1, "", ha="left", va="center", fontsize=7)
            self.boxes[key] = [self._slot(X0 + k * W, y, W, kw) for k in range(SLOTS)]
            self.more[key] = ax.text(X0 + SLOTS * W + 0.15, y + 0.3, "", ha="left",
                                     va="center", fontsize=7)
        ax.add_patch(Rectangle((X0, ROWS["ring"] - 0.35), SLOTS * W, 0.12,
                               facecolor=PALETTE["free"], edgecolor=PALETTE["edge"],
                               linewidth=0.5))
        self.gauge = ax.add_patch(Rectangle((X0, ROWS["ring"] - 0.35), 0, 0.12,
                                            facecolor=PALETTE["frame"][0], linewidth=0))
        self.title = ax.set_title("", loc="left", fontsize=9)

    def _slot(self, x: float, y: float, w: float, kw: dict) -> tuple:
        r = self.ax.add_patch(Rectangle((x, y), w * 0.94, 0.6, facecolor=PALETTE["free"],
                                        edgecolor=PALETTE["edge"], linewidth=0.6))
        return r, self.ax.text(x + w * 0.47, y + 0.3, "", **kw)

    def _fill(self, key: str, goids: tuple[int, ...], step: Step) -> None:
        for k, (rect, text) in enumerate(self.boxes[key]):
            g = goids[k] if k < len(goids) else 0
            text.set_text(step.label(g) if g else "")
            rect.set_facecolor(PALETTE["free"] if not g else PALETTE["pointer"]
                               if g == step.moved else "#C9D6EA")

    def update(self, step: Step, title: str) -> None:
        s = step.state
        self._fill("running", (s.running,), step)
        self._fill("runnext", (s.runnext,), step)
        for key, goids in (("ring", s.runq), ("global", s.global_)):
            self._fill(key, goids, step)
            self.more[key].set_text(f"+{len(goids) - SLOTS}" if len(goids) > SLOTS else "")
        self.counts["ring"].set_text(f"{len(s.runq)}/{RUNQ_SIZE}")
        self.counts["global"].set_text(f"{len(s.global_)}")
        self.gauge.set_width(SLOTS * W * len(s.runq) / RUNQ_SIZE)
        due = (s.schedtick // GLOBAL_CHECK_TICKS + 1) * GLOBAL_CHECK_TICKS
        self.tick.set_text(f"schedtick {s.schedtick}\n"
                           + _("global queue first at {due}").format(due=due))
        self.title.set_text(title)


class QueuesPainter:
    """The step-through's figure: built once, redrawn in place for each step."""

    SIZE, RECT = (7.6, 2.7), (0.01, 0.02, 0.98, 0.86)

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self.art: QueuesArt | None = None

    def __call__(self, key: tuple[str, int], fig: Figure | None = None) -> Figure:
        name, k = key
        step = steps(name)[k]
        with draw.styled():
            if self.fig is None:
                self.fig = draw.canvas(None, self.SIZE)
                self.art = QueuesArt(self.fig.add_axes(self.RECT))
            self.art.update(step, f"{name}: {step.text}")
        return self.fig


def queues_figure(name: str, k: int | None = None) -> Figure:
    """P0's queues at step ``k`` of ``name`` (default: when main parks)."""
    return QueuesPainter()((name, main_parks(name) if k is None else k))


def show_queues(name: str, k: int | None = None) -> None:
    view.show(queues_figure(name, k))


# ---- the step-through -------------------------------------------------------------------

def _html(step: Step, position: int, total: int) -> str:
    head = _("step {n} of {total}").format(n=position + 1, total=total)
    return (f"<b>{head}</b>"
            f"<pre style='font-size: 11px; line-height: 1.25; {view.PRE_STYLE}'>"
            f"{html.escape(chr(10).join(step.lines()))}</pre>")


def queues_explorer(name: str = "spawn_10", start: int = 0):
    """A probe of the catalog, stepped event by event: buttons (back, step, next run: the
    next ``execute``), a 1-based slider, the queues' picture and a readout."""
    import ipywidgets as w

    probe = w.Dropdown(options=list(EXPLORER_PROBES), value=name, description=_("probe"))

    def new_slider(total: int):
        return w.IntSlider(value=1, min=1, max=total, description=_("step"),
                           continuous_update=False, layout=w.Layout(width="420px"))

    row = w.HBox([new_slider(len(steps(name)))])
    back, fwd = w.Button(description=_("◀ back")), w.Button(description=_("step ▶"))
    nxt = w.Button(description=_("next run »"))
    text = w.HTML()
    picture = view.Picture(QueuesPainter())
    ahead = view.Prefetch(picture)
    cur = [Cursor(steps(name), start, is_growth=lambda s: s.is_run)]

    def render(*_):
        c, p = cur[0], probe.value
        c.jump(row.children[0].value - 1)
        here = c.position
        key = (p, here)
        picture.render(key, lambda: key)  # the picture first: text and picture together
        back.disabled, fwd.disabled = c.at_start, c.at_end
        nxt.disabled = not c.growth_ahead
        text.value = _html(c.current, here, len(c))
        picture.show(key, lambda: key)
        nexts = dict.fromkeys([here + 1, Cursor(c.steps, here, is_growth=lambda s: s.is_run)
                               .next_growth(), here - 1])
        ahead.after(((p, i), lambda i=i: (p, i)) for i in nexts if 0 <= i < len(c))

    def choose(*_):
        # A new slider rather than a new max on the old one: the browser's slider
        # (noUiSlider) keeps its first range for End, Home and PageUp/PageDown after its
        # max changes, so End would stop at the first probe's last step.
        cur[0] = Cursor(steps(probe.value), 0, is_growth=lambda s: s.is_run)
        old, new = row.children[0], new_slider(len(cur[0]))
        new.observe(view.serial(render), "value")
        row.children = (new,)
        old.close()
        render()

    def move(fn: Callable[[], int]) -> Callable:
        return lambda _b: setattr(row.children[0], "value", fn() + 1)

    fwd.on_click(move(lambda: cur[0].step()))
    back.on_click(move(lambda: cur[0].back()))
    nxt.on_click(move(lambda: cur[0].next_growth()))
    row.children[0].observe(view.serial(render), "value")
    probe.observe(view.serial(choose), "value")
    row.children[0].value = start + 1
    render()
    return view.box([[probe, back, fwd, nxt], row], picture, beside=[text])
