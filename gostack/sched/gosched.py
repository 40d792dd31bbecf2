"""Yielding the CPU: ``Gosched`` and ``goyield`` (go1.27.3 ``runtime/proc.go``).

Invariants:

* ``runtime.Gosched()`` (``gosched_m`` -> ``goschedImpl(gp, false)``) puts the G on the
  **global** queue's tail, not the local ring (proc.go ``goschedImpl``: ``globrunqput``);
  so it runs again only when the local queue is empty or at a schedtick % 61 check;
* ``goyield`` (``goyield_m``) puts it on the **local** ring's tail
  (``runqput(pp, gp, false)``); the runtime uses it for a starving mutex's handoff
  (sema.go ``semrelease1``);
* sysmon's preemption (``gopreempt_m`` -> ``goschedImpl(gp, true)``) goes to the global
  queue too, except during a stop-the-world (runnext): stage 2.
"""

from __future__ import annotations

from .park import STOP, Coro
from .runq import globrunqput, runqput
from .runtime2 import GStatus, World
from .trace import Yield


def gosched(w: World, preempted: bool = False) -> Coro:
    """proc.go ``Gosched`` -> ``gosched_m`` -> ``goschedImpl(gp, false)``; with
    ``preempted``, sysmon's ``gopreempt_m`` -> ``goschedImpl(gp, true)`` (no
    stop-the-world pending: also to the global queue)."""
    gp = w.g
    assert gp is not None and gp.status is GStatus.RUNNING, "bad g status"
    gp.status = GStatus.RUNNABLE
    w.emit(Yield(gp.goid, "global (preempted)" if preempted else "global"))
    globrunqput(w, gp)
    # if mainStarted { wakep() }: no idle P with GOMAXPROCS=1.
    yield STOP


def goyield(w: World) -> Coro:
    """proc.go ``goyield`` -> ``goyield_m``: to the local ring's tail."""
    gp = w.g
    assert gp is not None and gp.status is GStatus.RUNNING, "bad g status"
    gp.status = GStatus.RUNNABLE
    w.emit(Yield(gp.goid, "local"))
    runqput(w, w.p, gp, False)
    yield STOP
