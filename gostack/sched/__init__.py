"""gostack.sched: the goroutine scheduler of go1.27.3 (G, M, P and the run queues), stage 1.

    from gostack import sched
    r = sched.run(sched.catalog.PROBES["spawn_10"])
    r.output            # ('w9', 'w0', 'w1', ..., 'w8', 'end0'), as real Go prints it
    r.trace.of(sched.Execute)

One module per mechanism, named after the runtime's functions: runtime2 (G, M, P,
sched), runq (runqput/runqget/runqputslow/runqgrab/runqsteal, globrunq*), newproc,
park (gopark, ready/goready), gosched (Gosched, goyield), schedule (schedule,
findRunnable, execute, the locked-M handoffs), chan, sema, sync (Mutex, WaitGroup),
startup (runtime.main before main.main), machine (runs a probe), trace (frozen events).
Probes: probe (the description), render (to Go), catalog (the recorded set), realrun
(real Go). ``python -m gostack.sched verify [--recorded]`` compares model and Go.

Stage 1 is exact for GOMAXPROCS=1 without timers, netpoller, GC or sysmon preemption;
those (and stealing between Ps) are stage 2.
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
