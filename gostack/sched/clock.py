"""Virtual time for stage 2: what each simulated action costs, and the runtime's own
time constants.

Invariants:

* the runtime's constants are Go's, cited: ``forcePreemptNS`` (proc.go, 10 ms: the time
  slice sysmon allows a G, or a chain of runnext Gs sharing one schedtick), sysmon's
  sleep (proc.go ``sysmon``: 20 µs, doubling after 50 idle cycles (1 ms), capped at
  10 ms), the 10 ms after which ``retake`` takes a P from a syscall even when there is
  nothing else to run;
* the costs in :class:`Costs` are **stated, not derived**: each is the model's
  assumption of what an action takes on a loaded 2-CPU VM, and the comments say where
  the number comes from. Changing them changes timings, never stage 1's GOMAXPROCS=1
  order (stage 1's machine has no clock: its order depends on no cost);
* the clock only moves forward; every cost is >= 0 and an integer number of ns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: proc.go forcePreemptNS: "the time slice given to a G before it is preempted".
FORCE_PREEMPT_NS = 10_000_000
#: proc.go sysmon: "start with 20us sleep..."
SYSMON_MIN_DELAY_US = 20
#: "... start doubling the sleep after 1ms" (idle > 50 cycles).
SYSMON_IDLE_CYCLES_BEFORE_DOUBLING = 50
#: "up to 10ms".
SYSMON_MAX_DELAY_US = 10_000
#: proc.go retake: a P in a syscall with nothing else to do is left alone this long.
SYSCALL_RETAKE_IDLE_NS = 10_000_000
#: proc.go runqgrab: before stealing a running P's runnext the thief sleeps 3 µs
#: (``usleep(3)`` on Linux) so the owner can schedule it itself.
RUNNEXT_STEAL_BACKOFF_NS = 3_000
#: proc.go stealWork: stealTries.
STEAL_TRIES = 4


@dataclass(frozen=True)
class Costs:
    """What one simulated action costs, in virtual ns (the model's assumptions)."""

    #: a ``go`` statement (newproc + runqput + wakep); real: spawn_ns / n of the
    #: recorded spin runs, 1.5-3.4 µs per goroutine here.
    newproc: int = 2_000
    #: schedule -> findRunnable (local queue) -> execute: a goroutine switch; lesson 01
    #: measured ~0.3 µs for a channel handoff (thread-cost.md §3.3).
    schedule: int = 300
    #: goexit0 + WaitGroup.Done.
    goexit: int = 200
    #: one ``runqsteal`` attempt on one victim (lock-free reads of its ring).
    steal_try: int = 150
    #: a parked M (futex) running again after ``notewakeup``; on this shared 2-CPU VM
    #: a woken thread often waits for a CPU: the mean of an exponential draw. Chosen,
    #: not fitted; against the recording (40 seeds, stats.CLAIMS): 200-500 µs agree on
    #: all but the two CPU-bound misses; 1 ms makes short_work_every_p agree but not
    #: readied_stay_local; 2 ms loses the syscall claims (handoffs too slow). One
    #: latency cannot fit both: under load a woken M waits longer when our other Ms
    #: are busy on the CPUs, which the model leaves out.
    wake: int = 200_000
    #: ``newm`` -> clone -> the new thread's first instruction (+ wake).
    thread_create: int = 60_000
    #: ``entersyscall``/``exitsyscall`` themselves (without the kernel's time).
    syscall_edge: int = 300
    #: a goroutine readied by a channel close (goready -> runqput).
    ready: int = 200

    def scaled(self, **kw: int) -> Costs:
        return replace(self, **kw)


DEFAULT_COSTS = Costs()


def sysmon_delays(idle_cycles: int):
    """The sleeps (µs) of sysmon's first ``idle_cycles`` cycles when every ``retake``
    finds nothing to do (proc.go ``sysmon``): 20 µs while ``idle <= 50``, then doubling
    each cycle, capped at 10 ms."""
    idle, delay = 0, 0
    for _ in range(idle_cycles):
        delay = next_sysmon_delay(idle, delay)
        yield delay
        idle += 1


def next_sysmon_delay(idle: int, delay: int) -> int:
    """One step of sysmon's loop head: ``idle`` cycles without waking anybody so far,
    ``delay`` the last sleep (µs)."""
    if idle == 0:
        delay = SYSMON_MIN_DELAY_US
    elif idle > SYSMON_IDLE_CYCLES_BEFORE_DOUBLING:
        delay *= 2
    return min(delay, SYSMON_MAX_DELAY_US)
