"""A run taken apart into steps, as stack.go's stackDebug prints would narrate it.

:class:`Recorder` drives one goroutine and records a frozen :class:`Step` for everything
that happens: a call, a return, a preemption, a GC scan, a shrink, and a growth as its
sub-steps (prologue check, morestack, newstack's sizing, stackalloc, copystack's copy and
adjust, stackfree, retry), each with the stack(s) to draw. A :class:`Tape` is the result.
The phases carry the runtime's function names. Lessons 05-08 read tapes; the stepper
(``gostack.lessons.stepper``) shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from .. import prologue
from ..arch import FIXED_STACK, STACK_GUARD, STACK_NOSPLIT, STACK_PREEMPT, STACK_SMALL
from ..errors import StackOverflow
from ..runtime import FrameState, Goroutine, Runtime, Snapshot
from ..symtab import Func
from ..trace import GC, Grow, Overflow, Preempt, Shrink, Trace
from .l04_newstack import overflow_lines, sizing
from .l05_copystack import alloc_path, fmt_delta, local_at


class Phase(Enum):
    """What a step shows; a growth is CHECK ... RETRY."""

    CALL = "call"  # a prologue check passed and the frame was allocated
    CHECK = "prologue check fails"
    MORESTACK = "morestack"
    NEWSIZE = "newstack: the new size"
    ALLOC = "stackalloc"
    COPY = "copystack: copy"
    ADJUST = "copystack: adjust pointers"
    FREE = "stackfree"
    RETRY = "retry"
    RET = "return"
    PREEMPT_REQUEST = "preemption requested"
    PREEMPT = "preempted"
    GC = "GC scan"
    SHRINK = "shrink"
    OVERFLOW = "stack overflow"


GROWTH_PHASES = (Phase.CHECK, Phase.MORESTACK, Phase.NEWSIZE, Phase.ALLOC, Phase.COPY,
                 Phase.ADJUST, Phase.FREE, Phase.RETRY)


COPY_PHASES = (Phase.ALLOC, Phase.COPY, Phase.ADJUST, Phase.FREE)


@dataclass(frozen=True)
class Step:
    """One step of a run: what happened, and the stack(s) to draw.

    ``stack`` is the stack the goroutine is on (during a move: the old one, as it is at
    this step); ``new`` is the new stack during a move, else None.
    """

    phase: Phase
    call_index: int | None
    title: str
    lines: tuple[str, ...]
    stack: Snapshot
    new: Snapshot | None = None
    event: Grow | Shrink | GC | Preempt | Overflow | None = None

    @property
    def starts_growth(self) -> bool:
        return self.phase is Phase.CHECK

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


def _shift(snap: Snapshot, lo: int, hi: int, used: int,
           values: Sequence[FrameState] | None = None) -> Snapshot:
    """The frames of ``snap`` moved to a stack [lo, hi) at the same distance from hi.

    Local values are ``snap``'s (as memmove leaves them) unless ``values`` gives frames
    whose values to take instead (as adjustframe left them).
    """
    delta = hi - snap.hi
    frames = []
    for i, fr in enumerate(snap.frames):
        src = values[i] if values is not None else fr
        frames.append(replace(
            fr, e=fr.e + delta, sp=fr.sp + delta,
            locals=tuple(replace(lc, addr=lc.addr + delta, value=v.value)
                         for lc, v in zip(fr.locals, src.locals, strict=True)),
        ))
    return Snapshot(snap.goid, lo, hi, hi - used, lo + STACK_GUARD, tuple(frames))


def _reread(snap: Snapshot, rt: Runtime) -> Snapshot:
    """``snap`` with every local read again from memory (a freed stack reads its poison)."""
    frames = tuple(
        replace(fr, locals=tuple(replace(lc, value=rt.read(lc.addr)) for lc in fr.locals))
        for fr in snap.frames
    )
    return replace(snap, frames=frames)


def _offset(snap: Snapshot, addr: int) -> str:
    return f"hi-{snap.hi - addr:,}"


def _check_lines(func: Func, size: int, used: int) -> tuple[str, ...]:
    compared = used + max(0, func.frame - STACK_SMALL)
    what = "SP" if func.frame <= STACK_SMALL else f"SP-{func.frame - STACK_SMALL}"
    return (
        "  " + "; ".join(prologue.instructions(func.frame)) + "   (SP = E, the entry SP)",
        f"  {what} is {compared:,} B below hi; stackguard0 = lo + {STACK_GUARD} is "
        f"{size - STACK_GUARD:,} B below hi",
        f"  {compared:,} >= {size - STACK_GUARD:,}: {what} <= stackguard0, so JLS jumps to "
        "the slow path, which calls runtime.morestack_noctxt",
    )


ADJUST_LINES = 7  # adjusted slots listed in a step; the rest are counted


def _growth_steps(func: Func, ev: Grow, before: Snapshot, after: Snapshot,
                  old_after: Snapshot, limit: int) -> list[Step]:
    i, used, old, delta = ev.call_index, ev.used, ev.old_size, ev.delta
    name = func.name
    copied = _shift(before, ev.new_lo, ev.new_hi, used)
    adjusted = _shift(before, ev.new_lo, ev.new_hi, used, values=after.frames[:-1])
    empty = Snapshot(before.goid, ev.new_lo, ev.new_hi, ev.new_hi, ev.new_lo + STACK_GUARD, ())
    siz = sizing(old, used, ev.frame, limit)
    adj_lines = [f"  {local_at(adjusted, a.addr) or a.func + '.' + a.local} "
                 f"({_offset(adjusted, a.addr)}): old {_offset(before, a.old)} -> "
                 f"new {_offset(adjusted, a.new)}" for a in ev.adjusted]
    if len(adj_lines) > ADJUST_LINES:
        hidden = len(adj_lines) - (ADJUST_LINES - 2) - 1
        adj_lines = [*adj_lines[:ADJUST_LINES - 2], f"  ... {hidden} more ...", adj_lines[-1]]
    if not adj_lines:
        adj_lines = ["  no pointer slot held an address in the old stack"]
    return [
        Step(Phase.CHECK, i, f"call {i}: {name}'s prologue check fails", _check_lines(
            func, old, used), before, event=ev),
        Step(Phase.MORESTACK, i, "morestack saves where the goroutine was and switches to g0", (
            f"  g.sched.pc = {name}'s PC, just after its CALL in the slow path",
            f"  g.sched.sp = E = hi-{used:,}, {name}'s SP at entry; g.sched.bp = BP; "
            "g.sched.ctxt = 0 (morestack_noctxt)",
            "  it also notes the caller's PC and SP (for tracebacks); then SP = g0's stack: "
            "newstack must not run on the stack it is about to free",
        ), before, event=ev),
        Step(Phase.NEWSIZE, i, "newstack: double, and keep doubling until the frame fits",
             tuple("  " + x for x in siz.lines()), before, event=ev),
        Step(Phase.ALLOC, i, f"stackalloc({ev.new_size:,})", (
            "  " + alloc_path(ev.new_size),
            f"  delta = new.hi - old.hi = {fmt_delta(delta)}",
        ), before, empty, ev),
        Step(Phase.COPY, i, f"copystack: memmove the {used:,} B in use", (
            f"  [old.hi-{used:,}, old.hi) -> [new.hi-{used:,}, new.hi): every byte keeps its "
            "distance from hi",
            "  pointer slots still hold old-stack addresses",
        ), before, copied, ev),
        Step(Phase.ADJUST, i, "copystack: switch to the new stack, adjust every frame", (
            f"  g.stack = new; stackguard0 = new.lo + {STACK_GUARD}; "
            f"g.sched.sp = new.hi-{used:,}",
            f"  the unwinder walks the frames; {len(ev.adjusted)} pointer slots pointed into "
            f"the old stack and move by {fmt_delta(delta)}:",
            *adj_lines,
        ), before, adjusted, ev),
        Step(Phase.FREE, i, "stackfree(old): the old stack goes back to the allocator", (
            "  with stackPoisonCopy it is first filled with 0xfc bytes, so a pointer "
            "left behind reads garbage",
        ), old_after, adjusted, ev),
        Step(Phase.RETRY, i, f"call {i}: gogo(&g.sched) retries {name}'s prologue: it passes", (
            f"  stack {ev.new_size:,} B; {name}'s frame is allocated, "
            f"{after.used:,} B in use",
        ), after, event=ev),
    ]


@dataclass(frozen=True)
class Tape:
    """A recorded run: its steps and the goroutine's trace."""

    steps: tuple[Step, ...]
    trace: Trace

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def growth(self, k: int = 0, phases: Sequence[Phase] = GROWTH_PHASES) -> tuple[Step, ...]:
        """The steps of the k-th growth (0 = the first), limited to ``phases``."""
        ev = self.trace.grows[k]
        return tuple(s for s in self.steps if s.event is ev and s.phase in phases)


