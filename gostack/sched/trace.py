"""The scheduler's event trace: frozen records of what the runtime did, in order.

Tests read it now; figures, widgets and the grader will read it later. Events name
goroutines by goid and Ps by id (never by object), so a trace compares and pickles
like plain data. ``where`` in :class:`Execute` says which rule of ``findRunnable`` chose
the G (``runnext``, ``runq``, ``global`` (the batch when the local queue is empty),
``global61`` (the schedtick % 61 fairness check) or ``locked`` (runtime.main handed
back to m0, which it is locked to during init)).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NewProc:
    """newproc: ``goid`` created by ``parent`` (0: rt0_go, before any G runs)."""

    parent: int
    goid: int
    name: str
    arg: int


@dataclass(frozen=True, slots=True)
class RunqPut:
    """runqput on P ``p``: ``goid`` into runnext (``next``) or the ring's tail; ``kicked``
    is the old runnext that went to the tail instead (0: none)."""

    p: int
    goid: int
    next: bool
    kicked: int = 0


@dataclass(frozen=True, slots=True)
class RunqPutSlow:
    """runqputslow: the ring was full; its first half and ``goids[-1]`` went to the
    global queue, in this order."""

    p: int
    goids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GlobRunqPut:
    """globrunqput: ``goid`` to the global queue's tail (Gosched, or a G readied without a P)."""

    goid: int


@dataclass(frozen=True, slots=True)
class GlobRunqBatch:
    """findRunnable took ``goids`` from the global queue: the first runs, the rest go to
    the local ring (globrunqgetbatch + runqputbatch)."""

    p: int
    goids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Execute:
    """execute: ``goid`` runs on P ``p``; ``schedtick`` is the P's tick after it."""

    p: int
    m: int
    goid: int
    where: str
    inherit: bool
    schedtick: int


@dataclass(frozen=True, slots=True)
class Park:
    """gopark: ``goid`` stops running and waits (``reason`` as in a Go traceback)."""

    goid: int
    reason: str


@dataclass(frozen=True, slots=True)
class Ready:
    """ready/goready: ``by`` made ``goid`` runnable (it goes to runnext of ``by``'s P)."""

    goid: int
    by: int


@dataclass(frozen=True, slots=True)
class Yield:
    """goschedImpl (``to`` = "global") or goyield_m (``to`` = "local")."""

    goid: int
    to: str


@dataclass(frozen=True, slots=True)
class Exit:
    """goexit0: ``goid`` returned from its function."""

    goid: int


@dataclass(frozen=True, slots=True)
class HandoffP:
    """The P went from M ``from_m`` to M ``to_m`` (stoplockedm/handoffp/startm, or
    startlockedm); ``new_m``: startm had no idle M and created a thread."""

    p: int
    from_m: int
    to_m: int
    why: str
    new_m: bool = False


@dataclass(frozen=True, slots=True)
class Queues:
    """The queues right after an :class:`Execute` (only with ``snapshots=True``): what the
    run-queue step-through draws. goids; ``runq`` head first, ``global_`` head first."""

    p: int
    running: int
    runnext: int  # 0: empty
    runq: tuple[int, ...]
    global_: tuple[int, ...]
    schedtick: int


@dataclass(frozen=True, slots=True)
class Output:
    """A probe statement recorded ``token`` (what the real program records)."""

    goid: int
    token: str


@dataclass(frozen=True, slots=True)
class At:
    """A timed event of stage 2's trace (procs.py): ``what`` happened at virtual ``t`` ns."""

    t: int
    what: object


@dataclass(frozen=True, slots=True)
class StartM:
    """startm: M ``m`` takes P ``p`` (``new``: a thread was created; ``why``)."""

    m: int
    p: int
    spinning: bool
    new: bool
    why: str


@dataclass(frozen=True, slots=True)
class StopM:
    """stopm: M ``m`` parks with no P."""

    m: int


Event = (NewProc | RunqPut | RunqPutSlow | GlobRunqPut | GlobRunqBatch | Execute | Park
         | Ready | Yield | Exit | HandoffP | Queues | Output)


@dataclass(frozen=True)
class SchedTrace:
    """Every event of one run, in order, and the probe's output tokens."""

    events: tuple[Event, ...]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def of(self, kind: type) -> tuple:
        return tuple(e for e in self.events if isinstance(e, kind))

    @property
    def output(self) -> tuple[str, ...]:
        return tuple(e.token for e in self.events if isinstance(e, Output))

    @property
    def run_order(self) -> tuple[int, ...]:
        """goids in the order ``execute`` started them (a G appears once per slice)."""
        return tuple(e.goid for e in self.events if isinstance(e, Execute))

    def executes(self, goids: Sequence[int] | None = None) -> tuple[Execute, ...]:
        ex = self.of(Execute)
        return ex if goids is None else tuple(e for e in ex if e.goid in set(goids))
