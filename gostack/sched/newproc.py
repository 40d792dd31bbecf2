"""Creating and ending a G: ``newproc``/``newproc1`` and ``goexit0`` (go1.27.3 ``runtime/proc.go``).

Invariants:

* ``go f(x)`` creates a ``_Grunnable`` G and puts it in ``runnext`` of the creating G's P
  (``runqput(pp, newg, true)``): the newest G runs next, and the one it displaces goes
  to the ring's tail. So N goroutines started in a row run as: the last one, then the
  others in creation order (proc.go ``newproc``);
* goids come from the P's cache, refilled ``_GoidCacheBatch`` (16) at a time from
  ``sched.goidgen``; with one P they are 1, 2, 3, ... in creation order: the main
  goroutine is 1 (proc.go ``newproc1``). A dead G reused from the free list
  (``gfget``) gets a fresh goid too, so reuse does not show in goids or in order;
* ``goexit0`` (``gdestroy``) makes the G ``_Gdead`` and calls ``schedule``.
"""

from __future__ import annotations

from collections.abc import Callable

from .park import Coro
from .runq import runqput
from .runtime2 import GOID_CACHE_BATCH, G, GStatus, World
from .trace import Exit, NewProc


def newproc1(w: World, name: str, arg: int = 0, system: bool = False) -> G:
    """proc.go ``newproc1``: a new G in ``_Grunnable`` with the next goid of this P."""
    pp = w.p
    if pp.goidcache == pp.goidcacheend:
        w.sched.goidgen += GOID_CACHE_BATCH
        pp.goidcache = w.sched.goidgen - (GOID_CACHE_BATCH - 1)
        pp.goidcacheend = pp.goidcache + GOID_CACHE_BATCH
    newg = G(pp.goidcache, name, arg, GStatus.RUNNABLE, system=system)
    pp.goidcache += 1
    w.allgs.append(newg)
    return newg


def newproc(w: World, name: str, arg: int, code: Callable[[G], Coro],
            system: bool = False) -> G:
    """proc.go ``newproc``: newproc1, then ``runqput(pp, newg, true)``; ``code(g)`` makes
    the coroutine that stands for the G's function."""
    newg = newproc1(w, name, arg, system)
    newg.coro = code(newg)
    w.emit(NewProc(w.g.goid if w.g else 0, newg.goid, name, arg))
    runqput(w, w.p, newg, True)
    # if mainStarted { wakep() }: no idle P with GOMAXPROCS=1.
    return newg


def goexit0(w: World, gp: G) -> None:
    """proc.go ``goexit0`` -> ``gdestroy``: ``_Grunning`` -> ``_Gdead``."""
    gp.status = GStatus.DEAD
    gp.coro = None
    w.emit(Exit(gp.goid))
