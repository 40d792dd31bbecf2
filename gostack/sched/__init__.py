"""gostack.sched: the goroutine scheduler of go1.27.3 (G, M, P and the run queues), stage 1.

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
realrun (real Go, and Go with sysmon's preemptions patched out), fuzz (random probes).

    python -m gostack.sched verify --recorded      # model vs sched_recorded.json, no Go
    python -m gostack.sched verify                 # model vs real Go, live
    python -m gostack.sched verify --quiet-sysmon  # ... with sysmon's preemptions patched out
    python -m gostack.sched fuzz [--big]           # random probes, model vs real Go

Stage 1 is exact for GOMAXPROCS=1 programs without timers, netpoller, GC, select or
Mutex starvation. Real runs vary only through sysmon: its first look at the P can
preempt the runtime's init (one schedtick more: the model's second prediction,
``sysmon_first_look``), and its 10 ms preemption can cut a long time slice (stage 2,
with stealing between Ps, timers and the netpoller).
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
