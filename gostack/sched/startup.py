"""``runtime.main`` before ``main.main``: the runtime's own goroutines and its ticks
(go1.27.3 ``runtime/proc.go`` ``main``, ``mgc.go`` ``gcenable``).

What runs, with one P and the probes' environment (GOMAXPROCS set, so
``sched.customGOMAXPROCS``; the module's go line is 1.27, so ``updatemaxprocs=1``):

1. ``rt0_go`` calls ``newproc(runtime.main)``: G1 goes to runnext; ``mstart`` ->
   ``schedule`` takes it from runnext (inheritTime: schedtick stays 0).
2. ``runtime.main`` locks itself to m0 (``lockOSThread``) for the init, then runs the
   runtime's init tasks: ``go forcegchelper()`` (G2).
3. ``gcenable``: ``go bgsweep(c)`` (G3), ``go bgscavenge(c)`` (G4), then ``<-c`` twice.
   Each receive parks main; being locked, m0 hands the P to another M
   (``stoplockedm`` -> ``handoffp`` -> ``startm``: a new thread the first time), which
   runs G4, G2, G3; each ``c <- 1`` readies main into runnext, and the other M hands
   the P back (``startlockedm``): m0 runs main with ``execute(lockedg, false)``, a new
   tick each time.
4. ``defaultGOMAXPROCSUpdateEnable``: ``go updateMaxProcsGoroutine()`` (G5, runnext).
5. the main module's init tasks (sync starts no goroutine), ``unlockOSThread``, then
   ``main.main`` runs with schedtick 4, G5 in runnext and nothing else queued.

No user code runs before main.main, so the model replays these steps and the probes
confirm them: the first user goroutine's goid is 6, and the 61-tick probes see the
phase of schedtick.

One race remains, and real runs show it (a few runs in a hundred): sysmon starts at the
top of ``runtime.main`` and, 20 µs later, its first ``retake`` compares the P's
``schedtick`` with ``pp.sysmontick.schedtick``. Both start at 0, and
``sysmontick.schedwhen`` starts at 0 too, so if the tick is still 0 then (the startup
has not reached step 3's first handoff) ``schedwhen + forcePreemptNS <= now`` holds and
sysmon preempts the running G at once (proc.go ``retake``, ``preemptone``). The
preempted G goes to the global queue (``gopreempt_m`` -> ``goschedImpl(gp, true)``)
and, the tick being 0, comes straight back through the 61-tick check with a fresh
slice: main.main then starts at schedtick 5 instead of 4. Nothing else changes, so
the model takes it as an option (``sysmon_first_look``): main preempted right after it
locks itself to m0.

Confirmed on go1.27.3 (2026-12-07, a loaded 2-vCPU VM): spawn_257 printed the
``sysmon_first_look`` order in 10 of 40 runs (13 of 40 with GODEBUG=asyncpreemptoff=1:
the cooperative stackguard0 preemption suffices); built with ``go build -overlay``
replacing proc.go's ``if int64(pd.schedtick) != schedt {`` by ``... || pd.schedwhen ==
0 {`` (sysmon's first look only records the time), it printed the usual order in 60 of
60 runs.
"""

from __future__ import annotations

from collections.abc import Callable

from .chan import Hchan, chanrecv, chansend
from .gosched import gosched
from .newproc import newproc
from .park import Coro, gopark
from .runtime2 import G, World


def forcegchelper(w: World) -> Callable[[G], Coro]:
    def code(g: G) -> Coro:
        # proc.go forcegchelper: goparkunlock until sysmon's forced GC (2 min; GOGC=off: never)
        yield from gopark(w, "force gc (idle)")
        raise AssertionError("forcegchelper woke up")
    return code


def bgsweep(w: World, c: Hchan) -> Callable[[G], Coro]:
    def code(g: G) -> Coro:
        # mgcsweep.go bgsweep: c <- 1, then park until a GC cycle needs sweeping
        yield from chansend(w, c, 1)
        yield from gopark(w, "GC sweep wait")
        raise AssertionError("bgsweep woke up")
    return code


def bgscavenge(w: World, c: Hchan) -> Callable[[G], Coro]:
    def code(g: G) -> Coro:
        # mgcscavenge.go bgscavenge: scavenger.init(); c <- 1; scavenger.park()
        yield from chansend(w, c, 1)
        yield from gopark(w, "GC scavenge wait")
        raise AssertionError("bgscavenge woke up")
    return code


def update_max_procs(w: World) -> Callable[[G], Coro]:
    def code(g: G) -> Coro:
        # proc.go updateMaxProcsGoroutine: park until sysmon sees a new CPU limit
        # (sysmonUpdateGOMAXPROCS does nothing when GOMAXPROCS was set by the environment)
        yield from gopark(w, "GOMAXPROCS updater (idle)")
        raise AssertionError("updateMaxProcsGoroutine woke up")
    return code


def runtime_main(w: World, main_main: Callable[[G], Coro], updatemaxprocs: bool = True,
                 sysmon_first_look: bool = False) -> Callable[[G], Coro]:
    """The code of G1: proc.go ``main`` up to ``fn := main_main; fn()``, then main.main.

    ``sysmon_first_look``: the race described in the module docstring happened.
    """
    def code(g: G) -> Coro:
        mp = w.m
        assert mp is not None
        w.main_started = True  # mainStarted = true (newproc may now wakep)
        g.lockedm, mp.lockedg = mp, g  # lockOSThread()
        if sysmon_first_look:
            # sysmon's first retake saw schedtick 0 == sysmontick.schedtick with
            # schedwhen 0: "running for 10 ms", so preemptone: main -> global queue.
            yield from gosched(w, preempted=True)
        # doInit(runtime_inittasks): proc.go init() { go forcegchelper() }
        newproc(w, "runtime.forcegchelper", 0, forcegchelper(w), system=True)
        # gcenable()
        c = Hchan("gcenable.c", 2)
        newproc(w, "runtime.bgsweep", 0, bgsweep(w, c), system=True)
        newproc(w, "runtime.bgscavenge", 0, bgscavenge(w, c), system=True)
        yield from chanrecv(w, c)
        yield from chanrecv(w, c)
        if updatemaxprocs:  # defaultGOMAXPROCSUpdateEnable()
            newproc(w, "runtime.updateMaxProcsGoroutine", 0, update_max_procs(w),
                    system=True)
        # doInit of the program's packages: none of runtime, sync starts a goroutine.
        lockedm = g.lockedm
        assert lockedm is not None
        g.lockedm, lockedm.lockedg = None, None  # unlockOSThread()
        return (yield from main_main(g))
    return code
