"""sync.Mutex, sync.WaitGroup and sync.Cond over the runtime's semaphores and notify
lists (go1.27.3 ``internal/sync/mutex.go``, ``sync/waitgroup.go``, ``sync/cond.go``,
``runtime/sema.go``).

Invariants:

* Mutex ``state`` is ``locked | woken << 1 | starving << 2 | waiters << 3``, exactly as
  ``mutexLocked``, ``mutexWoken``, ``mutexStarving``, ``mutexWaiterShift``;
* ``Lock`` never spins with GOMAXPROCS=1: ``runtime_canSpin`` needs
  ``gomaxprocs > npidle + nmspinning + 1`` (proc.go ``internal_sync_runtime_canSpin``);
* in normal mode ``Unlock`` only readies the first waiter (``runtime_Semrelease(&sema,
  false)``, into runnext) and the lock is free: whoever runs ``Lock`` first gets it; a
  woken waiter that loses queues again **at the front** (``queueLifo = waitStartTime !=
  0``);
* starvation mode starts when a woken waiter has waited over 1 ms
  (``starvationThresholdNs``) and finds the Mutex locked. The model has no real clock,
  only the machine's pessimistic estimate (machine.py ``COST_NS``): a woken waiter whose
  estimated wait reaches 1 ms and finds the Mutex locked raises
  :class:`~gostack.sched.probe.OutOfScope` (real Go is then often in starvation mode:
  in 20 of 20 runs with 1,500 goroutines run during the wait); below it, the wait
  counts as short. With ``starvation=False`` (a runtime built with
  realrun.MUTEX_PATCHES) every wait is short;
* a waiter woken from ``WaitGroup.Wait`` panics if the WaitGroup is in use again
  (``Add`` after the release, before the waiter ran: "WaitGroup is reused before
  previous Wait has returned");
* ``WaitGroup.Add`` that brings the counter to 0 releases the semaphore once per
  waiter, readying them head first; each goes to runnext and pushes the previous one to
  the ring's tail, so the **last** waiter released runs first;
* ``Cond.Signal`` readies the oldest waiter, ``Broadcast`` all of them oldest first (each
  into runnext): the newest waiter runs first, then the rest oldest first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import GostackError
from .park import Coro, gopark, goready
from .probe import OutOfScope
from .runtime2 import World
from .sema import SemTable, semacquire1, semrelease1

MUTEX_LOCKED = 1
MUTEX_WOKEN = 2
MUTEX_STARVING = 4
MUTEX_WAITER_SHIFT = 3
STARVATION_THRESHOLD_NS = 1_000_000  # mutex.go starvationThresholdNs


class SyncPanic(GostackError, RuntimeError):
    """``sync: negative WaitGroup counter``, ``sync: unlock of unlocked mutex``, ..."""


@dataclass(eq=False)
class Mutex:
    name: str
    state: int = 0
    #: The machine's estimated time (ns); None: no clock, every wait is short.
    clock: Callable[[], int] | None = None

    @property
    def sema(self) -> tuple[str, str]:
        return ("mutex", self.name)

    def lock(self, w: World, sem: SemTable) -> Coro:
        """mutex.go ``Lock``: the CAS fast path, else ``lockSlow``."""
        if self.state == 0:
            self.state = MUTEX_LOCKED
            return
        yield from self._lock_slow(w, sem)

    def _lock_slow(self, w: World, sem: SemTable) -> Coro:
        wait_start = None  # waitStartTime (0 in Go: not waited yet)
        starving = False  # waited "over 1 ms": refused below, never modelled
        awoke = False
        old = self.state
        while True:
            # runtime_canSpin(iter) is false with GOMAXPROCS=1: no spinning.
            new = old
            if old & MUTEX_STARVING == 0:
                new |= MUTEX_LOCKED
            if old & (MUTEX_LOCKED | MUTEX_STARVING):
                new += 1 << MUTEX_WAITER_SHIFT
            if starving and old & MUTEX_LOCKED:
                raise OutOfScope(
                    f"Mutex {self.name}: a waiter woke after an estimated "
                    f"{self._since(wait_start) / 1e6:.2f} ms and finds it locked: real Go "
                    "may switch to starvation mode (mutex.go starvationThresholdNs, 1 ms "
                    "of wall time), which stage 1 does not model")
            if awoke:
                if new & MUTEX_WOKEN == 0:
                    raise SyncPanic("sync: inconsistent mutex state")
                new &= ~MUTEX_WOKEN
            self.state = new  # the CAS succeeds: nothing else runs meanwhile
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == 0:
                return  # locked the mutex with CAS
            queue_lifo = wait_start is not None
            if wait_start is None:
                wait_start = self.clock() if self.clock else 0
            yield from semacquire1(w, sem, self.sema, queue_lifo, "sync.Mutex.Lock")
            starving = starving or self._since(wait_start) >= STARVATION_THRESHOLD_NS
            old = self.state
            if old & MUTEX_STARVING:
                delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT)
                if not starving or old >> MUTEX_WAITER_SHIFT == 1:
                    delta -= MUTEX_STARVING
                self.state += delta
                return
            awoke = True

    def _since(self, start: int) -> int:
        return self.clock() - start if self.clock else 0

    def unlock(self, w: World, sem: SemTable) -> Coro:
        """mutex.go ``Unlock``: drop the lock bit; ``unlockSlow`` if anyone waits."""
        new = self.state - MUTEX_LOCKED
        self.state = new
        if new != 0:
            yield from self._unlock_slow(w, sem, new)

    def _unlock_slow(self, w: World, sem: SemTable, new: int) -> Coro:
        if (new + MUTEX_LOCKED) & MUTEX_LOCKED == 0:
            raise SyncPanic("sync: unlock of unlocked mutex")
        if new & MUTEX_STARVING == 0:
            old = new
            if old >> MUTEX_WAITER_SHIFT == 0 or old & (MUTEX_LOCKED | MUTEX_WOKEN
                                                        | MUTEX_STARVING):
                return
            self.state = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN
            yield from semrelease1(w, sem, self.sema, False)
        else:
            yield from semrelease1(w, sem, self.sema, True)

    @property
    def waiters(self) -> int:
        return self.state >> MUTEX_WAITER_SHIFT


@dataclass(eq=False)
class WaitGroup:
    """sync.WaitGroup: counter ``v`` (high 32 bits of state) and waiters ``w`` (low)."""

    name: str
    v: int = 0
    w: int = 0

    @property
    def sema(self) -> tuple[str, str]:
        return ("wg", self.name)

    def add(self, w: World, sem: SemTable, delta: int) -> Coro:
        """waitgroup.go ``Add``: at zero, release every waiter (head first)."""
        self.v += delta
        if self.v < 0:
            raise SyncPanic("sync: negative WaitGroup counter")
        if self.v > 0 or self.w == 0:
            return
        waiters, self.w = self.w, 0  # wg.state.Store(0)
        for _ in range(waiters):
            yield from semrelease1(w, sem, self.sema, False)

    def wait(self, w: World, sem: SemTable) -> Coro:
        """waitgroup.go ``Wait``: return at once if the counter is 0, else sleep."""
        if self.v == 0:
            return
        self.w += 1
        yield from semacquire1(w, sem, self.sema, False, "sync.WaitGroup.Wait")
        if self.v != 0 or self.w != 0:  # isReset := wg.state.Load() != 0
            raise SyncPanic("sync: WaitGroup is reused before previous Wait has returned")


@dataclass(eq=False)
class Cond:
    """sync.Cond over a Mutex: the runtime's notifyList (sema.go ``notifyListAdd``,
    ``notifyListWait``, ``notifyListNotifyOne``, ``notifyListNotifyAll``).

    ``Wait`` takes a ticket (``wait``), unlocks, and parks unless its ticket was already
    notified; ``Signal`` readies the waiter holding ticket ``notify`` (the oldest) into
    runnext; ``Broadcast`` readies every parked waiter in ticket order, each into
    runnext: the newest runs first, the others after it in ticket order.
    """

    name: str
    mutex: Mutex
    wait: int = 0  # next ticket
    notify: int = 0  # next ticket to be notified
    parked: list = None  # type: ignore[assignment]  # [(ticket, G)] in park order

    def __post_init__(self) -> None:
        self.parked = []

    def cond_wait(self, w: World, sem: SemTable) -> Coro:
        """cond.go ``Wait``: notifyListAdd, L.Unlock, notifyListWait, L.Lock."""
        t = self.wait
        self.wait += 1
        yield from self.mutex.unlock(w, sem)
        if t < self.notify:  # less(t, l.notify): already notified
            pass
        else:
            self.parked.append((t, w.g))
            yield from gopark(w, "sync.Cond.Wait")
        yield from self.mutex.lock(w, sem)

    def signal(self, w: World) -> None:
        """sema.go ``notifyListNotifyOne``: ready the waiter with ticket ``notify``."""
        if self.wait == self.notify:
            return
        t = self.notify
        self.notify = t + 1
        for k, (ticket, g) in enumerate(self.parked):
            if ticket == t:
                del self.parked[k]
                goready(w, g)
                return

    def broadcast(self, w: World) -> None:
        """sema.go ``notifyListNotifyAll``: ready every parked waiter, in list order."""
        if self.wait == self.notify:
            return
        waiters, self.parked = self.parked, []
        self.notify = self.wait
        for _, g in waiters:
            goready(w, g)
