"""What a stage-2 run does and what it measured: the twin of probe.py for procs.py.

Invariants: a :class:`Workload` is statprobe's program with the same arguments (mode,
n, GOMAXPROCS) plus the calibration the model needs (``work_ns``, ``idle_ms``); an
:class:`Outcome` holds the counters statprobe prints, computed the same way, and the
run's frozen timed trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .steal import Steal
from .trace import At


@dataclass(frozen=True)
class Workload:
    """statprobe's program: main spawns ``n`` goroutines of ``mode`` then waits."""

    mode: str  # spin | nanosleep | read | chan | hog
    n: int
    gomaxprocs: int
    work_ns: int = 0  # spin: CPU per goroutine; nanosleep: sleep length; hog: its spin
    settle_ns: int = 30_000_000  # main's time.Sleep before it counts threads
    idle_ms: int = 1  # idle Ms when main.main starts (threads_start - m0 - sysmon)
    async_preempt: bool = True  # GODEBUG=asyncpreemptoff=1: False

    @property
    def goroutines(self) -> int:
        return self.n + (self.mode == "hog")


@dataclass(frozen=True)
class Outcome:
    """What one simulated run measured (the same counters statprobe prints)."""

    workload: Workload
    seed: int
    main_p: int
    per_p: dict[int, int]  # P -> goroutines that started on it
    per_m: tuple[int, ...]  # goroutines per M, largest first
    threads_created: int  # Ms created after main.main started
    threads_blocked: int  # threads (Ms + sysmon) when main woke from its sleep
    drain_ns: int
    steals: tuple[Steal, ...]
    trace: tuple[At, ...] = field(repr=False)
    hog: dict | None = None  # hog mode: start_ns, end_ns, first_other_ns, others_during

    @property
    def off_main_p(self) -> int:
        return self.workload.n - self.per_p.get(self.main_p, 0)

    @property
    def ps_used(self) -> int:
        return sum(1 for c in self.per_p.values() if c)
