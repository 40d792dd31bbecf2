"""System calls: ``entersyscall``, ``exitsyscall``, ``entersyscallblock`` (go1.27.3
``runtime/proc.go``), on the stage-2 simulation.

Invariants:

* ``entersyscall`` (``reentersyscall``): the G goes ``_Grunning`` -> ``_Gsyscall``,
  ``stackguard0 = stackPreempt`` (no stack growth in a syscall), ``m.oldp = pp``; in
  go1.27 the M **keeps** its P, still ``_Prunning``: nothing else runs on it until
  sysmon's ``retake`` takes it, at its next look (or one look later if a syscall
  returned on that P since the previous look: ``syscalltick`` moved);
* ``exitsyscall``: if the M still holds its P, the fast path: ``syscalltick++`` and
  the G goes on running; otherwise ``exitsyscallTryGetP``: the old P if it is still
  ours (after a retake it is not), else an idle P (``pidleget``); else
  ``exitsyscallNoP``: the G becomes runnable on the **global** queue and the M stops
  (``stopm``: an idle thread, kept for the next ``startm``);
* ``entersyscallblock`` (for calls known to block): ``syscalltick++`` and
  ``handoffp(releasep())`` at once, without waiting for sysmon.

Hence a blocking syscall costs a thread and a channel wait does not: the blocked G
keeps its M (the thread is in the kernel), and the P it leaves behind needs another
M, an idle one or a new one (``startm`` -> ``newm``). A G parked on a channel has no M:
``gopark`` drops it and the same M runs the next G.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runq import globrunqput
from .runtime2 import GStatus

#: procs.Sim and procs.Thread (procs imports this module, so not the other way round).
Sim = Thread = Any


@dataclass(frozen=True, slots=True)
class SyscallEnter:
    goid: int
    m: int
    p: int
    block: bool = False  # entersyscallblock


@dataclass(frozen=True, slots=True)
class SyscallExit:
    """``path``: "fast" (kept its P), "idle P", or "no P" (global queue, stopm)."""

    goid: int
    m: int
    path: str


def entersyscall(sim: Sim, th: Thread, until: int | None) -> None:
    """proc.go ``entersyscall``; the kernel returns at ``until`` (None: when woken)."""
    gp, pp = th.g, th.m.p
    if until is None and sim.written:
        until = sim.now  # the pipe already holds its byte
    gp.status = GStatus.WAITING  # _Gsyscall: not runnable, not parked
    gp.waitreason = "syscall"
    th.state, th.oldp = "syscall", pp
    sim.log(SyscallEnter(gp.goid, th.m.id, pp.id))
    if until is None:
        sim.in_read.append(th)
    else:
        sim.push(until + sim.c.syscall_edge, "step", th)


def entersyscallblock(sim: Sim, th: Thread, until: int | None) -> None:
    """proc.go ``entersyscallblock``: give the P away now (``handoffp(releasep())``)."""
    gp, pp = th.g, th.m.p
    sim.syscalltick[pp.id] += 1
    gp.status = GStatus.WAITING
    th.state, th.oldp = "syscall", pp
    sim.log(SyscallEnter(gp.goid, th.m.id, pp.id, block=True))
    sim.releasep(th)
    sim.handoffp(pp)
    if until is None:
        sim.in_read.append(th)
    else:
        sim.push(until + sim.c.syscall_edge, "step", th)


def exitsyscall(sim: Sim, th: Thread) -> None:
    """proc.go ``exitsyscall``: the kernel returned; find a P or give the G up."""
    gp = th.g
    pp = th.m.p
    path = "fast"
    if pp is None:
        # exitsyscallTryGetP: the old P was handed off (retake), so an idle P or none.
        pp = sim.pidleget()
        path = "idle P"
        if pp is not None:
            sim.acquirep(th, pp)
    th.oldp = None
    if pp is None:  # exitsyscallNoP
        gp.status = GStatus.RUNNABLE
        sim.w.m = th.m
        globrunqput(sim.w, gp)
        sim.nop_exits.add(gp.goid)  # its next P's syscalltick++ when it runs again
        th.g = th.m.curg = None
        sim.log(SyscallExit(gp.goid, th.m.id, "no P"))
        sim.stopm(th)
        return
    sim.syscalltick[pp.id] += 1  # pp.syscalltick++
    gp.status = GStatus.RUNNING
    th.state = "run"
    sim.log(SyscallExit(gp.goid, th.m.id, path))
    th.ends = sim.now
    sim.push(sim.now, "step", th)
