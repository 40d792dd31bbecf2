"""One round of the scheduler: ``schedule``, ``findRunnable``, ``execute`` (go1.27.3
``runtime/proc.go``), and the M handoffs of a G locked to its thread.

Invariants:

* ``findRunnable`` looks, in this order (stage 1: no timers, GC workers, trace reader or
  netpoller in the probes): the **global** queue's head if ``schedtick % 61 == 0``
  (fairness: "two goroutines can completely occupy the local runqueue by constantly
  respawning each other"); the local queue (``runqget``: runnext, then the ring); the
  global queue as a batch (``globrunqgetbatch(len(runq)/2)``: up to 128, first one
  runs, the rest go to the ring); then stealing from other Ps (stage 2);
* ``execute`` increments ``schedtick`` only when the G does not inherit the time slice,
  i.e. not for a G taken from runnext. Ping-ponging Gs share one tick;
* a G locked to an M (``lockedm``; ``runtime.main`` is locked to m0 during init) runs only
  on that M: when it parks, ``stoplockedm`` hands the P to another M (``handoffp`` ->
  ``startm``: an idle M, else a new thread); when another M's ``findRunnable`` picks it,
  ``startlockedm`` hands the P back and the locked M runs it with
  ``execute(lockedg, inheritTime=false)``: a new tick even if it came from runnext.
"""

from __future__ import annotations

from ..errors import GostackError
from .runq import globrunqget, globrunqgetbatch, runqempty, runqget, runqputbatch
from .runtime2 import GLOBAL_CHECK_TICKS, RUNQ_SIZE, G, GStatus, M, P, PStatus, World
from .trace import Execute, GlobRunqBatch, HandoffP, Queues


class Deadlock(GostackError, RuntimeError):
    """Nothing is runnable and nothing can wake: ``fatal error: all goroutines are asleep
    - deadlock!`` (proc.go ``checkdead``)."""


def find_runnable(w: World) -> tuple[G, bool, str]:
    """proc.go ``findRunnable``: (gp, inheritTime, which rule found it)."""
    pp = w.p
    # Check the global runnable queue once in a while to ensure fairness.
    if pp.schedtick % GLOBAL_CHECK_TICKS == 0 and w.sched.runq:
        gp = globrunqget(w)
        assert gp is not None
        return gp, False, "global61"
    # local runq
    gp, inherit = runqget(pp)
    if gp is not None:
        return gp, inherit, "runnext" if inherit else "runq"
    # global runq
    if w.sched.runq:
        gp, rest = globrunqgetbatch(w, RUNQ_SIZE // 2)
        assert gp is not None
        if runqputbatch(pp, rest):
            raise AssertionError("Couldn't put Gs into empty local runq")
        w.emit(GlobRunqBatch(pp.id, (gp.goid, *(g.goid for g in rest))))
        return gp, False, "global"
    # netpoll (no netpoller in stage 1) and stealWork (one P: nobody to steal from).
    waiting = sorted((g for g in w.allgs if g.status is GStatus.WAITING and not g.system),
                     key=lambda g: g.goid)
    raise Deadlock("all goroutines are asleep - deadlock! waiting: "
                   + ", ".join(f"{g} [{g.waitreason}]" for g in waiting))


def execute(w: World, gp: G, inherit: bool, where: str) -> None:
    """proc.go ``execute``: the G runs on this M and P; a new slice ticks schedtick."""
    mp = w.m
    assert mp is not None and gp.status is GStatus.RUNNABLE
    mp.curg = gp
    gp.status = GStatus.RUNNING
    pp = w.p
    if not inherit:
        pp.schedtick += 1
    w.emit(Execute(pp.id, mp.id, gp.goid, where, inherit, pp.schedtick))
    if w.snapshots:
        w.emit(Queues(pp.id, gp.goid, pp.runnext.goid if pp.runnext else 0,
                      tuple(g.goid for g in pp.local()),
                      tuple(g.goid for g in w.sched.runq), pp.schedtick))


def schedule(w: World) -> G:
    """proc.go ``schedule``: find a G and execute it; returns the G now running."""
    gp, inherit, where = find_runnable(w)
    if gp.lockedm is not None and gp.lockedm is not w.m:
        # Hands off own p to the locked m, then blocks waiting for a new p.
        startlockedm(w, gp)
        execute(w, gp, False, "locked")  # schedule on the locked M: execute(lockedg, false)
        return gp
    execute(w, gp, inherit, where)
    return gp


def dropg(w: World) -> None:
    """proc.go ``dropg``: the M no longer runs a G."""
    assert w.m is not None
    w.m.curg = None


def _releasep(w: World) -> P:
    mp = w.m
    assert mp is not None and mp.p is not None
    pp = mp.p
    mp.p = None
    pp.m = None
    return pp


def _acquirep(w: World, mp: M, pp: P) -> None:
    mp.p = pp
    pp.m = mp
    pp.status = PStatus.RUNNING
    w.m = mp


def startm(w: World, pp: P, why: str) -> None:
    """proc.go ``startm``: an idle M (``mget``), else ``newm`` (a new thread), runs ``pp``."""
    from_m = w.m.id if w.m else -1
    new = not w.idlem
    if new:
        mp = M(len(w.allm))
        w.allm.append(mp)
    else:
        mp = w.idlem.pop()
    _acquirep(w, mp, pp)
    w.emit(HandoffP(pp.id, from_m, mp.id, why, new))


def stoplockedm(w: World) -> None:
    """proc.go ``stoplockedm``: the locked M parks with its G; ``handoffp`` gives the P to
    another M, which carries on scheduling."""
    pp = _releasep(w)
    # handoffp: local or global work -> startm(pp, false); no work -> a spinning M
    # (nmspinning+npidle == 0) -> startm(pp, true). Both start an M on this P.
    why = "handoffp" if not runqempty(pp) or w.sched.runq else "handoffp (spinning)"
    startm(w, pp, why)


def startlockedm(w: World, gp: G) -> None:
    """proc.go ``startlockedm``: give the P to ``gp``'s locked M; this M stops (``stopm``)."""
    mp = gp.lockedm
    assert mp is not None
    me = w.m
    assert me is not None
    pp = _releasep(w)
    w.idlem.append(me)
    _acquirep(w, mp, pp)
    w.emit(HandoffP(pp.id, me.id, mp.id, "startlockedm"))