class Recorder:
    """Drive one goroutine and record a :class:`Step` for everything that happens.

    A call's ``body`` runs once the callee's frame is allocated (stores, take_addr...).
    Lessons use it through :func:`running_example`; anything it records is frozen.
    """

    def __init__(self, entry: Func, *, runtime: Runtime | None = None,
                 body: Callable[[Goroutine], None] | None = None) -> None:
        self.rt = runtime if runtime is not None else Runtime(poison=True)
        self._steps: list[Step] = []
        self.finished = False
        self.g = self.rt.go(entry)
        if body is not None:
            body(self.g)
        snap = self.g.snapshot()
        grows = self.g.trace.grows
        note = (f" (its prologue grew the stack to {grows[0].new_size:,} B first)"
                if grows else "")
        self._steps.append(Step(Phase.CALL, 0, f"call 0: go {entry.name}(){note}", (
            f"  a new goroutine: stack {snap.size:,} B; {entry.name}'s frame is "
            f"allocated, {snap.used:,} B in use",), snap))

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    def tape(self) -> Tape:
        return Tape(self.steps, self.g.trace)

    def call(self, func: Func, body: Callable[[Goroutine], None] | None = None) -> bool:
        """Call ``func``; False if the goroutine died of a stack overflow instead."""
        if self.finished:
            raise RuntimeError("the goroutine is dead: a stack overflow ended it")
        g = self.g
        before, n = g.snapshot(), len(g.trace)
        try:
            g.call(func)
        except StackOverflow as e:
            self.finished = True
            ev = g.trace.overflow
            siz = sizing(ev.old_size, ev.used, func.frame, self.rt.max_stack)
            self._steps += [
                Step(Phase.CHECK, ev.call_index, f"call {ev.call_index}: {func.name}'s prologue "
                     "check fails", _check_lines(func, ev.old_size, ev.used), before, event=ev),
                Step(Phase.NEWSIZE, ev.call_index, "newstack: the new size is over the limit",
                     tuple("  " + x for x in siz.lines()), before, event=ev),
                Step(Phase.OVERFLOW, ev.call_index, "fatal error: stack overflow",
                     tuple("  " + x for x in overflow_lines(e)), before, event=ev),
            ]
            return False
        if body is not None:
            body(g)
        after = g.snapshot()
        grew = False
        for ev in g.trace[n:]:
            if isinstance(ev, Preempt):
                self._steps.append(Step(
                    Phase.PREEMPT, ev.call_index, f"call {ev.call_index}: {func.name}'s "
                    "prologue fails: stackguard0 is stackPreempt", (
                        "  morestack -> newstack sees stackguard0 == stackPreempt: no copy",
                        "  gopreempt_m: the goroutine yields its M; when it runs again "
                        f"stackguard0 = lo + {STACK_GUARD} and the prologue runs again",
                    ), before, event=ev))
            elif isinstance(ev, Grow):
                grew = True
                self._steps += _growth_steps(func, ev, before, after, _reread(before, self.rt),
                                             self.rt.max_stack)
        if not grew:
            i = after.frames[-1].call_index
            self._steps.append(Step(Phase.CALL, i, f"call {i}: {func.name}", (
                f"  the prologue check passes; frame {func.frame} B allocated, "
                f"{after.used:,} B in use of {after.size:,}",), after))
        return True

    def ret(self) -> None:
        fr = self.g.frames[-1]
        self.g.ret()
        snap = self.g.snapshot()
        self._steps.append(Step(Phase.RET, fr.call_index, f"return from {fr.func.name} "
                                f"(call {fr.call_index})", (
                                    f"  {snap.used:,} B in use of {snap.size:,}",), snap))

    def preempt(self) -> None:
        self.g.preempt()
        self._steps.append(Step(Phase.PREEMPT_REQUEST, None, "the scheduler asks the "
                                "goroutine to yield", (
                                    f"  stackguard0 = stackPreempt = {STACK_PREEMPT:#_x}: "
                                    "larger than any SP, so the next checked prologue fails",),
                                self.g.snapshot()))

    def gc(self) -> None:
        g = self.g
        before, n = g.snapshot(), len(g.trace)
        g.runtime_gc()
        after = g.snapshot()
        for ev in g.trace[n:]:
            if isinstance(ev, GC):
                quarter = ev.size // 4
                ok = ev.used + STACK_NOSPLIT < quarter and ev.size // 2 >= FIXED_STACK
                self._steps.append(Step(Phase.GC, None, f"GC {ev.gc}: scanstack", (
                    f"  parked in runtime.GC: {ev.used:,} B in use; {ev.used:,} + "
                    f"{STACK_NOSPLIT} {'<' if ok else '>='} {ev.size:,} / 4 = {quarter:,}"
                    + ("" if ev.size // 2 >= FIXED_STACK else " (and 2 KiB is the floor)"),
                    "  shrink to half" if ok else "  no shrink",
                ), before, event=ev))
            elif isinstance(ev, Shrink):
                self._steps.append(Step(Phase.SHRINK, None, f"GC {ev.gc}: shrinkstack "
                                        f"{ev.old_size:,} -> {ev.new_size:,}", (
                                            f"  copystack to half the size; delta "
                                            f"{fmt_delta(ev.delta)}",), before, after, ev))

