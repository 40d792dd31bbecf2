"""Stage 2's measured claims: the model's distributions against real Go's.

Invariants: a claim names what was measured, in which configuration, and is checked
on both sides by the same function of one run (a :class:`~gostack.sched.statprobe.Run`
from real Go, a :class:`~gostack.sched.procs.Outcome` from the model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STATS_PATH = Path(__file__).resolve().parent.parent / "data" / "sched_stats_recorded.json"


@dataclass(frozen=True)
class Config:
    """One configuration of statprobe's program."""

    mode: str
    n: int
    work: int  # spin: xorshift rounds per goroutine; nanosleep: µs
    gomaxprocs: int


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
}


def load_recorded(path: Path | str | None = None) -> dict:
    return json.loads(Path(path or STATS_PATH).read_text())
