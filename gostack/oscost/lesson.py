"""The whole lesson: every measurement once, live where it can run, else recorded; the
summary figure's data and the thread/goroutine ratios."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..i18n import N_, _
from . import proc
from .gocost import GoCosts, goroutines, machine
from .limits import THREAD_COUNTS, Limits, Plan, plan_threads, read_limits
from .proc import _sig2
from .run import MeasurementError
from .switches import Rung, switch_ladder
from .threads import (
    AddressSpaceDemo,
    Creation,
    LazyStacks,
    Series,
    StackReservation,
    ThreadMemory,
    Verdict,
    address_space_limit,
    lazy_stacks,
    load_recorded_threads,
    stack_reservation,
    thread_creation,
    thread_memory_series,
    verdict,
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    who: str  # "thread", "goroutine" or "other": the colour


def comparison(mem: ThreadMemory, creation: Mapping[str, Creation], rungs: Mapping[str, Rung],
               go: GoCosts) -> list[tuple[str, str, list[Bar]]]:
    """(title, unit, bars): the panels that gostack.lessons.l01_thread_cost draws (titles
    and labels in English, marked for the catalog: the figure translates them)."""
    g = go.memory[min(go.memory, key=lambda n: abs(n - mem.n))]
    gl = go.largest
    memory = [
        Bar(N_("thread: reserved (VmSize)"), mem.reserved, "thread"),
        Bar(N_("thread: resident + kernel"), mem.real, "thread"),
        Bar(N_("thread: resident (VmRSS)"), mem.resident, "thread"),
        Bar(N_("goroutine: resident"), g.resident, "goroutine"),
        Bar(N_("goroutine: stack"), g.stack, "goroutine"),
    ]
    create = [Bar(N_("Python thread"), creation["python"].cpu_ns, "thread")]
    if "pthread" in creation:
        create.append(Bar(N_("raw pthread"), creation["pthread"].cpu_ns, "thread"))
    create.append(Bar(N_("goroutine"), gl.create_cpu_ns, "goroutine"))
    order = [("event", "thread"), ("lock", "thread"), ("pipe", "thread")]
    switch = [Bar(rungs[k].label, rungs[k].ns, who) for k, who in order if k in rungs]
    switch += [Bar(go.rungs["locked"].label, go.rungs["locked"].ns, "thread"),
               Bar(go.rungs["chan_p1"].label, go.rungs["chan_p1"].ns, "goroutine")]
    if "generator" in rungs:
        switch.append(Bar(rungs["generator"].label, rungs["generator"].ns, "other"))
    return [(N_("memory per unit"), "bytes", memory),
            (N_("creation, CPU time per unit"), "ns", create),
            (N_("one switch, wall time"), "ns", switch)]


def ratios(mem: ThreadMemory, creation: Mapping[str, Creation], rungs: Mapping[str, Rung],
           go: GoCosts) -> dict[str, float]:
    """Thread cost / goroutine cost, each from the same kind of measurement."""
    g = go.memory[min(go.memory, key=lambda n: abs(n - mem.n))]
    chan = go.rungs["chan_p1"].ns
    out = {
        "reserved (VmSize) / goroutine stack": mem.reserved / g.stack,
        "resident (VmRSS)": mem.resident / g.resident,
        "resident + kernel": mem.real / g.resident,
        "creation, CPU": creation["python"].cpu_ns / go.largest.create_cpu_ns,
        "switch, pipe (kernel handoff)": rungs["pipe"].ns / chan,
        "switch, Lock handoff": rungs["lock"].ns / chan,
    }
    if "event" in rungs:
        out["switch, Event handoff"] = rungs["event"].ns / chan
    return out


def ratio_table(r: Mapping[str, float]) -> str:
    """Ratios with their order of magnitude: '16x (10^1)'."""
    import math

    rows = [f"{'thread / goroutine':<36} {'ratio':>8}  {'orders of magnitude':>19}"]
    for k, v in r.items():
        rows.append(f"{k:<36} {_sig2(v) + 'x':>8}  {math.log10(v):>19.1f}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------
# The whole lesson: every measurement once, live where it can run, else recorded
# ---------------------------------------------------------------------------

#: The parts of :class:`ThreadCost` that come from Python children (Go's are separate).
PARTS = ("limits", "reservation", "threads", "address_space", "creation", "switch", "lazy")


@dataclass(frozen=True)
class ThreadCost:
    """Lesson 01's measurements. ``recorded`` maps each part that could not run here to
    why; those parts hold the numbers recorded on ``machine`` on ``date``."""

    limits: Limits
    plan: Plan
    reservation: StackReservation
    series: Series
    address_space: AddressSpaceDemo
    creation: dict[str, Creation]
    rungs: dict[str, Rung]
    lazy: LazyStacks
    go: GoCosts
    recorded: dict[str, str] = field(default_factory=dict)
    machine: str = ""  # where the recorded parts come from
    date: str = ""
    pinned: bool = True  # the switch ladder's two threads shared one CPU

    @property
    def verdict(self) -> Verdict:
        return verdict(self.series)

    @property
    def ratios(self) -> dict[str, float]:
        return ratios(self.series.largest, self.creation, self.rungs, self.go)

    def comparison(self) -> list[tuple[str, str, list[Bar]]]:
        return comparison(self.series.largest, self.creation, self.rungs, self.go)

    def notes(self) -> list[str]:
        """One line per part that is not live here, saying whose numbers it shows and why."""
        out = [_("{part}: recorded on {machine} on {date}, since {why}").format(
                   part=part, machine=self.machine, date=self.date, why=why)
               for part, why in self.recorded.items()]
        if self.go.source != "live":
            out.append(_("goroutines: {label}, since {why}").format(label=self.go.label,
                                                                     why=self.go.reason))
        elif self.go.partial:
            out.append(_("goroutines: {partial}").format(partial=self.go.partial))
        if not self.pinned:
            out.append(_("switch: measured live, but not pinned to one CPU (this system has "
                         "no sched_setaffinity), so a handoff may also cross CPUs"))
        return out


def thread_cost(budget: float = 15.0, go_build_timeout: float = 10.0,
                recorded_path: Path | str | None = None) -> ThreadCost:
    """Every measurement of lesson 01, each in its own bounded child. A part that cannot
    run here (no /proc, no glibc, a limit, a timeout) comes back as recorded, with the
    reason in ``recorded``; the lesson runs top to bottom either way."""
    rec = load_recorded_threads(recorded_path)
    why: dict[str, str] = {}

    def part(name: str, live: Callable):
        try:
            return live()
        except (MeasurementError, OSError) as e:
            why[name] = str(e) or type(e).__name__
            return rec[name]

    limits = read_limits()
    if not limits.found:
        why["limits"] = f"there is no {proc.PROC} here"
        limits = rec["limits"]
    plan = plan_threads(THREAD_COUNTS, limits)
    reservation = part("reservation", stack_reservation)
    series = thread_memory_series(plan.counts, budget=budget)
    if not series.results:
        why["threads"] = "; ".join(f"{n:,}: {e}" for n, e in series.failed.items()) or \
            "no thread count fits this machine's limits"
        series = rec["threads"]
    demo = address_space_limit(limits=limits)
    if demo.source != "live":
        why["address_space"] = demo.reason or "the live run failed"
    creation = part("creation", thread_creation)
    rungs = part("switch", switch_ladder)
    lazy = part("lazy", lazy_stacks)
    return ThreadCost(limits, plan, reservation, series, demo, creation, rungs, lazy,
                      goroutines(build_timeout=go_build_timeout), why, rec["machine"],
                      rec["date"], pinned="switch" in why or hasattr(os, "sched_setaffinity"))


def _record_threads(path: Path) -> int:
    """Measure every part live (no fallback) and write them, atomically."""
    limits = read_limits()
    series = thread_memory_series(plan_threads(THREAD_COUNTS, limits).counts, budget=60)
    demo = address_space_limit(limits=limits, fallback=False)
    fields = ("limit", "default_stack", "small_stack", "default_threads", "small_threads",
              "default_rss", "small_rss", "stopped")
    parts = {
        "limits": asdict(limits),
        "reservation": asdict(stack_reservation()),
        "threads": {str(n): asdict(m) for n, m in series.results.items()},
        "address_space": {k: getattr(demo, k) for k in fields},
        "creation": {k: asdict(c) for k, c in thread_creation().items()},
        "switch": {k: asdict(r) for k, r in switch_ladder().items()},
        "lazy": asdict(lazy_stacks()),
    }
    rec = {"what": "every Python-side measurement of lesson 01 (gostack.oscost.thread_cost),"
                   " live", "machine": machine(), "date": time.strftime("%Y-%m-%d"),
           "parts": parts}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"recorded {path}")
    return 0
