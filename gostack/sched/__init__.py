"""gostack.sched: the goroutine scheduler of go1.27.3 (G, M, P and the run queues), stages 1-2.

    from gostack import sched
    r = sched.run(sched.catalog.PROBES["spawn_10"])
    r.output            # ('w9', 'w0', 'w1', ..., 'w8', 'end0'), as real Go prints it
    r.trace.of(sched.Execute)

One module per mechanism, named after the runtime's functions: runtime2 (G, M, P,
sched), runq (runqput/runqget/runqputslow/runqgrab/runqsteal, globrunq*), newproc,
park (gopark, ready/goready), gosched (Gosched, goyield), schedule (schedule,
findRunnable, execute, the locked-M handoffs), chan, sema, sync (Mutex, WaitGroup,
Cond), startup (runtime.main before main.main), machine (runs a probe), trace (frozen
events). Probes: probe (the description), render (to Go), catalog (the recorded set),
realrun (real Go, and Go with sysmon's preemptions patched out), fuzz (random probes),
orderquiz (exercise 09's seeded programs whose order with one P is the question).

    python -m gostack.sched verify --recorded      # model vs sched_recorded.json, no Go
    python -m gostack.sched verify                 # model vs real Go, live
    python -m gostack.sched verify --quiet-sysmon  # ... with sysmon's preemptions patched out
    python -m gostack.sched fuzz [--big]           # random probes, model vs real Go
    python -m gostack.sched stats [--live N]       # stage 2's claims, model vs real Go

Stage 2 (several Ps, sysmon, syscalls) is a seeded stochastic simulation in virtual
time, compared with real Go by distributions: clock (the runtime's time constants and
the model's stated costs), sysmon (sleep schedule, retake, preemptone), syscall
(entersyscall, exitsyscall, entersyscallblock), steal (stealOrder, stealWork), procs
(Ms and Ps: startm, stopm, wakep, handoffp, spinning, findRunnable), statprobe (the
real program that counts), stats (the claims and their tolerances; recorded by
scripts/record_sched_stats.py), netprobe (lesson 11's real program: N goroutines read
pipes through os.File, the netpoller, or by syscall.Read; recorded by
scripts/record_netpoll.py, not modelled). With GOMAXPROCS=1 procs reproduces stage 1's order
for the spawn probes; stage 1's machine itself has no clock and is unchanged.
For lesson 12: timeline (which G ran on which P, when: a procs run recorded per P) and
preemptprobe (a real program: which loops sysmon's preemption stops, with and without
the signal; recorded by scripts/record_preempt.py).

    from gostack.sched import procs
    o = procs.simulate(procs.Workload("nanosleep", n=20, gomaxprocs=1, work_ns=50_000_000))
    o.threads_created   # 19: each goroutine in the kernel keeps its thread

Stage 1 is exact for GOMAXPROCS=1 programs without timers, netpoller, GC, select or
Mutex starvation. Real runs vary only through sysmon: its first look at the P can
preempt the runtime's init (one schedtick more: the model's second prediction,
``sysmon_first_look``), and its 10 ms preemption can cut a long time slice (stage 2's
sysmon models it, in virtual time). Left out of both stages: timers, the netpoller,
select, GC workers, and the OS's CPU count (stage 2 lets every woken M run at once).
"""

from . import catalog, machine
from .machine import Machine, Result, run
from .probe import (
    Close,
    Emit,
    Go,
    Goid,
    Gosched,
    Lock,
    Loop,
    Probe,
    Recv,
    Send,
    Unlock,
    WgAdd,
    WgDone,
    WgWait,
)
from .runtime2 import GLOBAL_CHECK_TICKS, RUNQ_SIZE, G, M, P, World
from .schedule import Deadlock
from .trace import (
    Execute,
    Exit,
    GlobRunqBatch,
    GlobRunqPut,
    HandoffP,
    NewProc,
    Output,
    Park,
    Queues,
    Ready,
    RunqPut,
    RunqPutSlow,
    SchedTrace,
    Yield,
)

__all__ = [
    "GLOBAL_CHECK_TICKS", "RUNQ_SIZE", "Close", "Deadlock", "Emit", "Execute", "Exit", "G",
    "GlobRunqBatch", "GlobRunqPut", "Go", "Goid", "Gosched", "HandoffP", "Lock", "Loop", "M",
    "Machine", "NewProc", "Output", "P", "Park", "Probe", "Queues", "Ready", "Recv", "Result",
    "RunqPut", "RunqPutSlow", "SchedTrace", "Send", "Unlock", "WgAdd", "WgDone", "WgWait",
    "World", "Yield", "catalog", "machine", "run",
]
