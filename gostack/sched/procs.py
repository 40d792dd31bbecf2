"""Several Ps: a seeded stochastic simulation of Ms running Ps in virtual time (stage 2).

    from gostack.sched import procs
    o = procs.simulate(procs.Workload("spin", n=1000, work_ns=35_000, gomaxprocs=4), seed=1)
    o.per_p, o.threads_created, o.steals

With several Ps, Go's order depends on when the OS runs each thread and on
``cheaprand``; so does this model's, through its seed (wake-up latencies drawn from
:class:`~gostack.sched.clock.Costs`, steal orders). Compare distributions, not runs.

Invariants (go1.27.3 ``runtime/proc.go``):

* every M is in one state: ``idle`` (``stopm``: parked, no P), ``waking`` (``startm``
  gave it a P; it runs after a wake-up latency), ``sched`` (in ``schedule``/
  ``findRunnable``), ``run`` (running a G), ``syscall`` (its G is in a system call; in
  go1.27 the P stays with the M, ``_Prunning``, until ``retake`` takes it);
* a P is either idle (``pidle``, no M) or held by exactly one M;
* ``nmspinning`` counts the Ms with ``spinning`` set; ``wakep`` starts a spinning M only
  when none is spinning and a P is idle; a spinning M that finds work calls
  ``resetspinning`` (which calls ``wakep``: "the M that found work wakes the next");
* ``findRunnable``: global (tick % 61), local, global batch, then ``stealWork`` if this
  M is spinning or ``2*nmspinning < gomaxprocs - npidle``; no work: ``releasep``,
  ``pidleput``, drop spinning, re-check every P (``checkRunqsNoP``) and the global
  queue, else ``stopm``;
* ``handoffp``: work -> ``startm``; none and nobody spinning or idle -> a spinning M;
  else the P goes idle;
* threads are only created by ``startm`` finding no idle M (``newm``); sysmon is its
  own thread (counted once).

Left out: timers (the main goroutine's ``time.Sleep`` is an external wake-up),
netpoller, GC, the OS's CPU count (every M progresses at full speed once woken).
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache

from . import syscall as sc
from . import sysmon as sm
from .clock import DEFAULT_COSTS, Costs
from .newproc import goexit0
from .runq import (
    globrunqget,
    globrunqgetbatch,
    globrunqput,
    runqempty,
    runqget,
    runqput,
    runqputbatch,
)
from .runtime2 import (
    GLOBAL_CHECK_TICKS,
    RUNQ_SIZE,
    G,
    GStatus,
    M,
    P,
    PStatus,
    World,
    check_invariants,
)
from .steal import RandomOrder, Steal, steal_work
from .trace import At, StartM, StopM
from .workload import Outcome, Workload

#: The model numbers main 1, the GOMAXPROCS updater 2 and the workload's goroutines from 3.
#: Before main.main the real runtime has started G2-G5 (startup.py: forcegc, bgsweep,
#: bgscavenge, the updater), so its first user goroutine is G6.
RUNTIME_GOID_SHIFT = 3


def runtime_goid(goid: int) -> int:
    """The goid real go1.27.3 gives the model's G ``goid`` (main: 1; the updater: 5)."""
    return goid if goid == 1 else goid + RUNTIME_GOID_SHIFT


@dataclass(eq=False)
class Thread:
    """An M and its scheduling state (see the invariants)."""

    m: M
    state: str = "idle"
    spinning: bool = False
    epoch: int = 0  # bumps when a pending event of this M is cancelled
    g: G | None = None
    oldp: P | None = None  # m.oldp: the P it held when it entered a syscall
    ends: int = 0  # when the running G's current piece of work ends


