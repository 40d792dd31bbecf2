"""Lesson 12, the runtime's own goroutines: the GC's mark workers, counted in real Go
(gostack/sched/sysgprobe.py, recorded in gostack/data/sched_sysg_recorded.json), and the
25% of the Ps they are meant to take while the GC marks.

Invariants: tables are built from the recording (or a live run) only; :func:`mark_split`
follows go1.27.3 mgcpacer.go ``gcControllerState.startCycle`` with
``gcBackgroundUtilization = 0.25``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import _
from ..sched import sysgprobe
from .l12_stealing_preemption import ljust

#: The configurations the table shows ("4" is the first two rows of "4,2,8").
TABLE_CONFIGS = ("1", "2", "4,2,8")


@dataclass(frozen=True)
class Split:
    """What ``startCycle`` asks of the Ps for one mark phase."""

    procs: int
    dedicated: int  # Ps that run a worker until marking ends
    fractional: float  # share of its time each other P gives to a worker


def mark_split(procs: int) -> Split:
    """``startCycle``: 25% of ``procs`` rounded to dedicated workers; if rounding is off
    by more than 30%, round down and make up the rest with fractional workers."""
    goal = procs * 0.25
    dedicated = int(goal + 0.5)
    if abs(dedicated / goal - 1) > 0.3:
        if dedicated > goal:
            dedicated -= 1
        return Split(procs, dedicated, (goal - dedicated) / procs)
    return Split(procs, dedicated, 0.0)


def split_table(procs: Sequence[int] = (1, 2, 4, 8)) -> list[str]:
    out = [ljust("GOMAXPROCS", 12) + ljust(_("dedicated workers"), 22)
           + _("fractional: each P's share")]
    for p in procs:
        s = mark_split(p)
        out.append(f"{p:<12}{s.dedicated:<22}{s.fractional:.0%}")
    return out


def _status(c: sysgprobe.Census) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(c.worker_status.items())) or "-"


def census_table(runs_by_config: dict[str, list[list[sysgprobe.Census]]] | None = None,
                 configs: Sequence[str] = TABLE_CONFIGS) -> list[str]:
    """One row per census of the first run: GOMAXPROCS (the values it had so far, since
    workers started at 4 outlive a switch to 2), GCs so far, NumGoroutine, all
    goroutines (gcount(true)), the mark workers and their wait reason, and in how many
    runs that census was the same."""
    if runs_by_config is None:
        recorded = sysgprobe.load_recorded()
        runs_by_config = {n: sysgprobe.recorded_runs(n, recorded) for n in configs}
    out = [ljust("GOMAXPROCS", 12) + ljust(_("GCs"), 8) + ljust("NumGoroutine", 14)
           + ljust(_("all"), 6) + ljust(_("mark workers"), 28) + _("runs")]
    for name in configs:
        runs = runs_by_config[name]
        seen: list[int] = []  # GOMAXPROCS values so far in this run, e.g. 4→2→8
        for i, c in enumerate(runs[0]):
            same = sum(r[i] == c for r in runs)
            if not seen or seen[-1] != c.gomaxprocs:
                seen.append(c.gomaxprocs)
            procs = "→".join(map(str, seen))
            out.append(f"{procs:<12}{c.gcs:<8}{c.num_goroutine:<14}{c.all_goroutines:<6}"
                       + ljust(f"{c.workers} ({_status(c)})", 28) + f"{same}/{len(runs)}")
    return out


def workers_expected(procs: Sequence[int]) -> list[int]:
    """The claim, per census: none before the first GC, then the most GOMAXPROCS any GC
    so far started with (gcBgMarkStartWorkers only adds)."""
    return [0] + [max(procs[:k]) for k in range(1, len(procs) + 1)]


def claim_holds(name: str, run: Sequence[sysgprobe.Census]) -> bool:
    """The run shows the claim: the worker count is :func:`workers_expected`, every worker
    is parked idle, and NumGoroutine counts only main."""
    procs = sysgprobe.CONFIGS[name]
    return ([c.workers for c in run] == workers_expected(procs)
            and all(c.worker_status == ({"GC worker (idle)": c.workers} if c.workers else {})
                    for c in run)
            and all(c.num_goroutine == 1 for c in run))


def live_runs(runs: int = 3) -> dict[str, list[list[sysgprobe.Census]]]:
    """sysgprobe's program built and run here ``runs`` times per configuration (needs Go)."""
    binary = sysgprobe.build()
    return {n: [sysgprobe.run_once(binary, n) for _i in range(runs)] for n in sysgprobe.CONFIGS}


def live_lines(runs: int = 2) -> list[str]:
    """Per configuration, in how many of ``runs`` live runs :func:`claim_holds`."""
    made = live_runs(runs)
    return [_("live {held}/{runs}  GOMAXPROCS {procs}: workers after 0, 1, ... GCs {workers}, "
              "NumGoroutine 1").format(
                held=sum(claim_holds(n, r) for r in rs), runs=runs, procs=n,
                workers=workers_expected(sysgprobe.CONFIGS[n]))
            for n, rs in made.items()]
