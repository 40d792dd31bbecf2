"""Parking and readying a G: ``gopark`` and ``ready``/``goready`` (go1.27.3 ``runtime/proc.go``).

Invariants:

* ``gopark`` moves the running G from ``_Grunning`` to ``_Gwaiting``; it is then in no
  run queue until some ``ready`` (proc.go ``gopark``, ``park_m``);
* ``goready`` calls ``ready(gp, traceskip, next=true)``: the G becomes ``_Grunnable`` in
  ``runnext`` of the *readying* G's P, and the G that was in runnext goes to the ring's
  tail (proc.go ``goready``, ``ready``, ``runqput``). So a G woken by a channel, a
  WaitGroup or a mutex runs as soon as the waker stops running, ahead of the ring;
* ``ready`` then calls ``wakep``, which with one P finds no idle P and does nothing.

A G's code is a Python generator (see machine.py): ``yield STOP`` is the moment it
leaves the CPU (``mcall(park_m)``), after the runtime state has been updated.
"""

from __future__ import annotations

from collections.abc import Generator

from .runq import runqput
from .runtime2 import G, GStatus, World
from .trace import Park, Ready

#: What a G's coroutine yields when it stops running (mcall into the scheduler).
STOP = "stop"

Coro = Generator[str, None, object]


def gopark(w: World, reason: str) -> Coro:
    """proc.go ``gopark`` + ``park_m``: the running G waits; resumes when readied."""
    gp = w.g
    assert gp is not None and gp.status is GStatus.RUNNING, "gopark: bad g status"
    gp.status = GStatus.WAITING
    gp.waitreason = reason
    w.emit(Park(gp.goid, reason))
    yield STOP


def ready(w: World, gp: G, next: bool = True) -> None:
    """proc.go ``ready``: ``_Gwaiting`` -> ``_Grunnable``, runqput on the current P, wakep."""
    if gp.status is not GStatus.WAITING:
        raise AssertionError(f"bad g->status in ready: {gp} is {gp.status.value}")
    gp.status = GStatus.RUNNABLE
    gp.waitreason = ""
    w.emit(Ready(gp.goid, w.g.goid if w.g else 0))
    runqput(w, w.p, gp, next)
    # wakep(): with GOMAXPROCS=1 there is no idle P to wake (pidlegetSpinning: nil).


def goready(w: World, gp: G) -> None:
    """proc.go ``goready``: ``ready(gp, traceskip, true)`` on the system stack."""
    ready(w, gp, True)