class Sim:
    """The world of one run (mutable while it runs; :meth:`outcome` is frozen)."""

    def __init__(self, wl: Workload, seed: int = 0, costs: Costs = DEFAULT_COSTS):
        self.wl, self.seed, self.c = wl, seed, costs
        self.rng = random.Random(seed)
        self.w = World.new(wl.gomaxprocs)
        self.w.main_started = True
        self.w.allp[0].schedtick = main_start_tick()
        self.now, self.seq, self.heap, self.trace = 0, 0, [], []  # trace: list[At]
        self.order = RandomOrder.reset(wl.gomaxprocs)
        self.threads = {0: Thread(self.w.allm[0], "run")}
        self.idle_threads: list[Thread] = [self._newthread() for _ in range(wl.idle_ms)]
        self.created_at_start = len(self.w.allm)
        self.pidle: list[P] = list(self.w.allp[1:])
        self.nmspinning = 0
        self.syscalltick = {p.id: 0 for p in self.w.allp}
        self.sysmon = sm.SysmonState.new(self.w.allp)
        self.steals: list[Steal] = []
        self.first: dict[int, tuple[int, int]] = {}  # goid -> (P, M) of its first slice
        self.started: dict[int, int] = {}  # goid -> when its first slice began
        self.hog_end = self.done = 0
        self.job: dict[int, list] = {}  # goid -> [kind, left]
        self.main: G | None = None
        self.main_waiting = False
        self.blocked_threads = 0
        self.finished: int | None = None
        self.parked: list[G] = []  # chan mode: receivers
        self.in_read: list[Thread] = []
        self.nop_exits: set[int] = set()  # Gs that left a syscall through exitsyscallNoP
        self.written = False  # read mode: main wrote every pipe (later reads return at once)

    # ---- bookkeeping ---------------------------------------------------------------
    def log(self, what: object) -> None:
        self.trace.append(At(self.now, what))

    def push(self, t: int, kind: str, th: Thread | None = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, th, th.epoch if th else 0))

    def _newthread(self) -> Thread:
        mp = M(len(self.w.allm))
        self.w.allm.append(mp)
        th = Thread(mp)
        self.threads[mp.id] = th
        return th

    def thread_of(self, pp: P) -> Thread | None:
        return self.threads[pp.m.id] if pp.m is not None else None
    def npidle(self) -> int:
        return len(self.pidle)

    def threads_now(self) -> int:  # Ms + sysmon
        return len(self.w.allm) + 1

    # ---- Ps and Ms -------------------------------------------------------------------
    def acquirep(self, th: Thread, pp: P) -> None:
        th.m.p, pp.m, pp.status = pp, th.m, PStatus.RUNNING

    def releasep(self, th: Thread) -> P:
        pp = th.m.p
        assert pp is not None
        th.m.p, pp.m, pp.status = None, None, PStatus.IDLE
        return pp

    def pidleget(self) -> P | None:
        return self.pidle.pop() if self.pidle else None
    def startm(self, pp: P, spinning: bool, why: str) -> None:
        """proc.go ``startm``: an idle M (``mget``) or a new thread runs ``pp``."""
        new = not self.idle_threads
        th = self._newthread() if new else self.idle_threads.pop()
        self.acquirep(th, pp)
        th.state, th.spinning, th.epoch = "waking", spinning, th.epoch + 1
        self.log(StartM(th.m.id, pp.id, spinning, new, why))
        lat = int(self.rng.expovariate(1 / self.c.wake)) if self.c.wake else 0
        self.push(self.now + lat + (self.c.thread_create if new else 0), "step", th)

    def stopm(self, th: Thread) -> None:
        th.state, th.g, th.epoch = "idle", None, th.epoch + 1
        self.idle_threads.append(th)
        self.log(StopM(th.m.id))

    def wakep(self) -> None:
        """proc.go ``wakep``: one more spinning M, if none spins and a P is idle."""
        if self.nmspinning != 0 or not self.pidle:
            return
        self.nmspinning += 1
        self.startm(self.pidleget(), True, "wakep")

    def handoffp(self, pp: P) -> None:
        """proc.go ``handoffp`` (without GC, trace reader, timers, netpoll)."""
        if not runqempty(pp) or self.w.sched.runq:
            self.startm(pp, False, "handoffp")
        elif self.nmspinning + self.npidle() == 0:
            self.nmspinning += 1
            self.startm(pp, True, "handoffp (spinning)")
        else:
            self.pidle.append(pp)

    def ready(self, gp: G, pp: P) -> None:
        """proc.go ``ready``: into runnext of the readying P, then ``wakep``."""
        gp.status = GStatus.RUNNABLE
        self.w.m = pp.m
        runqput(self.w, pp, gp, True)
        self.wakep()

    # ---- findRunnable ----------------------------------------------------------------
    def find_runnable(self, th: Thread) -> tuple[G | None, bool, int]:
        """proc.go ``findRunnable`` for ``th`` (it holds a P): (gp, inheritTime, cost)."""
        cost = self.c.schedule
        while True:
            pp = th.m.p
            assert pp is not None
            self.w.m = th.m
            if pp.schedtick % GLOBAL_CHECK_TICKS == 0 and self.w.sched.runq:
                return globrunqget(self.w), False, cost
            gp, inherit = runqget(pp)
            if gp is not None:
                return gp, inherit, cost
            if self.w.sched.runq:
                gp, rest = globrunqgetbatch(self.w, RUNQ_SIZE // 2)
                runqputbatch(pp, rest)
                return gp, False, cost
            busy = self.wl.gomaxprocs - self.npidle()
            if th.spinning or 2 * self.nmspinning < busy:
                if not th.spinning:
                    th.spinning = True
                    self.nmspinning += 1
                gp, st, backoff = steal_work(
                    pp, self.w.allp, lambda p: p in self.pidle,
                    lambda p: p.m is not None and self.threads[p.m.id].state == "run",
                    lambda: self.rng.getrandbits(32), self.order)
                cost += st.tries * self.c.steal_try + backoff
                if gp is not None:
                    self.steals.append(st)
                    self.log(st)
                    return gp, False, cost
            # releasep, pidleput; drop spinning; re-check (checkRunqsNoP, global queue)
            self.pidle.append(self.releasep(th))
            if th.spinning:
                th.spinning = False
                self.nmspinning -= 1
                work = self.w.sched.runq or any(
                    p not in self.pidle and not runqempty(p) for p in self.w.allp)
                if work and self.pidle:
                    self.acquirep(th, self.pidleget())
                    th.spinning = True
                    self.nmspinning += 1
                    continue
            return None, False, cost

    # ---- the M's steps ---------------------------------------------------------------
    def step(self, th: Thread) -> None:
        if th.state in ("waking", "sched"):
            th.state = "sched"
            return self.schedule(th)
        if th.state == "run":
            return self.g_continue(th)
        if th.state == "syscall":
            return sc.exitsyscall(self, th)
        raise AssertionError(f"M{th.m.id} stepped while {th.state}")

    def schedule(self, th: Thread) -> None:
        gp, inherit, cost = self.find_runnable(th)
        if gp is None:
            return self.stopm(th)
        if th.spinning:  # resetspinning
            th.spinning = False
            self.nmspinning -= 1
            self.wakep()
        pp = th.m.p
        if gp.goid in self.nop_exits:  # exitsyscall's tail: gp.m.p.ptr().syscalltick++
            self.nop_exits.discard(gp.goid)
            self.syscalltick[pp.id] += 1
        if not inherit:
            pp.schedtick += 1
        gp.status = GStatus.RUNNING
        th.m.curg, th.g, th.state = gp, gp, "run"
        self.first.setdefault(gp.goid, (pp.id, th.m.id))
        self.started.setdefault(gp.goid, self.now)
        kind, left = self.job[gp.goid]  # the end of its next piece of work
        th.ends = self.now + cost + (left if kind in ("spin", "hog") else 0)
        self.push(th.ends, "step", th)

    def g_continue(self, th: Thread) -> None:
        """The running G finished its current piece of work: its next action."""
        gp, pp = th.g, th.m.p
        job = self.job[gp.goid]
        self.w.m = th.m
        if job[0] == "sys":  # the runtime's goroutine parks (waits for its timer)
            return self._park(th)
        if job[0] == "main":
            return self.main_continue(th, gp, pp, job)
        if job[0] == "hog":
            self.hog_end = self.now
        if job[0] in ("spin", "hog") or job[1] == -1:
            return self.goexit(th, gp, pp)
        if job[0] in ("nanosleep", "read"):
            job[1], until = -1, (self.now + job[1] if job[0] == "nanosleep" else None)
            return sc.entersyscall(self, th, until)
        job[1] = -1  # chan: gopark on the receive; main's close readies it
        self.parked.append(gp)
        self._park(th)

    def goexit(self, th: Thread, gp: G, pp: P) -> None:
        goexit0(self.w, gp)
        th.g = th.m.curg = None
        self.done += 1
        if self.done == self.wl.goroutines and self.main_waiting:
            self.main_waiting = False
            self.ready(self.main, pp)
        th.state = "sched"
        self.push(self.now + self.c.goexit, "step", th)

    def main_continue(self, th: Thread, gp: G, pp: P, job: list) -> None:
        wl = self.wl
        if job[1] < wl.goroutines:  # one more go statement
            g = G(0, f"main.{wl.mode}", job[1])
            self.w.allgs.append(g)
            g.goid = len(self.w.allgs)
            g.status = GStatus.RUNNABLE
            if wl.mode != "hog":
                self.job[g.goid] = [wl.mode, wl.work_ns]
            else:  # n goroutines that note when they start, then the hog (spawned last)
                self.job[g.goid] = (["hog", wl.work_ns] if job[1] == wl.n
                                    else ["spin", self.c.goexit])
            runqput(self.w, pp, g, True)
            self.wakep()  # newproc: if mainStarted { wakep() }
            job[1] += 1
            th.ends = self.now + self.c.newproc
            return self.push(th.ends, "step", th)
        if job[1] == wl.n and wl.mode not in ("spin", "hog"):  # time.Sleep(settle)
            job[1] += 1
            self._park(th)
            return self.push(self.now + wl.settle_ns, "timer")
        if job[1] == wl.n + 1 and wl.mode not in ("spin", "hog"):  # woke: count threads
            job[1] += 1
            self.blocked_threads = self.threads_now()
            if wl.mode == "chan":
                for g in self.parked:
                    self.ready(g, pp)
                self.parked = []
            elif wl.mode == "read":
                self.written = True
                for i, t in enumerate(self.in_read):
                    self.push(self.now + (i + 1) * self.c.syscall_edge, "step", t)
                self.in_read = []
        if self.done < wl.goroutines:  # wg.Wait
            self.main_waiting = True
            return self._park(th)
        self.finished = self.now

    def _park(self, th: Thread) -> None:
        th.g.status = GStatus.WAITING
        th.g = th.m.curg = None
        th.state = "sched"
        self.push(self.now + self.c.schedule, "step", th)

    def timer(self) -> None:
        """main's sleep ends: the timer readies it (injectglist: global queue, and an
        idle P gets an M)."""
        self.main.status = GStatus.RUNNABLE
        globrunqput(self.w, self.main)
        if self.pidle:
            self.startm(self.pidleget(), False, "injectglist")

    # ---- the run ---------------------------------------------------------------------
    def run(self, max_events: int = 2_000_000, check: bool = False) -> Outcome:
        w = self.w
        self.main = G(1, "main.main")
        # runtime.main's last newproc before main.main (stage 1's startup): the
        # GOMAXPROCS updater waits in P0's runnext; main's first go kicks it to the ring
        sysg = G(2, "runtime.updateMaxProcsGoroutine", system=True, status=GStatus.RUNNABLE)
        w.allgs += [self.main, sysg]
        w.allp[0].runnext = sysg
        self.job[2] = ["sys", 0]
        self.job[1] = ["main", 0]
        self.main.status = GStatus.RUNNING
        m0 = self.threads[0]
        m0.g = m0.m.curg = self.main
        self.first[1] = (0, 0)
        self.push(0, "step", m0)
        self.push(sm.SYSMON_FIRST_NS, "sysmon")
        for _ in range(max_events):
            if self.finished is not None or not self.heap:
                break
            t, _, kind, th, epoch = heapq.heappop(self.heap)
            if th is not None and epoch != th.epoch:
                continue  # cancelled (preempted, or the M was given other work)
            self.now = t
            if kind == "step":
                self.step(th)
            elif kind == "sysmon":
                self.push(self.now + sm.sysmon_cycle(self), "sysmon")
            elif kind == "preempted":
                sm.preempted(self, th)
            elif kind == "timer":
                self.timer()
            if check:
                self.check()
        else:
            raise RuntimeError(f"{self.wl}: over {max_events} events")
        if self.finished is None:
            raise RuntimeError(f"{self.wl} seed {self.seed}: nothing left to run")
        return self.outcome()

    def check(self) -> None:
        """Assert the invariants of the module docstring (tests call it every event)."""
        held = [p for p in self.w.allp if p.m is not None]
        assert len(held) + len(self.pidle) == len(self.w.allp), "a P is idle and held"
        assert all(p.m is None for p in self.pidle) and len(set(self.pidle)) == len(self.pidle)
        for p in held:
            th = self.threads[p.m.id]
            assert th.m.p is p and th.state in ("waking", "sched", "run", "syscall"), th
        for th in self.threads.values():
            assert (th.state == "idle") == (th in self.idle_threads), th
            assert th.state != "idle" or (th.m.p is None and not th.spinning), th
        assert self.nmspinning == sum(t.spinning for t in self.threads.values()) >= 0
        check_invariants(self.w)

    def outcome(self) -> Outcome:
        workers = range(3, len(self.w.allgs) + 1)
        starts = [self.first[g] for g in workers]
        per_p = Counter(p for p, _ in starts)
        per_m = Counter(m for _, m in starts)
        hog = None
        if self.wl.mode == "hog":
            h = workers[-1]
            others = [self.started[g] for g in workers[:-1]]
            hog = {"start_ns": self.started[h], "end_ns": self.hog_end,
                   "first_other_ns": min(others),
                   "others_during": sum(1 for s in others if s < self.hog_end)}
        return Outcome(self.wl, self.seed, 0, {p.id: per_p.get(p.id, 0) for p in self.w.allp},
                       tuple(sorted(per_m.values(), reverse=True)),
                       len(self.w.allm) - self.created_at_start, self.blocked_threads,
                       self.finished, tuple(self.steals), tuple(self.trace), hog)


@cache
def main_start_tick() -> int:
    """P0's schedtick when main.main starts: stage 1's startup (GOMAXPROCS=1) replayed."""
    from .machine import run
    from .probe import Probe
    return run(Probe("empty", ())).schedtick


def simulate(wl: Workload, seed: int = 0, costs: Costs = DEFAULT_COSTS) -> Outcome:
    """One seeded run of ``wl`` on the model."""
    return Sim(wl, seed, costs).run()
