"""sysmon: the runtime's monitor thread, without a P (go1.27.3 ``runtime/proc.go``
``sysmon``, ``retake``, ``preemptone``).

Invariants:

* sysmon sleeps 20 µs per cycle; after 50 cycles in a row in which ``retake`` took
  nothing (``idle > 50``, about 1 ms) the sleep doubles each cycle, up to 10 ms; a
  cycle that retakes a P resets it to 20 µs (``clock.next_sysmon_delay``);
* ``retake`` looks at every ``_Prunning`` P (idle Ps are skipped) with the P's
  ``sysmontick``, its memory of the last cycle:
  - same ``schedtick`` as last seen and first seen >= ``forcePreemptNS`` (10 ms) ago:
    ``preemptone`` (the G, or a chain of runnext Gs sharing one tick, ran 10 ms) and,
    if the P is in a syscall, take it anyway (``sysretake``);
  - a P whose M is in a syscall is taken (``handoffp``) unless its ``syscalltick``
    moved since the last look (a syscall returned on this P meanwhile: remember the
    tick and the time, and wait one more cycle, "at least 20us"), or it has nothing
    queued, some M spins or some P is idle, and that remembered time is less than
    10 ms ago;
* ``preemptone`` does nothing to a G in a syscall; otherwise it sets ``gp.preempt``
  and ``stackguard0 = stackPreempt`` (part 1's guard: the G's next function prologue
  fails its stack check and ``newstack`` sees the preempt request, ``gopreempt_m``)
  and, since go1.14, sends the M a signal (``preemptM``: SIGURG) so a loop without
  calls is stopped too (``asyncPreempt``). Either way the G goes to the **global**
  queue (``gopreempt_m`` -> ``goschedImpl``).

Left out: the netpoll, GC, scavenger and GOMAXPROCS-update duties, and deep sleep
when every P is idle (the sleep schedule simply keeps doubling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import (
    FORCE_PREEMPT_NS,
    SYSCALL_RETAKE_IDLE_NS,
    SYSMON_MIN_DELAY_US,
    next_sysmon_delay,
)
from .runq import globrunqput, runqempty
from .runtime2 import GStatus, P, PStatus

#: procs.Sim and procs.Thread (procs imports this module, so not the other way round).
Sim = Thread = Any

#: sysmon's thread starts during runtime.main (newm(sysmon, ...)); its first cycle
#: ends one 20 µs sleep after main.main begins (the model's assumption).
SYSMON_FIRST_NS = 20_000
#: preemptM -> the signal arrives and asyncPreempt runs (the model's assumption).
SIGNAL_NS = 5_000


@dataclass(frozen=True, slots=True)
class Retake:
    """retake took P ``p`` from M ``m`` in a syscall and handed it off."""

    p: int
    m: int


@dataclass(frozen=True, slots=True)
class Preempt:
    """preemptone: G ``goid`` on P ``p`` ran ``ran_ns`` on one schedtick; ``how``:
    "stackguard0+signal" (it runs Go code) or "none" (in a syscall)."""

    goid: int
    p: int
    ran_ns: int
    how: str


@dataclass(eq=False)
class Sysmontick:
    """A P's ``sysmontick``."""

    schedtick: int = 0
    schedwhen: int = 0
    syscalltick: int = 0
    syscallwhen: int = 0


@dataclass(eq=False)
class SysmonState:
    idle: int
    delay: int
    ticks: dict[int, Sysmontick]

    @classmethod
    def new(cls, allp: list[P]) -> SysmonState:
        return cls(0, SYSMON_MIN_DELAY_US, {p.id: Sysmontick() for p in allp})


def sysmon_cycle(sim: Sim) -> int:
    """One cycle of sysmon's loop at ``sim.now``: ``retake``, then the next sleep (ns)."""
    st = sim.sysmon
    if retake(sim, sim.now):
        st.idle = 0
    else:
        st.idle += 1
    st.delay = next_sysmon_delay(st.idle, st.delay)
    return st.delay * 1000


def retake(sim: Sim, now: int) -> int:
    """proc.go ``retake``: preempt long slices, take Ps from syscalls; returns how many
    Ps it took."""
    n = 0
    for pp in sim.w.allp:
        if pp.status is not PStatus.RUNNING:
            continue
        pd = sim.sysmon.ticks[pp.id]
        sysretake = False
        if pd.schedtick != pp.schedtick:
            pd.schedtick, pd.schedwhen = pp.schedtick, now
        elif pd.schedwhen + FORCE_PREEMPT_NS <= now:
            preemptone(sim, pp, now - pd.schedwhen)
            sysretake = True
        th = sim.thread_of(pp)
        if th is None or th.state != "syscall":
            continue
        if not sysretake and pd.syscalltick != sim.syscalltick[pp.id]:
            pd.syscalltick, pd.syscallwhen = sim.syscalltick[pp.id], now
            continue
        if (runqempty(pp) and sim.nmspinning + sim.npidle() > 0
                and pd.syscallwhen + SYSCALL_RETAKE_IDLE_NS > now):
            continue
        th.oldp = pp
        sim.releasep(th)
        n += 1
        sim.log(Retake(pp.id, th.m.id))
        sim.handoffp(pp)
    return n


def preemptone(sim: Sim, pp: P, ran: int) -> bool:
    """proc.go ``preemptone``: ask ``pp``'s running G to stop (stackguard0 and signal)."""
    th = sim.thread_of(pp)
    if th is None or th.g is None:
        return False
    if th.state == "syscall":
        sim.log(Preempt(th.g.goid, pp.id, ran, "none"))
        return False
    if th.state != "run":
        return False
    job = sim.job[th.g.goid]
    if not sim.wl.async_preempt:
        # stackguard0 only: a loop without calls never reaches a prologue
        sim.log(Preempt(th.g.goid, pp.id, ran, "stackguard0"))
        if job[0] in ("spin", "hog"):
            return True
    sim.log(Preempt(th.g.goid, pp.id, ran, "stackguard0+signal"))
    at = sim.now + SIGNAL_NS
    if th.ends <= at:
        return True  # it stops by itself first
    if job[0] in ("spin", "hog"):
        job[1] = th.ends - at  # the work left
    th.epoch += 1
    sim.push(at, "preempted", th)
    return True


def preempted(sim: Sim, th: Thread) -> None:
    """asyncPreempt -> gopreempt_m -> goschedImpl: the G goes to the global queue's
    tail and the M schedules."""
    gp = th.g
    gp.status = GStatus.RUNNABLE
    sim.w.m = th.m
    globrunqput(sim.w, gp)
    th.g = th.m.curg = None
    th.state = "sched"
    sim.push(sim.now + sim.c.schedule, "step", th)
