"""The machine: runs a :class:`~gostack.sched.probe.Probe` on the model, G by G.

Invariants:

* exactly one G runs at a time (GOMAXPROCS=1); it runs until its code reaches a
  runtime call that stops it (``gopark``, ``Gosched``, ``goyield``) or returns; then the
  machine calls ``schedule`` (through ``stoplockedm`` if the G was locked to its M);
* the program ends when ``main.main`` returns (``runtime.main`` calls ``exit(0)``):
  goroutines still queued never run;
* the startup (startup.py) runs first, so ``main.main`` starts with the runtime's
  own goroutines and ticks in place;
* every state change is an event in the trace; :func:`run` returns them frozen.

Statements that only compute (Emit, Loop) do not enter the scheduler: with one P,
nothing else runs until the G stops. Wall time is left out, but two rules need it: a G
running over 10 ms is preempted by sysmon (stage 2), and a Mutex waiter that waited
over 1 ms turns the Mutex to starvation mode (sync.py). So the machine keeps a
pessimistic estimate of time, :data:`COST_NS` per statement and scheduler round, and
refuses with :class:`~gostack.sched.probe.OutOfScope` a time slice that reaches 10 ms
(:data:`SLICE_REFUSE_NS`; unless the probe is marked ``long_slice``) and a Mutex wait
that reaches 1 ms and would turn the Mutex to starvation mode (sync.py).
``preemption=False``, ``starvation=False``: the real program was built with
realrun.SYSMON_PATCHES, MUTEX_PATCHES, and neither happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import GostackError
from . import probe as pr
from .chan import Hchan, chanrecv, chansend, closechan
from .gosched import gosched
from .newproc import goexit0, newproc
from .park import Coro
from .probe import OutOfScope
from .runtime2 import G, GStatus, World, check_invariants
from .schedule import dropg, schedule, stoplockedm
from .sema import SemTable
from .startup import runtime_main
from .sync import Cond, Mutex, WaitGroup
from .trace import Output, SchedTrace

#: Estimated cost of what a G does, in ns: ``go`` (newproc), one scheduler round (a G
#: stops and another starts), one record (Emit, Goid, tagged Recv), one loop iteration.
#: Pessimistic, from real runs on a loaded 2-vCPU VM: main starting 6,000 goroutines
#: passed sysmon's 10 ms in 2 of 5 runs (so up to ~2 us a ``go``), while 1,000 goroutines
#: started and run took about 1 ms (the Mutex starvation probes of test_sched_scope).
COST_NS = {"go": 2000, "round": 500, "record": 5, "iteration": 1}
#: proc.go forcePreemptNS: sysmon preempts a G whose slice (schedtick unchanged) is this old.
SLICE_REFUSE_NS = 10_000_000


class StepLimit(GostackError, RuntimeError):
    """The run took more scheduler rounds than allowed (a livelock in the probe?)."""


@dataclass(frozen=True)
class Result:
    """What a run of a probe produced: its tokens and the whole trace."""

    probe: str
    output: tuple[str, ...]
    trace: SchedTrace = field(repr=False)
    schedtick: int = 0  # P0's tick when main returned
    threads: int = 1  # Ms created (m0 included)


class Machine:
    """The world of one run: runtime state plus the probe's channels, WaitGroups, Mutexes."""

    def __init__(self, probe: pr.Probe, check: bool = False, updatemaxprocs: bool = True,
                 sysmon_first_look: bool = False, snapshots: bool = False,
                 preemption: bool = True, starvation: bool = True):
        self.probe = probe
        self.w = World.new(1)
        self.w.snapshots = snapshots
        self.sem = SemTable()
        self.chans = {n: Hchan(n, cap) for n, cap in probe.chans.items()}
        self.wgs = {n: WaitGroup(n) for n in probe.wgs}
        self.clock_ns = 0  # estimated time since main.main started (COST_NS)
        self.slice_ns = 0  # ... since the running time slice started (schedtick changed)
        self.locked_ext: dict[int, int] = {}  # M id -> m.lockedExt (LockOSThread depth)
        self.preemption = preemption and not probe.long_slice
        clock = (lambda: self.clock_ns) if starvation else None  # noqa: E731
        self.mutexes = {n: Mutex(n, clock=clock) for n in probe.mutexes}
        self.conds = {n: Cond(n, self.mutexes[m]) for n, m in probe.conds.items()}
        self.check = check
        self.updatemaxprocs = updatemaxprocs
        self.sysmon_first_look = sysmon_first_look

    # ---- the probe's statements ---------------------------------------------------
    def _out(self, g: G, tok: str) -> None:
        self._spend(COST_NS["record"])
        self.w.emit(Output(g.goid, tok))

    def _spend(self, ns: int) -> None:
        """Advance the estimated clock; refuse a slice long enough to be preempted."""
        self.clock_ns += ns
        self.slice_ns += ns
        if self.preemption and self.slice_ns >= SLICE_REFUSE_NS:
            raise OutOfScope(
                f"{self.probe.name}: one time slice (a G, or Gs readying each other "
                f"into runnext) lasts an estimated {self.slice_ns / 1e6:.1f} ms: "
                "sysmon preempts after 10 ms "
                "(proc.go retake, forcePreemptNS), which is stage 2; mark the probe "
                "long_slice to predict the unpreempted order anyway")

    @staticmethod
    def _pure(body: tuple) -> bool:
        """Only records: nothing in it can stop the G."""
        return all(isinstance(s, pr.Emit | pr.Goid) for s in body)

    def _code(self, func: str, i: int) -> Callable[[G], Coro]:
        body = self.probe.funcs[func]
        return lambda g: self._body(g, body, i)

    def _body(self, g: G, body: tuple, i: int, j: int = -1) -> Coro:
        w = self.w
        for s in body:
            if isinstance(s, pr.Emit):
                self._out(g, pr.token(s.tag, i, j))
            elif isinstance(s, pr.Goid):
                self._out(g, pr.token(s.tag, i, j, goid=g.goid))
            elif isinstance(s, pr.Go):
                self._spend(s.count * COST_NS["go"])
                for k in range(s.count):
                    newproc(w, f"main.{s.func}", s.first + k, self._code(s.func, s.first + k))
            elif isinstance(s, pr.Gosched):
                yield from gosched(w)
            elif isinstance(s, pr.Send):
                yield from chansend(w, self.chans[s.chan], (i << 16) | (j + 1))
            elif isinstance(s, pr.Recv):
                value, ok = yield from chanrecv(w, self.chans[s.chan])
                if s.tag:
                    self._out(g, pr.token(s.tag, i, j, value=value if ok else None,
                                          closed=not ok))
            elif isinstance(s, pr.Close):
                closechan(w, self.chans[s.chan])
            elif isinstance(s, pr.WgAdd):
                yield from self.wgs[s.wg].add(w, self.sem, s.n)
            elif isinstance(s, pr.WgDone):
                yield from self.wgs[s.wg].add(w, self.sem, -1)
            elif isinstance(s, pr.WgWait):
                yield from self.wgs[s.wg].wait(w, self.sem)
            elif isinstance(s, pr.Lock):
                yield from self.mutexes[s.mutex].lock(w, self.sem)
            elif isinstance(s, pr.Unlock):
                yield from self.mutexes[s.mutex].unlock(w, self.sem)
            elif isinstance(s, pr.CondWait):
                yield from self.conds[s.cond].cond_wait(w, self.sem)
            elif isinstance(s, pr.CondSignal):
                self.conds[s.cond].signal(w)
            elif isinstance(s, pr.CondBroadcast):
                self.conds[s.cond].broadcast(w)
            elif isinstance(s, pr.LockThread):  # proc.go LockOSThread -> dolockOSThread
                assert w.m is not None
                self.locked_ext[w.m.id] = self.locked_ext.get(w.m.id, 0) + 1  # lockedExt++
                g.lockedm, w.m.lockedg = w.m, g
            elif isinstance(s, pr.UnlockThread):  # proc.go UnlockOSThread
                assert w.m is not None
                if self.locked_ext.get(w.m.id, 0) == 0:
                    continue
                self.locked_ext[w.m.id] -= 1
                # dounlockOSThread: nested calls unlock only at the outermost
                if self.locked_ext[w.m.id] == 0 and g.lockedm is not None:
                    g.lockedm.lockedg = None
                    g.lockedm = None
            elif isinstance(s, pr.Loop):
                if self._pure(s.body):  # charge it at once: an empty loop is just time
                    self._spend(s.count * (COST_NS["iteration"]
                                           + len(s.body) * COST_NS["record"]))
                    for jj in range(s.count if s.body else 0):
                        for r in s.body:
                            self.w.emit(Output(g.goid, pr.token(
                                r.tag, i, jj, goid=g.goid if isinstance(r, pr.Goid)
                                else None)))
                    continue
                for jj in range(s.count):
                    self._spend(COST_NS["iteration"])
                    yield from self._body(g, s.body, i, jj)
            else:  # pragma: no cover - Probe validates its statements
                raise TypeError(f"not a statement: {s!r}")

    # ---- the scheduler loop -------------------------------------------------------
    def run(self, max_steps: int = 1_000_000) -> Result:
        w = self.w
        main_main = lambda g: self._body(g, self.probe.main, 0)  # noqa: E731
        # rt0_go: newproc(runtime.main), then mstart -> schedule.
        main = newproc(w, "runtime.main", 0, runtime_main(w, main_main, self.updatemaxprocs,
                                                          self.sysmon_first_look))
        gp = schedule(w)
        for _ in range(max_steps):
            try:
                gp.coro.send(None)
            except StopIteration:
                if gp is main:
                    break  # main.main returned: exit(0)
                mp = gp.lockedm
                goexit0(w, gp)
                dropg(w)
                if mp is not None:
                    # gdestroy: a G that exits locked takes its thread with it (gogo to
                    # g0, mstart0 -> mexit -> handoffp: another M runs the P). The order
                    # is an unlocked exit's; this M is never idle again.
                    gp.lockedm = mp.lockedg = None
                    self.locked_ext[mp.id] = 0
                    stoplockedm(w)
                gp = self._next()
                continue
            assert gp.status is not GStatus.RUNNING, f"{gp} stopped while running"
            dropg(w)
            gp = self._next()
        else:
            raise StepLimit(f"{self.probe.name}: over {max_steps} scheduler rounds")
        return Result(self.probe.name, SchedTrace(tuple(w.events)).output,
                      SchedTrace(tuple(w.events)), w.allp[0].schedtick, len(w.allm))

    def _next(self) -> G:
        w = self.w
        self._spend(COST_NS["round"])
        if self.check:
            check_invariants(w)
        assert w.m is not None
        if w.m.lockedg is not None:
            stoplockedm(w)
        tick = w.allp[0].schedtick
        gp = schedule(w)
        # sysmon measures a slice from the last schedtick change (proc.go retake): a G
        # taken from runnext inherits the slice, so a long ping-pong is one slice.
        if w.allp[0].schedtick != tick:
            self.slice_ns = 0
        return gp


def run(probe: pr.Probe, check: bool = False, sysmon_first_look: bool = False,
        snapshots: bool = False, preemption: bool = True, starvation: bool = True) -> Result:
    """Run ``probe`` on the model from the program's start to main's return;
    ``sysmon_first_look``: with the startup race of startup.py (one tick more);
    ``snapshots``: a Queues event after every Execute (for pictures; O(queue) each);
    ``check``: check_invariants after every scheduler round; ``preemption``,
    ``starvation``: refuse a probe whose order may depend on sysmon's 10 ms preemption or
    a Mutex's starvation mode (False: the real side has them patched out)."""
    return Machine(probe, check=check, sysmon_first_look=sysmon_first_look,
                   snapshots=snapshots, preemption=preemption, starvation=starvation).run()


def predictions(probe: pr.Probe) -> dict[str, tuple[str, ...]]:
    """The two outputs the model allows: ``model`` (the usual startup) and
    ``startup_preempted`` (sysmon's first look preempted the init: one tick more; see
    startup.py). They are often the same."""
    return {"model": run(probe).output,
            "startup_preempted": run(probe, sysmon_first_look=True).output}
