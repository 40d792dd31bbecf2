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
from ..i18n import N_, _
from ..runtime import FrameState, Goroutine, Runtime, Snapshot
from ..symtab import Func
from ..trace import GC, Grow, Overflow, Preempt, Shrink, Trace
from .l04_newstack import overflow_lines, sizing
from .l05_copystack import alloc_path, fmt_delta, local_at


class Phase(Enum):
    """What a step shows; a growth is CHECK ... RETRY."""

    # The values are English; a picture shows them translated (``_(phase.value)``).
    CALL = N_("call")  # a prologue check passed and the frame was allocated
    CHECK = N_("prologue check fails")
    MORESTACK = "morestack"
    NEWSIZE = N_("newstack: the new size")
    ALLOC = "stackalloc"
    COPY = N_("copystack: copy")
    ADJUST = N_("copystack: adjust pointers")
    FREE = "stackfree"
    RETRY = N_("retry")
    RET = N_("return")
    PREEMPT_REQUEST = N_("preemption requested")
    PREEMPT = N_("preempted")
    GC = N_("GC scan")
    SHRINK = N_("shrink")
    OVERFLOW = N_("stack overflow")


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
        # a saved-BP slot moves with its frame; the word in it is memmove's copy (the old
        # address) until adjustframe's (``values``) adds delta
        frames.append(replace(
            fr, e=fr.e + delta, sp=fr.sp + delta,
            locals=tuple(replace(lc, addr=lc.addr + delta, value=v.value)
                         for lc, v in zip(fr.locals, src.locals, strict=True)),
            bp=fr.bp + delta if fr.bp else 0, saved_bp=src.saved_bp,
        ))
    bp = snap.bp + delta if snap.bp and values is not None else snap.bp
    return Snapshot(snap.goid, lo, hi, hi - used, lo + snap.guard_offset, tuple(frames),
                    snap.guard_offset, bp)


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
        "  " + "; ".join(prologue.instructions(func.frame)) + _("   (SP = E, the entry SP)"),
        _("  {what} is {compared:,} B below hi; stackguard0 = lo + {guard} is {below:,} B "
          "below hi").format(what=what, compared=compared, guard=STACK_GUARD,
                             below=size - STACK_GUARD),
        _("  {compared:,} >= {below:,}: {what} <= stackguard0, so JLS jumps to the slow path, "
          "which calls runtime.morestack_noctxt").format(compared=compared,
                                                        below=size - STACK_GUARD, what=what),
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
    adj_lines = [_("  {slot} ({at}): old {old} -> new {new}").format(
                     slot=local_at(adjusted, a.addr) or a.func + "." + a.local,
                     at=_offset(adjusted, a.addr), old=_offset(before, a.old),
                     new=_offset(adjusted, a.new)) for a in ev.adjusted]
    if len(adj_lines) > ADJUST_LINES:
        hidden = len(adj_lines) - (ADJUST_LINES - 2) - 1
        adj_lines = [*adj_lines[:ADJUST_LINES - 2], _("  ... {n} more ...").format(n=hidden),
                     adj_lines[-1]]
    if not adj_lines:
        adj_lines = [_("  no pointer slot held an address in the old stack")]
    return [
        Step(Phase.CHECK, i, _("call {i}: {name}'s prologue check fails").format(
            i=i, name=name), _check_lines(func, old, used), before, event=ev),
        Step(Phase.MORESTACK, i, _("morestack saves where the goroutine was and switches to "
                                   "g0"), (
            _("  g.sched.pc = {name}'s PC, just after its CALL in the slow path").format(
                name=name),
            _("  g.sched.sp = E = hi-{used:,}, {name}'s SP at entry; g.sched.bp = BP; "
              "g.sched.ctxt = 0 (morestack_noctxt)").format(used=used, name=name),
            _("  it also notes the caller's PC and SP (for tracebacks); then SP = g0's stack: "
              "newstack must not run on the stack it is about to free"),
        ), before, event=ev),
        Step(Phase.NEWSIZE, i, _("newstack: double, and keep doubling until the frame fits"),
             tuple("  " + x for x in siz.lines()), before, event=ev),
        Step(Phase.ALLOC, i, f"stackalloc({ev.new_size:,})", (
            "  " + alloc_path(ev.new_size),
            f"  delta = new.hi - old.hi = {fmt_delta(delta)}",
        ), before, empty, ev),
        Step(Phase.COPY, i, _("copystack: memmove the {used:,} B in use").format(used=used), (
            _("  [old.hi-{used:,}, old.hi) -> [new.hi-{used:,}, new.hi): every byte keeps its "
              "distance from hi").format(used=used),
            _("  pointer slots still hold old-stack addresses"),
        ), before, copied, ev),
        Step(Phase.ADJUST, i, _("copystack: switch to the new stack, adjust every frame"), (
            f"  g.stack = new; stackguard0 = new.lo + {STACK_GUARD}; "
            f"g.sched.sp = new.hi-{used:,}",
            _("  the unwinder walks the frames; {n} pointer slots pointed into the old stack "
              "and move by {delta}:").format(n=len(ev.adjusted), delta=fmt_delta(delta)),
            *adj_lines,
        ), before, adjusted, ev),
        Step(Phase.FREE, i, _("stackfree(old): the old stack goes back to the allocator"), (
            _("  with stackPoisonCopy it is first filled with 0xfc bytes, so a pointer left "
              "behind reads garbage"),
        ), old_after, adjusted, ev),
        Step(Phase.RETRY, i, _("call {i}: gogo(&g.sched) retries {name}'s prologue: it passes")
             .format(i=i, name=name), (
            _("  stack {size:,} B; {name}'s frame is allocated, {used:,} B in use").format(
                size=ev.new_size, name=name, used=after.used),
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
        note = (_(" (its prologue grew the stack to {size:,} B first)").format(
                    size=grows[0].new_size) if grows else "")
        self._steps.append(Step(Phase.CALL, 0, _("call 0: go {name}(){note}").format(
            name=entry.name, note=note), (
            _("  a new goroutine: stack {size:,} B; {name}'s frame is allocated, {used:,} B "
              "in use").format(size=snap.size, name=entry.name, used=snap.used),), snap))

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
                Step(Phase.CHECK, ev.call_index, _("call {i}: {name}'s prologue check fails")
                     .format(i=ev.call_index, name=func.name),
                     _check_lines(func, ev.old_size, ev.used), before, event=ev),
                Step(Phase.NEWSIZE, ev.call_index, _("newstack: the new size is over the limit"),
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
                    Phase.PREEMPT, ev.call_index, _("call {i}: {name}'s prologue fails: "
                                                    "stackguard0 is stackPreempt").format(
                        i=ev.call_index, name=func.name), (
                        _("  morestack -> newstack sees stackguard0 == stackPreempt: no copy"),
                        _("  gopreempt_m: the goroutine yields its M; when it runs again "
                          "stackguard0 = lo + {guard} and the prologue runs again").format(
                              guard=STACK_GUARD),
                    ), before, event=ev))
            elif isinstance(ev, Grow):
                grew = True
                self._steps += _growth_steps(func, ev, before, after, _reread(before, self.rt),
                                             self.rt.max_stack)
        if not grew:
            i = after.frames[-1].call_index
            self._steps.append(Step(Phase.CALL, i, _("call {i}: {name}").format(
                i=i, name=func.name), (
                _("  the prologue check passes; frame {frame} B allocated, {used:,} B in use "
                  "of {size:,}").format(frame=func.frame, used=after.used, size=after.size),),
                after))
        return True

    def ret(self) -> None:
        fr = self.g.frames[-1]
        self.g.ret()
        snap = self.g.snapshot()
        self._steps.append(Step(Phase.RET, fr.call_index, _(
            "return from {name} (call {i})").format(name=fr.func.name, i=fr.call_index), (
                _("  {used:,} B in use of {size:,}").format(used=snap.used, size=snap.size),),
            snap))

    def preempt(self) -> None:
        self.g.preempt()
        self._steps.append(Step(Phase.PREEMPT_REQUEST, None, _(
            "the scheduler asks the goroutine to yield"), (
                _("  stackguard0 = stackPreempt = {preempt}: larger than any SP, so the next "
                  "checked prologue fails").format(preempt=f"{STACK_PREEMPT:#_x}"),),
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
                    _("  parked in runtime.GC: {used:,} B in use; ").format(used=ev.used)
                    + f"{ev.used:,} + {STACK_NOSPLIT} {'<' if ok else '>='} {ev.size:,} / 4 = "
                    f"{quarter:,}"
                    + ("" if ev.size // 2 >= FIXED_STACK else _(" (and 2 KiB is the floor)")),
                    _("  shrink to half") if ok else _("  no shrink"),
                ), before, event=ev))
            elif isinstance(ev, Shrink):
                self._steps.append(Step(Phase.SHRINK, None, f"GC {ev.gc}: shrinkstack "
                                        f"{ev.old_size:,} -> {ev.new_size:,}", (
                                            _("  copystack to half the size; delta {delta}")
                                            .format(delta=fmt_delta(ev.delta)),), before, after,
                                        ev))



def phase_names(phases) -> list[str]:
    """Phases by their names in the language in use (``morestack`` and the runtime's other
    functions as they are)."""
    return [_(p.value) for p in phases]


def phase_counts(steps: Sequence[Step], shown: Sequence[Phase]) -> dict[str, int]:
    """How many of ``steps`` show each phase of ``shown``, by the phases' names."""
    phases = [s.phase for s in steps]
    return {_(p.value): phases.count(p) for p in shown}
