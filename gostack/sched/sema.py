"""The runtime's semaphores: ``semacquire1`` and ``semrelease1`` (go1.27.3 ``runtime/sema.go``).

sync.Mutex and sync.WaitGroup sleep and wake through these.

Invariants:

* waiters on one address form a list; ``queue`` appends at the tail, or with ``lifo``
  puts the G at the head (a Mutex waiter that was woken and lost the race goes back to
  the front); ``dequeue`` takes the head (sema.go ``semaRoot.queue``, ``dequeue``);
* ``semrelease1`` adds one to the count and readies the head waiter with ``goready``:
  runnext of the releaser's P. The releaser keeps running, unless ``handoff`` (a
  starving Mutex): then the waiter gets the count directly (``ticket = 1``) and the
  releaser yields with ``goyield`` (to the **local** ring's tail);
* a woken waiter takes the count with ``cansemacquire``; if someone took it first, it
  queues again (the loop in ``semacquire1``).

The treap of addresses (balanced on ``cheaprand`` tickets) only finds the list for an
address; order within one address is what is modelled. Addresses that share a
``semaRoot`` (``semTabSize`` = 251 buckets) only disable the fast path, not the order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .gosched import goyield
from .park import Coro, gopark, goready
from .runtime2 import G, World


@dataclass(eq=False)
class SemaWaiter:
    """The sudog a G queues on a semaphore; ``ticket`` 1: the count was handed to it."""

    g: G
    ticket: int = 0


@dataclass(eq=False)
class SemTable:
    """The semaphore counts and wait lists, by address (any hashable)."""

    count: dict = field(default_factory=dict)
    waiters: dict = field(default_factory=dict)

    def cansemacquire(self, addr: object) -> bool:
        """sema.go ``cansemacquire``: take one from a positive count."""
        v = self.count.get(addr, 0)
        if v == 0:
            return False
        self.count[addr] = v - 1
        return True

    def queue(self, addr: object, s: SemaWaiter, lifo: bool) -> None:
        q = self.waiters.setdefault(addr, deque())
        if lifo:
            q.appendleft(s)
        else:
            q.append(s)

    def dequeue(self, addr: object) -> SemaWaiter | None:
        q = self.waiters.get(addr)
        return q.popleft() if q else None

    def waiting(self, addr: object) -> tuple[int, ...]:
        """goids waiting on ``addr``, head first."""
        return tuple(s.g.goid for s in self.waiters.get(addr, ()))


def semacquire1(w: World, sem: SemTable, addr: object, lifo: bool, reason: str) -> Coro:
    """sema.go ``semacquire1``: take the count, or queue and sleep until readied."""
    if sem.cansemacquire(addr):  # easy case
        return
    s = SemaWaiter(w.g)
    while True:
        if sem.cansemacquire(addr):
            break
        sem.queue(addr, s, lifo)
        yield from gopark(w, reason)
        if s.ticket != 0 or sem.cansemacquire(addr):
            break


def semrelease1(w: World, sem: SemTable, addr: object, handoff: bool) -> Coro:
    """sema.go ``semrelease1``: count += 1; ready the head waiter, if any."""
    sem.count[addr] = sem.count.get(addr, 0) + 1
    s = sem.dequeue(addr)
    if s is None:
        return
    if handoff and sem.cansemacquire(addr):
        s.ticket = 1
    goready(w, s.g)  # readyWithTime
    if s.ticket == 1:
        # Direct G handoff: the waiter is in runnext; yield to the local ring.
        yield from goyield(w)
