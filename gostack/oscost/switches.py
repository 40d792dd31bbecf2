"""Switches: pinned ping-pongs between two threads, and a generator as the floor."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..i18n import N_, _, text_width
from . import run
from .children import PY_RUNGS
from .proc import fmt_ns


@dataclass(frozen=True)
class Rung:
    """One ping-pong: the cost of one switch (half a round trip), medians of the repeats."""

    name: str
    label: str
    ns: float  # wall time per switch
    cpu_ns: float  # CPU time per switch (both sides)
    csw_per_round_trip: float  # kernel context switches (voluntary + involuntary)
    kernel_share: float | None  # system time / CPU time
    ns_range: tuple[float, float]

    @classmethod
    def from_reps(cls, name: str, label: str, reps: Sequence[Mapping]) -> Rung:
        per = [2 * r["rounds"] for r in reps]
        ns = [r["wall_ns"] / k for r, k in zip(reps, per, strict=True)]
        cpu = [r["cpu_ns"] / k for r, k in zip(reps, per, strict=True)]
        csw = [r["csw"] / r["rounds"] for r in reps]
        share = None
        if all("stime_ns" in r for r in reps):
            share = statistics.median(r["stime_ns"] / max(1, r["cpu_ns"]) for r in reps)
        return cls(name, label, statistics.median(ns), statistics.median(cpu),
                   statistics.median(csw), share, (min(ns), max(ns)))


PY_LABELS = {  # English; lesson 01's figure translates them (N_)
    "pipe": N_("threads, pipe (kernel handoff)"),
    "lock": N_("threads, Lock handoff"),
    "event": N_("threads, Event handoff"),
    "generator": N_("generator send()"),
}


def switch_ladder(reps: int = 3, scale: float = 1.0, timeout: float = 60.0,
                  rungs: Sequence[str] = tuple(PY_RUNGS)) -> dict[str, Rung]:
    """The Python rungs, pinned to one CPU, in one child: ``reps`` interleaved repeats of
    each (``scale`` multiplies the round trips)."""
    d = run.run_python("switch", timeout, reps=reps, scale=scale, rungs=list(rungs)).get()
    return {name: Rung.from_reps(name, PY_LABELS[name], reps_)
            for name, reps_ in d["rungs"].items()}


def ladder_table(rungs: Iterable[Rung]) -> str:
    """The rungs, slowest first, as a text table in the language in use (Hangul takes two
    columns)."""
    rows = [" ".join([ljust(_("ping-pong"), 34), rjust(_("per switch"), 10),
                      rjust(_("range"), 17), f"{'CPU':>9}", rjust(_("kernel csw/round trip"), 21)])]
    for r in sorted(rungs, key=lambda r: -r.ns):
        lo, hi = r.ns_range
        rows.append(f"{ljust(_(r.label), 34)} {fmt_ns(r.ns):>10} "
                    f"{fmt_ns(lo) + '..' + fmt_ns(hi):>17} "
                    f"{fmt_ns(r.cpu_ns):>9} {r.csw_per_round_trip:>21.2f}")
    return "\n".join(rows)


def ljust(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def rjust(text: str, width: int) -> str:
    return " " * (width - text_width(text)) + text
