"""The running example of lessons 04-08: go worker(), then recA calling itself.

Its frames are the Go compiler's for the realgo probe (``gostack.lesson_programs``'s
``lesson_running``), so the simulator's growths can be checked against real Go's.
"""

from __future__ import annotations

from ..i18n import _
from ..runtime import Goroutine, Runtime, Snapshot
from ..symtab import POINTER, SCALAR, Func, Local
from .recorder import Recorder, Tape

# As the probe of gostack.realgo writes it in Go:
#
#     func worker() { var x int; p := &x; ...; recA(1, p) }
#     func recA(d int, p *int) uint64 {
#         var buf [16]uint64; var ptrs [1]*uint64
#         ptrs[0] = &buf[...]; ...; return recA(d+1, p) ...
#     }
#
# Every frame holds p, a pointer to the worker's local x, and a pointer into its own
# array. Frame sizes are the compiler's (recorded with the probe's results).
RUNNING_FRAMES = {"main.worker": 40, "main.recA": 160}


def running_funcs(frames: dict[str, int] | None = None) -> tuple[Func, Func]:
    """(worker, recA) of the running example, with their stack maps."""
    fr = frames or RUNNING_FRAMES
    worker = Func("main.worker", frame=fr["main.worker"],
                  locals=(Local("x", SCALAR, 0), Local("p", POINTER, 8)))
    rec = Func("main.recA", frame=fr["main.recA"],
               locals=(Local("p", POINTER, 0), Local("buf", SCALAR, 8), Local("q", POINTER, 16)))
    return worker, rec


def worker_body(g: Goroutine) -> None:
    """The worker's body once its frame is allocated: x := 42; p := &x."""
    g.store("x", 42)
    g.take_addr("p", "x")


def rec_body(g: Goroutine) -> None:
    """recA's body: it receives the worker's &x, and points q at its own buf."""
    d = g.frames[-1].call_index
    g.take_addr("p", "x", src_frame=0)  # recA(d+1, p): p is the worker's &x, passed down
    g.store("buf", d)
    g.take_addr("q", "buf")


def running_example(calls: int = 100, *, frames: dict[str, int] | None = None,
                    runtime: Runtime | None = None) -> Tape:
    """Record the running example: go worker(), then ``calls`` nested calls of recA."""
    worker, rec = running_funcs(frames)
    r = Recorder(worker, runtime=runtime, body=worker_body)
    for _call in range(calls):
        if not r.call(rec, rec_body):
            break
    return r.tape()


def check_running_example(snap: Snapshot) -> int:
    """Like growStackIter's "stack is corrupted" check: in every recA frame p is the
    worker's &x and q is &buf of its own frame. Returns the number of pointers checked."""
    worker, *recs = snap.frames
    x = next(lc.addr for lc in worker.locals if lc.name == "x")
    n = 0
    for fr in recs:
        slot = {lc.name: lc for lc in fr.locals}
        if slot["p"].value != x:
            raise AssertionError(f"recA#{fr.call_index}: p does not point at the worker's x")
        if slot["q"].value != slot["buf"].addr:
            raise AssertionError(f"recA#{fr.call_index}: q does not point at its own buf")
        n += 2
    return n



# ---- lesson 07's printed lines (one source for both editions) -----------------------------

def func_line(f: Func) -> str:
    """A function of the running example: its frame size and its locals' kinds."""
    locals_ = ", ".join(f"{lc.name} ({_(lc.kind.value)})" for lc in f.locals)
    return f"{f.name:<12} ${f.frame:<4} " + _("locals: {locals}").format(locals=locals_)


def tape_line(tape: Tape, calls: int) -> str:
    return _("{calls} calls: {steps} steps, growths at {points}").format(
        calls=calls, steps=len(tape), points=tape.trace.growth_points())


def checked_line(checked: int) -> str:
    return _("pointers checked after the last call: {n}").format(n=checked)
