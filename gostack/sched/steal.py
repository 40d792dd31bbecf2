"""Work stealing between Ps: ``stealOrder`` (``randomOrder``/``randomEnum``) and
``stealWork`` (go1.27.3 ``runtime/proc.go``).

Invariants:

* ``randomOrder.reset(count)`` keeps the numbers in 1..count coprime with ``count``;
  ``start(i)`` begins at ``i % count`` and steps by ``coprimes[i / count % len]``, so
  one enumeration visits every P exactly once (a coprime step is a full cycle mod
  count);
* ``stealWork`` makes ``stealTries`` = 4 passes over the Ps in a fresh random order
  each (``stealOrder.start(cheaprand())``), skips itself and idle Ps (``idlepMask``),
  steals half of the first non-empty victim's ring (``runqsteal``) and stops; a
  victim's ``runnext`` may be taken only on the last pass (``stealTimersOrRunNextG``),
  after a 3 µs back-off if the victim is running (``runqgrab``: "its G is likely to
  run soon");
* timers and GC work, which stealWork also looks at, are left out (no timers in the
  probes, GOGC=off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import gcd

from .clock import STEAL_TRIES
from .runq import runqsteal
from .runtime2 import G, P


@dataclass(frozen=True)
class RandomOrder:
    """proc.go ``randomOrder`` after ``reset(count)``."""

    count: int
    coprimes: tuple[int, ...]

    @classmethod
    def reset(cls, count: int) -> RandomOrder:
        return cls(count, tuple(i for i in range(1, count + 1) if gcd(i, count) == 1))

    def start(self, i: int) -> Iterator[int]:
        """``randomEnum``: the positions of one enumeration started by ``i`` (uint32)."""
        pos = i % self.count
        inc = self.coprimes[i // self.count % len(self.coprimes)]
        for _ in range(self.count):
            yield pos
            pos = (pos + inc) % self.count


@dataclass(frozen=True, slots=True)
class Steal:
    """What one ``stealWork`` call did: ``tries`` victims looked at, the victim robbed
    (-1: none), how many Gs came over (the one to run included), and whether that was
    the victim's runnext."""

    thief: int
    victim: int
    n: int
    tries: int
    runnext: bool


def steal_work(pp: P, allp: list[P], idle: Callable[[P], bool],
               running: Callable[[P], bool], rand32: Callable[[], int],
               order: RandomOrder) -> tuple[G | None, Steal, int]:
    """proc.go ``stealWork`` (without timers and GC): (the G to run or None, what
    happened, extra ns spent in runqgrab's back-off)."""
    tries, backoff = 0, 0
    for i in range(STEAL_TRIES):
        last = i == STEAL_TRIES - 1
        for pos in order.start(rand32()):
            p2 = allp[pos]
            if p2 is pp or idle(p2):  # "Don't bother to attempt to steal if p2 is idle."
                continue
            tries += 1
            before = (p2.runqtail - p2.runqhead) & 0xFFFFFFFF
            took_next = last and before == 0 and p2.runnext is not None
            if took_next and running(p2):
                backoff += 3_000  # runqgrab: usleep(3) before stealing a running P's runnext
            gp = runqsteal(pp, p2, last)
            if gp is not None:
                n = 1 if took_next else before - before // 2
                return gp, Steal(pp.id, p2.id, n, tries, took_next), backoff
    return None, Steal(pp.id, -1, 0, tries, False), backoff
