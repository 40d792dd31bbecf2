"""G, M, P and the scheduler's globals, as go1.27.3 ``runtime/runtime2.go`` declares them.

Invariants (checked by :func:`check_invariants`, which the tests call after every step):

* a G is in at most one place: ``P.runnext``, one slot of a P's ring, the global queue,
  a wait queue (channel, semaphore) or running on an M; ``_Grunnable`` Gs are exactly
  the queued ones;
* a P's ring holds ``runqtail - runqhead`` Gs, never more than 256 (``len(p.runq)``),
  and head/tail are uint32 counters that only grow (``runqget`` and ``runqputslow``
  move the head, ``runqput`` the tail); a slot is ``runq[index % 256]``;
* ``schedtick`` grows by one in ``execute`` for every G that does not inherit the time
  slice (``inheritTime``: taken from ``runnext``).

Only what ordering depends on is kept: no stacks (part 1 models those), no sudog cache,
no goid cache beyond its batching (``newproc1``: batches of ``_GoidCacheBatch`` = 16,
sequential on one P). The running simulator mutates these objects; what leaves it (the
trace, the output) is immutable.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: len(p.runq): the local run queue is a 256-slot ring (runtime2.go, type p).
RUNQ_SIZE = 256
#: findRunnable checks the global queue first when schedtick % 61 == 0 (proc.go).
GLOBAL_CHECK_TICKS = 61
#: _GoidCacheBatch (proc.go): goids are handed out in batches of 16 per P.
GOID_CACHE_BATCH = 16
UINT32 = (1 << 32) - 1


class GStatus(enum.Enum):
    """The G states that matter for ordering (runtime2.go, _Gidle ... _Gdead)."""

    IDLE = "_Gidle"
    RUNNABLE = "_Grunnable"
    RUNNING = "_Grunning"
    WAITING = "_Gwaiting"
    DEAD = "_Gdead"


class PStatus(enum.Enum):
    IDLE = "_Pidle"
    RUNNING = "_Prunning"


@dataclass(eq=False)
class G:
    """A goroutine: ``goid``, status, what it runs (``name``, ``arg``) and, while it
    runs, the coroutine that stands for its code (a generator the machine resumes)."""

    goid: int
    name: str  # the function it started with: "main.w", "runtime.forcegchelper"
    arg: int = 0
    status: GStatus = GStatus.IDLE
    system: bool = False  # isSystemGoroutine: runtime.* helpers (not user output)
    lockedm: M | None = None  # LockOSThread (runtime.main holds it during init)
    waitreason: str = ""
    coro: Any = None  # generator: the G's code, resumed by the machine
    param: Any = None  # gp.param: the sudog that woke it

    def __repr__(self) -> str:
        return f"G{self.goid}({self.name}{'' if self.system else f' {self.arg}'})"


@dataclass(eq=False)
class M:
    """An OS thread. ``id`` 0 is m0, the main thread; others are started by ``startm``."""

    id: int
    lockedg: G | None = None
    p: P | None = None
    curg: G | None = None

    def __repr__(self) -> str:
        return f"M{self.id}"


@dataclass(eq=False)
class P:
    """A processor: ``runnext``, the 256-slot ring ``runq[runqhead:runqtail]`` and the tick."""

    id: int
    status: PStatus = PStatus.IDLE
    m: M | None = None
    runnext: G | None = None
    runq: list[G | None] = field(default_factory=lambda: [None] * RUNQ_SIZE)
    runqhead: int = 0  # uint32
    runqtail: int = 0  # uint32
    schedtick: int = 0  # incremented on every scheduler call that starts a new slice
    goidcache: int = 0
    goidcacheend: int = 0

    def local(self) -> tuple[G, ...]:
        """The ring's Gs from head to tail (runnext not included)."""
        n = (self.runqtail - self.runqhead) & UINT32
        return tuple(self.runq[(self.runqhead + i) % RUNQ_SIZE] for i in range(n))

    def __repr__(self) -> str:
        return f"P{self.id}"


@dataclass(eq=False)
class Sched:
    """``sched`` (schedt): the global run queue (a gQueue: FIFO, linked through
    g.schedlink) and the goid generator; the lock is implicit (one step at a time)."""

    runq: deque[G] = field(default_factory=deque)
    goidgen: int = 0
    nmidle: int = 0


@dataclass(eq=False)
class World:
    """Everything the runtime's globals hold: ``sched``, ``allp``, ``allm``, ``allgs``,
    the M and G running now, and the trace being written (a list of frozen events)."""

    gomaxprocs: int = 1
    sched: Sched = field(default_factory=Sched)
    allp: list[P] = field(default_factory=list)
    allm: list[M] = field(default_factory=list)
    allgs: list[G] = field(default_factory=list)
    idlem: list[M] = field(default_factory=list)
    m: M | None = None  # the M whose step this is
    events: list = field(default_factory=list)
    main_started: bool = False  # mainStarted: newproc may wakep
    have_sysmon: bool = True  # haveSysmon (true on linux): runqput may use runnext
    snapshots: bool = False  # record a Queues event after every Execute

    @classmethod
    def new(cls, gomaxprocs: int = 1) -> World:
        """schedinit + procresize: ``gomaxprocs`` Ps, m0 running P0."""
        w = cls(gomaxprocs=gomaxprocs)
        w.allp = [P(i) for i in range(gomaxprocs)]
        m0 = M(0)
        w.allm.append(m0)
        w.m = m0
        m0.p = w.allp[0]
        w.allp[0].m = m0
        w.allp[0].status = PStatus.RUNNING
        return w

    @property
    def p(self) -> P:
        """The P of the M running now (getg().m.p)."""
        assert self.m is not None and self.m.p is not None, "no P"
        return self.m.p

    @property
    def g(self) -> G | None:
        """The running G (getg().m.curg)."""
        return self.m.curg if self.m else None

    def emit(self, event: object) -> None:
        self.events.append(event)


def check_invariants(w: World) -> None:
    """Raise AssertionError if a G is queued twice or a ring is inconsistent."""
    seen: dict[int, str] = {}

    def place(g: G, where: str) -> None:
        assert g.goid not in seen, f"{g} is in {seen[g.goid]} and in {where}"
        seen[g.goid] = where
        assert g.status is GStatus.RUNNABLE, f"{g} queued in {where} but {g.status.value}"

    for p in w.allp:
        n = (p.runqtail - p.runqhead) & UINT32
        assert 0 <= n <= RUNQ_SIZE, f"{p}: {n} Gs in a {RUNQ_SIZE}-slot ring"
        if p.runnext is not None:
            place(p.runnext, f"{p}.runnext")
        for g in p.local():
            place(g, f"{p}.runq")
    for g in w.sched.runq:
        place(g, "sched.runq")
    for g in w.allgs:
        if g.status is GStatus.RUNNABLE:
            assert g.goid in seen, f"{g} is runnable but in no run queue"
