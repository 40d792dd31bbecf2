"""Which G ran on which P, when: the M/P/G timeline of one stage-2 run (procs.py).

    from gostack.sched import timeline
    tl = timeline.run(workload, seed=0)
    tl.slices        # (Slice(p, m, goid, start, end, ended), ...) in start order
    tl.steals, tl.preempts

procs.Sim keeps no record of who ran when (its trace has the Ms' starts and stops,
the steals, sysmon's preemptions and retakes). :class:`Recording` is a Sim that asks
``run`` for its per-event ``check`` and, after the invariants, reads each P's state:
the G its M runs (``state == "run"``), if any. A change closes one slice and opens
another. Nothing in the simulation changes: same seed, same ``Outcome``.

Invariants:

* a slice is one stretch of one G on one P (and one M), from the event that gave the
  M the G (``schedule``) to the event after which it no longer runs it; ``ended`` is
  the G's status then: ``dead`` (goexit), ``waiting`` (parked), ``syscall`` (its M
  entered one), ``runnable`` (preempted: ``gopreempt_m`` put it on the global queue),
  ``running`` (main, when the run ends);
* on one P the slices do not overlap, and each lies within [0, drain];
* a steal is marked when it happens (``stealWork`` returned a G), a preemption when
  sysmon asked for it (``preemptone``) and, for a signal, where the slice ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .clock import DEFAULT_COSTS, Costs
from .procs import Sim
from .runtime2 import GStatus
from .steal import Steal
from .sysmon import Preempt
from .trace import At, StartM
from .workload import Outcome, Workload

ENDED = {GStatus.DEAD: "dead", GStatus.WAITING: "waiting", GStatus.RUNNABLE: "runnable",
         GStatus.RUNNING: "running"}


@dataclass(frozen=True, slots=True)
class Slice:
    """G ``goid`` ran on P ``p`` (thread M ``m``) from ``start`` to ``end`` (ns since
    main.main began); ``ended``: its status when it stopped (see the invariants)."""

    p: int
    m: int
    goid: int
    start: int
    end: int
    ended: str

    @property
    def ns(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Timeline:
    """One seeded run drawn as lanes: its slices, and the run's own outcome and trace."""

    outcome: Outcome
    slices: tuple[Slice, ...]

    @property
    def gomaxprocs(self) -> int:
        return self.outcome.workload.gomaxprocs

    @property
    def end(self) -> int:
        return self.outcome.drain_ns

    def events(self, kind: type) -> Iterator[At]:
        return (a for a in self.outcome.trace if isinstance(a.what, kind))

    @property
    def steals(self) -> tuple[At, ...]:
        """When each successful ``stealWork`` happened, with its :class:`Steal`."""
        return tuple(self.events(Steal))

    @property
    def preempts(self) -> tuple[At, ...]:
        """sysmon's ``preemptone`` requests, with their :class:`Preempt`."""
        return tuple(self.events(Preempt))

    @property
    def spinning_starts(self) -> tuple[At, ...]:
        """The spinning Ms ``wakep`` started (StartM, spinning, why "wakep")."""
        return tuple(a for a in self.events(StartM) if a.what.spinning and a.what.why == "wakep")

    def lane(self, p: int) -> tuple[Slice, ...]:
        return tuple(s for s in self.slices if s.p == p)

    def of(self, goid: int) -> tuple[Slice, ...]:
        return tuple(s for s in self.slices if s.goid == goid)


class Recording(Sim):
    """procs.Sim that writes down each P's running G after every event."""

    def __init__(self, wl: Workload, seed: int = 0, costs: Costs = DEFAULT_COSTS):
        super().__init__(wl, seed, costs)
        self.open: dict[int, tuple[int, int, int]] = {}  # P -> (goid, m, start)
        self.slices: list[Slice] = []

    def check(self) -> None:
        super().check()
        for pp in self.w.allp:
            th = self.thread_of(pp)
            now = (th.g.goid, th.m.id) if th and th.state == "run" and th.g else None
            was = self.open.get(pp.id)
            if was and (was[0], was[1]) != now:
                self._close(pp.id)
            if now and pp.id not in self.open:
                self.open[pp.id] = (*now, self.now)

    def _close(self, p: int) -> None:
        goid, m, start = self.open.pop(p)
        g = self.w.allgs[goid - 1]
        ended = "syscall" if self.threads[m].state == "syscall" else ENDED[g.status]
        self.slices.append(Slice(p, m, goid, start, self.now, ended))

    def timeline(self) -> Timeline:
        o = self.run(check=True)
        for p in sorted(self.open):  # main, still running when it saw the last one finish
            self._close(p)
        return Timeline(o, tuple(sorted(self.slices, key=lambda s: (s.start, s.p))))


def run(wl: Workload, seed: int = 0, costs: Costs = DEFAULT_COSTS) -> Timeline:
    """One seeded run of ``wl`` with its timeline (the same run as procs.simulate)."""
    return Recording(wl, seed, costs).timeline()
