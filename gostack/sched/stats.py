"""Stage 2's measured claims: the model's distributions against real Go's.

Invariants: a claim names what was measured, in which configuration, and is checked
on both sides by the same function of one run (a :class:`~gostack.sched.statprobe.Run`
from real Go, a :class:`~gostack.sched.procs.Outcome` from the model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from .clock import DEFAULT_COSTS, Costs
from .procs import Outcome, Workload, simulate

STATS_PATH = Path(__file__).resolve().parent.parent / "data" / "sched_stats_recorded.json"


@dataclass(frozen=True)
class Config:
    """One configuration of statprobe's program."""

    mode: str
    n: int
    work: int  # spin: xorshift rounds per goroutine; nanosleep, hog: µs
    gomaxprocs: int
    godebug: str = ""


CONFIGS: dict[str, Config] = {
    "spin_p1_w20000": Config("spin", 1000, 20000, 1),
    "spin_p2_w20000": Config("spin", 1000, 20000, 2),
    "spin_p4_w20000": Config("spin", 1000, 20000, 4),
    "spin_p4_w2000": Config("spin", 1000, 2000, 4),
    "nanosleep_p1_n20": Config("nanosleep", 20, 50000, 1),
    "nanosleep_p4_n20": Config("nanosleep", 20, 50000, 4),
    "read_p1_n20": Config("read", 20, 0, 1),
    "read_p1_n60": Config("read", 60, 0, 1),
    "chan_p1_n20": Config("chan", 20, 0, 1),
    "chan_p1_n60": Config("chan", 60, 0, 1),
    "chan_p4_n20": Config("chan", 20, 0, 4),
    "hog_p1_n20": Config("hog", 20, 20000, 1),
    "hog_p1_n20_asyncoff": Config("hog", 20, 20000, 1, "asyncpreemptoff=1"),
}


def load_recorded(path: Path | str | None = None) -> dict:
    return json.loads(Path(path or STATS_PATH).read_text())


def workload(name: str, recorded: dict | None = None) -> Workload:
    """The model's workload for configuration ``name``, calibrated from the recording:
    ``work_ns`` (spin) is the median of the program's own one-goroutine timing,
    ``idle_ms`` the median threads at main's start minus m0 and sysmon."""
    c = CONFIGS[name]
    runs = (recorded or load_recorded())["configs"][name]["runs"]
    work = (int(median(r["work_ns"] for r in runs)) if c.mode == "spin"
            else c.work * 1000 if c.mode in ("nanosleep", "hog") else 0)
    idle = max(0, int(median(r["threads_start"] for r in runs)) - 2)
    return Workload(c.mode, c.n, c.gomaxprocs, work, idle_ms=idle,
                    async_preempt="asyncpreemptoff=1" not in c.godebug)


def model_runs(name: str, seeds: range = range(100), recorded: dict | None = None,
               costs: Costs = DEFAULT_COSTS) -> list[Outcome]:
    wl = workload(name, recorded)
    return [simulate(wl, s, costs) for s in seeds]
