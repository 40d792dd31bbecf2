"""The run queues after every event of a trace: a fold over stage 1's events, for the
pictures and step-throughs that show them (lesson 10).

Invariants:

* the state after an event depends only on the state before it and the event: no
  simulator runs here, so a picture of step k is a pure function of the trace;
* each rule undoes exactly what the emitting function of runq.py / schedule.py did:
  ``RunqPut`` (runnext, and the kicked G or the G itself to the ring's tail while the ring
  has room), ``RunqPutSlow`` (the ring's first half and the new G to the global queue),
  ``GlobRunqPut``, ``GlobRunqBatch`` (the batch leaves the global queue; all but the first
  go to the ring), ``Execute`` (the G leaves where ``where`` says; ``schedtick``);
* after every ``Execute`` the state equals the machine's own snapshot (the ``Queues``
  event of ``run(..., snapshots=True)``): tests/test_sched_replay.py checks it for every
  probe of the catalog.

One P (stage 1). Goroutines are named as the program names them (:func:`names`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .runtime2 import RUNQ_SIZE
from .trace import (
    Execute,
    Exit,
    GlobRunqBatch,
    GlobRunqPut,
    NewProc,
    Park,
    RunqPut,
    RunqPutSlow,
    SchedTrace,
    Yield,
)

#: The runtime's own goroutines of startup.py, by goid (what a learner sees instead).
RUNTIME_NAMES = {1: "main", 2: "forcegc", 3: "bgsweep", 4: "bgscavenge", 5: "G5"}


@dataclass(frozen=True)
class QueueState:
    """P0's queues and the running G (goids; 0: none). ``runq`` and ``global_`` head first."""

    running: int = 0
    runnext: int = 0
    runq: tuple[int, ...] = ()
    global_: tuple[int, ...] = ()
    schedtick: int = 0

    def order(self) -> tuple[int, ...]:
        """Who runs next if nothing else happens and no 61-tick check falls due: runnext,
        the ring, then the global queue."""
        return ((self.runnext,) if self.runnext else ()) + self.runq + self.global_


def apply(s: QueueState, e: object) -> QueueState:
    """The state after event ``e`` (events that do not touch the queues leave it as is)."""
    if isinstance(e, RunqPut):
        if e.next:
            s = replace(s, runnext=e.goid)
            to_ring = e.kicked
        else:
            to_ring = e.goid
        if to_ring and len(s.runq) < RUNQ_SIZE:  # full: a RunqPutSlow follows
            s = replace(s, runq=s.runq + (to_ring,))
        return s
    if isinstance(e, RunqPutSlow):
        half = len(e.goids) - 1
        if s.runq[:half] != e.goids[:half]:
            raise ValueError(f"runqputslow moved {e.goids[:3]}..., the ring's head is "
                             f"{s.runq[:3]}...")
        return replace(s, runq=s.runq[half:], global_=s.global_ + e.goids)
    if isinstance(e, GlobRunqPut):
        return replace(s, global_=s.global_ + (e.goid,))
    if isinstance(e, GlobRunqBatch):
        n = len(e.goids)
        if s.global_[:n] != e.goids:
            raise ValueError(f"batch {e.goids[:3]}... is not the global queue's head")
        return replace(s, global_=s.global_[n:], runq=s.runq + e.goids[1:])
    if isinstance(e, Execute):
        return replace(_take(s, e), running=e.goid, schedtick=e.schedtick)
    if isinstance(e, Park | Exit | Yield) and e.goid == s.running:
        return replace(s, running=0)
    return s


def _take(s: QueueState, e: Execute) -> QueueState:
    """The G that ``execute`` starts leaves the place ``findRunnable`` took it from (a
    locked G's ``where`` is "locked": from wherever it was)."""
    g = e.goid
    if e.where in ("runnext", "locked") and s.runnext == g:
        return replace(s, runnext=0)
    if e.where in ("runq", "locked") and s.runq[:1] == (g,):
        return replace(s, runq=s.runq[1:])
    if e.where in ("global61", "locked") and s.global_[:1] == (g,):
        return replace(s, global_=s.global_[1:])
    if e.where == "global" or (e.where == "locked" and g not in s.order()):
        return s  # the batch already left the global queue (GlobRunqBatch)
    raise ValueError(f"execute G{g} from {e.where}: not there in {s}")


def states(events: Sequence[object] | SchedTrace) -> tuple[QueueState, ...]:
    """The state after each event, in order."""
    out, s = [], QueueState()
    for e in events:
        s = apply(s, e)
        out.append(s)
    return tuple(out)


def names(events: Sequence[object] | SchedTrace) -> dict[int, str]:
    """goid -> the name a learner knows: ``w9`` for ``go w(9)``, ``main``, or the
    runtime's helpers (:data:`RUNTIME_NAMES`)."""
    out = dict(RUNTIME_NAMES)
    for e in events:
        if isinstance(e, NewProc) and e.name.startswith("main."):
            out[e.goid] = f"{e.name.removeprefix('main.')}{e.arg}"
    return out


def main_start(events: Sequence[object] | SchedTrace) -> int:
    """The index of the first event of ``main.main`` (after startup.py's runtime.main
    put G5 in runnext); 0 if the trace has no such startup."""
    evs = list(events)
    for i, e in enumerate(evs):
        if isinstance(e, NewProc) and e.name == "runtime.updateMaxProcsGoroutine":
            return i + 2  # the NewProc and its RunqPut
    return 0
