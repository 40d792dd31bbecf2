"""Step-by-step views for lessons 04-08: newstack's sizing, a growth taken apart, a Cursor.

Everything here computes and returns frozen values; the widgets at the end only render
what those functions return, so tests/test_explore.py checks all of it without a browser.

* :func:`sizing` shows newstack's fit loop candidate by candidate (the size itself comes
  from ``gostack.newstack.new_size``);
* :func:`growth_run` and :func:`copy_cost` summarise a recursion's growths and the bytes
  they copied (the amortised cost);
* :class:`Recorder` drives a goroutine and turns every call into :class:`Step` values, a
  growth into its sub-steps (prologue check, morestack, newstack sizing, stackalloc, copy,
  adjust, free, retry) with a picture of the old and new stack at each;
* :class:`Cursor` steps through any sequence of steps: step, back, play, next growth;
* the lessons' real-Go programs (sources, runs, recorded results) are at the end, beside
  ``gostack.realgo``, which builds and runs them.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from . import arch, newstack, plot, prologue
from .arch import (
    FIXED_STACK,
    MAX_STACK_DEFAULT,
    STACK_CACHE_SIZE,
    STACK_GUARD,
    STACK_NOSPLIT,
    STACK_PREEMPT,
    STACK_SMALL,
)
from .errors import StackOverflow
from .runtime import FrameState, Goroutine, Runtime, Snapshot, Stages
from .stackalloc import stack_order
from .symtab import POINTER, SCALAR, UINTPTR, Func, Kind, Local
from .trace import GC, Call, Grow, Overflow, Preempt, Shrink, Trace
from .widgets import show_in

# ---------------------------------------------------------------------------------------
# newstack's sizing (lesson 04)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One size newstack tries: does the frame plus the guard fit below the copied bytes?"""

    size: int
    used: int  # bytes that will be copied (hi - E of the function whose check failed)
    needed: int  # its frame + stackGuard (928)

    @property
    def room(self) -> int:
        """What is left below the copied bytes in a stack of this size."""
        return self.size - self.used

    @property
    def fits(self) -> bool:
        return self.room >= self.needed


@dataclass(frozen=True)
class Sizing:
    """newstack's decision for one failed check: the sizes it tried and the one it took."""

    old_size: int
    used: int
    frame: int
    limit: int
    candidates: tuple[Candidate, ...]  # 2*old, 4*old, ...: the last is the one taken
    new_size: int | None  # None: over the limit, `fatal error: stack overflow`

    @property
    def overflow(self) -> bool:
        return self.new_size is None

    @property
    def doublings(self) -> int:
        return len(self.candidates)

    def lines(self) -> list[str]:
        need = f"{self.frame:,} + {STACK_GUARD} = {self.frame + STACK_GUARD:,}"
        out = [f"old stack {self.old_size:,} B, {self.used:,} B in use; the frame needs "
               f"{need} B below them"]
        for c in self.candidates:
            verdict = ">= needed: fits" if c.fits else "< needed: double again"
            out.append(f"  try {c.size:>13,}: room {c.size:,} - {self.used:,} = "
                       f"{c.room:,} {verdict}")
        last = self.candidates[-1].size
        if self.new_size is None:
            out.append(f"  {last:,} > limit {self.limit:,}: runtime: goroutine stack exceeds "
                       f"{self.limit}-byte limit; fatal error: stack overflow")
        else:
            times = "1 doubling" if self.doublings == 1 else f"{self.doublings} doublings"
            out.append(f"new stack {self.new_size:,} B ({times} in one copy)")
        return out


def sizing(old_size: int, used: int, frame: int, limit: int = MAX_STACK_DEFAULT) -> Sizing:
    """The candidates of newstack's fit loop; the size taken comes from newstack.new_size."""
    try:
        final = newstack.new_size(old_size, used, frame, limit)
        taken: int | None = final
    except StackOverflow as e:
        final, taken = e.new_size or 2 * old_size, None
    candidates = []
    size = 2 * old_size
    while size <= final:
        candidates.append(Candidate(size, used, frame + STACK_GUARD))
        size *= 2
    return Sizing(old_size, used, frame, limit, tuple(candidates), taken)


def sizing_of(grow: Grow, limit: int = MAX_STACK_DEFAULT) -> Sizing:
    return sizing(grow.old_size, grow.used, grow.frame, limit)


def last_size_under(limit: int = MAX_STACK_DEFAULT) -> int:
    """The largest stack a goroutine can have under ``limit``: sizes are powers of two and
    growth fails when the new size is over the limit, so it is the power of two <= limit."""
    return 1 << (limit.bit_length() - 1)


# ---------------------------------------------------------------------------------------
# A recursion's growths and their cost (lesson 04)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthRun:
    """A goroutine (entry frame ``entry``) calling a ``frame``-byte function ``calls`` times."""

    frame: int
    calls: int
    entry: int
    limit: int
    grows: tuple[Grow, ...]
    overflow: Overflow | None
    calls_made: int  # calls that ran (fewer than ``calls`` after an overflow)
    size: int  # stack size at the end

    def lines(self) -> list[str]:
        head = (f"{self.calls:,} calls of a {self.frame:,}-byte frame (entry frame {self.entry}"
                f", limit {self.limit:,} B): {len(self.grows)} growths")
        out = [head]
        for e in self.grows:
            d = f" ({e.doublings} doublings)" if e.doublings > 1 else ""
            out.append(f"  call {e.call_index:>6,}: {e.old_size:>11,} -> {e.new_size:>11,} B{d}, "
                       f"{e.used:,} B copied")
        if self.overflow is not None:
            o = self.overflow
            out.append(f"  call {o.call_index:>6,}: {o.old_size:,} -> {o.new_size:,} B is over "
                       f"the limit: fatal error: stack overflow")
        return out


def growth_run(frame: int = 160, calls: int = 400, *, entry: int = 40,
               limit: int = MAX_STACK_DEFAULT) -> GrowthRun:
    """Run the recursion on the simulator; an overflow ends it (it is in ``overflow``)."""
    g = Runtime(max_stack=limit, trace=False).go(Func("main.worker", frame=entry))
    rec = Func("main.rec", frame=frame)
    try:
        for _ in range(calls):
            g.call(rec)
    except StackOverflow:
        pass
    t = g.trace
    made = t.overflow.call_index - 1 if t.overflow else g.calls - 1  # the entry is call 0
    return GrowthRun(frame, calls, entry, limit, t.grows, t.overflow, made, g.stack_size)


@dataclass(frozen=True)
class CopyCost:
    """After each call of a recursion: stack size, bytes in use, bytes copied so far."""

    frame: int
    call: tuple[int, ...]  # call index 0..n
    size: tuple[int, ...]
    in_use: tuple[int, ...]  # hi - SP once the call's frame is allocated
    copied: tuple[int, ...]  # bytes copystack moved in all growths up to this call

    @property
    def final_size(self) -> int:
        return self.size[-1]

    @property
    def total_copied(self) -> int:
        return self.copied[-1]

    @property
    def per_call(self) -> float:
        """Bytes copied per call, amortised over the whole recursion."""
        return self.total_copied / max(1, self.call[-1])


def copy_cost(frame: int = 160, calls: int = 400, *, entry: int = 40) -> CopyCost:
    """Trace a recursion and add up, call by call, the bytes its growths copied."""
    g = Runtime().go(Func("main.worker", frame=entry))
    rec = Func("main.rec", frame=frame)
    for _ in range(calls):
        g.call(rec)
    idx, size, in_use, copied = [], [], [], []
    cur, total = arch.STACK_MIN, 0
    for e in g.trace:
        if isinstance(e, Grow):
            cur, total = e.new_size, total + e.used
        elif isinstance(e, Call):
            idx.append(e.call_index)
            size.append(cur)
            in_use.append(e.used + e.frame)
            copied.append(total)
    return CopyCost(frame, tuple(idx), tuple(size), tuple(in_use), tuple(copied))


# ---------------------------------------------------------------------------------------
# Where a new stack comes from (lesson 05)
# ---------------------------------------------------------------------------------------


def alloc_path(size: int) -> str:
    """Which of stackalloc's two paths serves ``size``, in words."""
    order = stack_order(size)
    if order is not None:
        return (f"small stack: order {order} ({size // 1024} KiB) from the per-P cache, refilled "
                f"from stackpool[{order}] (32 KiB spans cut in {STACK_CACHE_SIZE // size})")
    pages = size // arch.PAGE_SIZE
    return (f"large stack: a span of its own ({pages:,} pages of 8 KiB), from the stackLarge "
            "free list if one is there, else from the heap")


def fmt_delta(delta: int) -> str:
    """A delta with its sign and thousands separators: +32,768 or -131,072."""
    return f"{delta:+,}"


def word_bytes(value: int) -> str:
    """A word as its 8 bytes in memory order: `fc fc fc fc fc fc fc fc` for the old-stack poison."""
    return value.to_bytes(8, "little").hex(" ")


# ---------------------------------------------------------------------------------------
# Describing slots without printing addresses (lesson 06)
# ---------------------------------------------------------------------------------------


def _local_at(snap: Snapshot, addr: int) -> str | None:
    for fr in snap.frames:
        for lc in fr.locals:
            if lc.addr == addr:
                return f"{fr.func}#{fr.call_index}.{lc.name}"
    return None


def describe(value: int, snap: Snapshot, *, old: tuple[int, int] | None = None,
             heap: Sequence[int] = (), kind: Kind = Kind.POINTER,
             freed: Sequence[tuple[int, int]] = ()) -> str:
    """What a word holds, in words: `&main.worker#0.x`, `old stack hi-312`, `heap object`...

    ``snap`` is the stack the word is read in, ``old`` the bounds of the stack before a
    move (a value there dangles once the stack has moved), ``heap`` heap object addresses,
    ``freed`` the bounds of stacks freed by earlier moves.
    """
    if kind is Kind.SCALAR:
        return f"{value:,}"
    if value == 0:
        return "nil"
    if snap.lo <= value < snap.hi:
        name = _local_at(snap, value)
        return f"&{name}" if name else f"hi-{snap.hi - value:,}"
    if old is not None and old[0] <= value < old[1]:
        return f"old stack hi-{old[1] - value:,}"
    for lo, hi in freed:
        if lo <= value < hi:
            return f"freed stack hi-{hi - value:,}"
    if value in heap:
        return "heap object"
    if value in (arch.POISON_OLD, arch.POISON_NEW):
        return f"poison {word_bytes(value)}"
    return "another address"


@dataclass(frozen=True)
class SlotRow:
    """One local before and after a move."""

    frame: str
    local: str
    kind: Kind
    offset: int  # hi - address: the same before and after a move
    before: str
    after: str
    adjusted: bool


def slot_rows(before: Snapshot, after: Snapshot, grow: Grow | Shrink,
              heap: Sequence[int] = (), frames: Sequence[int] | None = None,
              freed: Sequence[tuple[int, int]] = ()) -> tuple[SlotRow, ...]:
    """Every local of the frames that existed before the move (or of ``frames``, indexes
    into them): what it held, what it holds, whether adjustpointers rewrote it (from the
    event's record). ``after`` may be the new stack at any point of the move; ``freed``:
    see describe."""
    moved = {(a.func, a.local, a.addr - grow.delta) for a in grow.adjusted}
    old = (grow.old_lo, grow.old_hi)
    pairs = list(zip(before.frames, after.frames, strict=False))
    if frames is not None:
        pairs = [pairs[i] for i in frames]
    rows = []
    for fb, fa in pairs:
        for lb, la in zip(fb.locals, fa.locals, strict=True):
            rows.append(SlotRow(
                f"{fb.func}#{fb.call_index}", lb.name, lb.kind, before.hi - lb.addr,
                describe(lb.value, before, heap=heap, kind=lb.kind, freed=freed),
                describe(la.value, after, old=old, heap=heap, kind=la.kind, freed=freed),
                (fb.func, lb.name, lb.addr) in moved,
            ))
    return tuple(rows)


def slot_table(rows: Sequence[SlotRow], *, adjusted: bool = True,
               headings: tuple[str, str] = ("before the move", "after the move")) -> str:
    """The rows as an aligned text table (offsets from hi, never addresses)."""
    head = ("slot", "kind", "at", *headings) + (("adjusted",) if adjusted else ())
    body = [(f"{r.frame}.{r.local}", r.kind.value, f"hi-{r.offset:,}", r.before, r.after)
            + (("yes" if r.adjusted else "no",) if adjusted else ()) for r in rows]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in (head, *body))


def stack_map(func: Func) -> str:
    """The locals' pointer bitmap of a function, one bit per word from SP up (the saved BP
    slot at the top is not in it): 1 for a pointer slot, 0 for anything else."""
    words = (func.frame - arch.PTR_SIZE) // arch.PTR_SIZE
    bits = ["0"] * words
    for off in func.pointer_offsets:
        bits[off // arch.PTR_SIZE] = "1"
    return "".join(bits)


# ---------------------------------------------------------------------------------------
# A run taken apart into steps (lessons 05 and 07)
# ---------------------------------------------------------------------------------------


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
    adj_lines = [f"  {_local_at(adjusted, a.addr) or a.func + '.' + a.local} "
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
            "  m.morebuf = the caller's pc and sp; then SP = g0's stack: newstack must not "
            "run on the stack it is about to free",
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


def overflow_lines(e: StackOverflow) -> list[str]:
    """The runtime's overflow message with the addresses replaced by offsets."""
    return [
        f"runtime: goroutine stack exceeds {e.limit}-byte limit",
        f"runtime: sp=0x… stack=[0x…, 0x…]   (sp = hi-{e.hi - e.sp:,}, a {e.size:,}-byte stack)",
        "fatal error: stack overflow",
    ]


# The running example of lessons 05-07, as the probe of gostack.realgo writes it in Go:
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


def _worker_body(g: Goroutine) -> None:
    g.store("x", 42)
    g.take_addr("p", "x")


def _rec_body(g: Goroutine) -> None:
    d = g.frames[-1].call_index
    g.take_addr("p", "x", src_frame=0)  # recA(d+1, p): p is the worker's &x, passed down
    g.store("buf", d)
    g.take_addr("q", "buf")


def running_example(calls: int = 100, *, frames: dict[str, int] | None = None,
                    runtime: Runtime | None = None) -> Tape:
    """Record the running example: go worker(), then ``calls`` nested calls of recA."""
    worker, rec = running_funcs(frames)
    r = Recorder(worker, runtime=runtime, body=_worker_body)
    for _ in range(calls):
        if not r.call(rec, _rec_body):
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


# ---------------------------------------------------------------------------------------
# The Cursor
# ---------------------------------------------------------------------------------------


class Cursor:
    """A position in a sequence of steps: step, back, jump, play, next growth.

    Positions are clamped to the sequence: ``step`` at the end and ``back`` at the start
    stay put. ``play`` goes from here to the end (from the start if already at the end).
    ``next_growth`` jumps to the next step that starts a growth, or to the end if there is
    none. ``is_growth`` defaults to the step's ``starts_growth`` attribute.
    """

    def __init__(self, steps: Sequence[Any], position: int = 0, *,
                 is_growth: Callable[[Any], bool] | None = None) -> None:
        if len(steps) == 0:
            raise ValueError("a Cursor needs at least one step")
        self.steps = steps
        self._is_growth = is_growth or (lambda s: bool(getattr(s, "starts_growth", False)))
        self.position = 0
        self.jump(position)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def current(self) -> Any:
        return self.steps[self.position]

    @property
    def at_start(self) -> bool:
        return self.position == 0

    @property
    def at_end(self) -> bool:
        return self.position == len(self.steps) - 1

    def jump(self, position: int) -> int:
        """Go to ``position`` (negative counts from the end), clamped to the sequence."""
        if isinstance(position, bool) or not isinstance(position, int):
            raise TypeError(f"position must be an int, got {position!r}")
        if position < 0:
            position += len(self.steps)
        self.position = min(max(position, 0), len(self.steps) - 1)
        return self.position

    def step(self, n: int = 1) -> int:
        return self.jump(self.position + n) if n >= 0 else self.back(-n)

    def back(self, n: int = 1) -> int:
        return self.jump(max(self.position - n, 0))

    def peek(self) -> Any | None:
        """The next step, or None at the end."""
        return None if self.at_end else self.steps[self.position + 1]

    @property
    def growth_ahead(self) -> bool:
        """True if a step after this one starts a growth."""
        return any(self._is_growth(self.steps[i])
                   for i in range(self.position + 1, len(self.steps)))

    def next_growth(self) -> int:
        for i in range(self.position + 1, len(self.steps)):
            if self._is_growth(self.steps[i]):
                return self.jump(i)
        return self.jump(len(self.steps) - 1)

    def play(self, max_steps: int | None = None) -> Iterator[int]:
        """Yield each position from the next one to the end (or ``max_steps`` of them)."""
        if self.at_end:
            self.jump(0)
            yield 0
        count = 0
        while not self.at_end and (max_steps is None or count < max_steps):
            count += 1
            yield self.step()


# ---------------------------------------------------------------------------------------
# Adjustment on and off (lesson 06)
# ---------------------------------------------------------------------------------------


def pointer_worker() -> Func:
    """Lesson 06's worker: x := 42; p := &x; u := uintptr(unsafe.Pointer(&x)); h := new(int)."""
    return Func("main.worker", frame=56, locals=(
        Local("x", SCALAR, 0), Local("p", POINTER, 8), Local("u", UINTPTR, 16),
        Local("h", POINTER, 24)))


def _pointer_worker_body(g: Goroutine) -> None:
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", g.rt.new_object())


def _read(value: int) -> str:
    return f"poison {word_bytes(value)}" if value in (arch.POISON_OLD, arch.POISON_NEW) \
        else f"{value:,}"


@dataclass(frozen=True)
class AdjustRun:
    """Lesson 06's worker, then ``calls`` calls of recA, with adjustment on or off."""

    calls: int
    adjust: bool
    poison: bool
    tape: Tape
    rows: tuple[SlotRow, ...]  # the worker's locals across the last move (none: no move)
    reads: tuple[str, ...]  # what following p, h and u gives now

    @property
    def picture(self) -> Step:
        """The last move's stackfree step (dangling pointers show), else the last step."""
        free = [s for s in self.tape if s.phase is Phase.FREE]
        return free[-1] if free else self.tape[-1]

    def lines(self) -> list[str]:
        grows = self.tape.trace.grows
        how = "adjustframe" if self.adjust else "no_adjust"
        head = (f"{self.calls} calls of recA, {how}, "
                f"{'poisoned' if self.poison else 'unpoisoned'} old stacks: ")
        if not grows:
            return [head + "the stack has not moved (2,048 B)", "", *self.reads]
        g = grows[-1]
        moves = f"{len(grows)} move{'s' * (len(grows) != 1)}"
        return [head + f"{moves}, the last at call {g.call_index}: {g.old_size:,} "
                f"-> {g.new_size:,} B, delta {fmt_delta(g.delta)}", "",
                slot_table(self.rows, headings=("before the last move", "after it")), "",
                *self.reads]


def adjust_run(calls: int = 7, *, adjust: bool = True, poison: bool = True) -> AdjustRun:
    """Run lesson 06's experiment; the adjustframe stage is the reference or no_adjust."""
    from . import adjust as adj

    stages = Stages() if adjust else Stages().replace(adjustframe=adj.no_adjust)
    rt = Runtime(poison=poison, stages=stages)
    r = Recorder(pointer_worker(), runtime=rt, body=_pointer_worker_body)
    rec = running_funcs()[1]
    for _ in range(calls):
        r.call(rec, _rec_body)  # each recA holds &worker.x and a pointer to its own buf
    tape, g = r.tape(), r.g
    heap = g.load("h", 0)
    rows: tuple[SlotRow, ...] = ()
    if tape.trace.grows:
        last = len(tape.trace.grows) - 1
        check, *_, free = tape.growth(last, (Phase.CHECK, Phase.FREE))
        freed = [(e.old_lo, e.old_hi) for e in tape.trace.grows[:last]]
        rows = slot_rows(check.stack, free.new, tape.trace.grows[last], heap=[heap],
                         frames=(0,), freed=freed)
    x, p, u = g.addr("x", 0), g.load("p", 0), g.load("u", 0)
    reads = (
        f"*p = {_read(rt.read(p))}" + ("" if p == x else "   (p no longer points to x)"),
        f"*h = {_read(rt.heap_load(heap))}   (new(int), on the heap: it never moves)",
        f"u == &x: {u == x}" + ("" if u == x else f"   *(*int)(u) = {_read(rt.read(u))}"),
    )
    return AdjustRun(calls, adjust, poison, tape, rows, reads)


def adjust_explorer(calls: int = 7, *, adjust: bool = True, poison: bool = True):
    """Adjustment on or off, poisoning on or off, and the number of calls in; the worker's
    slots across the last move, what p, h and u now read, and the stackfree step out
    (the default state is adjust_run()'s with the same arguments)."""
    import html

    import ipywidgets as w

    stage = w.ToggleButtons(options=[("adjustframe", True), ("no_adjust", False)],
                            value=adjust, description="stage")
    poisoned = w.Checkbox(value=poison, description="poison old stacks")
    depth = w.IntSlider(value=calls, min=0, max=100, description="calls",
                        continuous_update=False)
    text, out = w.HTML(), w.Output()

    def render(*_):
        run = adjust_run(depth.value, adjust=stage.value, poison=poisoned.value)
        text.value = "<pre style='font-size: 11px'>" + html.escape("\n".join(run.lines())) \
            + "</pre>"
        show_in(out, step_figure(run.picture))

    for wid in (stage, poisoned, depth):
        wid.observe(render, "value")
    render()
    return w.VBox([w.HBox([stage, poisoned]), depth, text, out])


# ---------------------------------------------------------------------------------------
# Shrinking, hot splits (lesson 08)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShrinkRow:
    gc: int
    size: int  # when scanned
    used: int  # in use where the goroutine is parked
    new_size: int | None

    @property
    def threshold(self) -> int:
        return self.size // 4


def shrink_rows(trace: Trace) -> tuple[ShrinkRow, ...]:
    """One row per GC scan of the goroutine: its size, what was in use, the new size."""
    shrinks = {e.gc: e for e in trace.shrinks}
    return tuple(ShrinkRow(e.gc, e.size, e.used, shrinks[e.gc].new_size if e.gc in shrinks
                           else None) for e in trace.of(GC))


def shrink_table(rows: Sequence[ShrinkRow]) -> str:
    out = ["GC  size before  in use + 800  size / 4  shrinks to"]
    for r in rows:
        new = f"{r.new_size:,}" if r.new_size else "-"
        out.append(f"{r.gc:>2}  {r.size:>11,}  {r.used + STACK_NOSPLIT:>11,}  "
                   f"{r.threshold:>8,}  {new:>10}")
    return "\n".join(out)


@dataclass(frozen=True)
class ShrinkRun:
    """Lesson 08's experiment: a recursion ``calls`` deep, back to depth ``stay``, then
    ``gcs`` calls of runtime.GC() from there."""

    calls: int
    stay: int
    worker: int  # the worker's frame (40 in the running example, 56 in the facts sheet)
    frame: int
    peak: int  # the stack size the recursion reached
    rows: tuple[ShrinkRow, ...]
    final: int

    @property
    def halvings(self) -> int:
        return sum(1 for r in self.rows if r.new_size)

    @property
    def counts(self) -> str:
        n, gcs = self.halvings, len(self.rows)
        return f"{n} halving{'s' * (n != 1)} in {gcs} GC{'s' * (gcs != 1)}"

    @property
    def title(self) -> str:
        return f"{self.calls:,} calls deep, back to depth {self.stay:,}: {self.counts}"

    def lines(self) -> list[str]:
        used = self.rows[0].used if self.rows else 0
        grew = "grew to" if self.peak > FIXED_STACK else "stayed at"
        return [f"{self.calls:,} calls of a {self.frame}-byte frame from a {self.worker}-byte "
                f"worker: the stack {grew} {self.peak:,} B",
                f"back at depth {self.stay:,}, parked in runtime.GC: {used:,} B in use",
                f"{self.counts}: {self.peak:,} → {self.final:,} B", "",
                shrink_table(self.rows)]


def shrink_run(calls: int = 400, stay: int = 0, gcs: int = 8, *,
               worker: int = RUNNING_FRAMES["main.worker"],
               frame: int = RUNNING_FRAMES["main.recA"]) -> ShrinkRun:
    """Run the experiment on the simulator; ``stay`` is clipped to ``calls``."""
    stay = min(stay, calls)
    g = Runtime(trace=False).go(Func("main.worker", frame=worker))
    rec = Func("main.recA", frame=frame)
    for _ in range(calls):
        g.call(rec)
    peak = g.stack_size
    for _ in range(calls - stay):
        g.ret()
    for _ in range(gcs):
        g.runtime_gc()
    rows = shrink_rows(g.trace)
    # runtime.GC's own calls may grow the stack first (arch.GC_FIRST_CHECK): count that too.
    peak = max([peak, *(r.size for r in rows)])
    return ShrinkRun(calls, stay, worker, frame, peak, rows, g.stack_size)


def shrink_figure(run: ShrinkRun):
    """The figure of a shrink run: plot.draw_shrinks, titled with the run."""
    with plt.rc_context(plot.STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        plot.draw_shrinks(run.rows, ax, title=run.title)
        fig.tight_layout()
    return fig


def show_shrinks(run: ShrinkRun) -> None:
    _display(shrink_figure(run))


def shrink_explorer(calls: int = 400, stay: int = 0, gcs: int = 8):
    """How deep, back to which depth, the worker's frame and how many GCs in; each GC's
    decision out (the default state is shrink_run()'s)."""
    import html

    import ipywidgets as w

    deep = w.IntSlider(value=calls, min=0, max=2000, step=10, description="calls",
                       continuous_update=False)
    back = w.IntSlider(value=stay, min=0, max=2000, step=10, description="back to",
                       continuous_update=False)
    worker = w.Dropdown(options=[("40 (running example)", 40), ("56 (facts sheet)", 56)],
                        value=RUNNING_FRAMES["main.worker"], description="worker")
    cycles = w.IntSlider(value=gcs, min=1, max=12, description="GCs", continuous_update=False)
    text, out = w.HTML(), w.Output()

    def render(*_):
        run = shrink_run(deep.value, back.value, cycles.value, worker=worker.value)
        text.value = "<pre style='font-size: 11px'>" + html.escape("\n".join(run.lines())) \
            + "</pre>"
        show_in(out, shrink_figure(run))

    for wid in (deep, back, worker, cycles):
        wid.observe(render, "value")
    render()
    return w.VBox([w.HBox([deep, back]), w.HBox([worker, cycles]), text, out])


@dataclass(frozen=True)
class HotSplit:
    """Costs of a loop calling one function right below a given depth."""

    frame: int
    args: int
    iterations: int
    boundary: int  # depth at which each loop call splits (segmented)
    depths: tuple[int, ...]
    segmented_splits: tuple[int, ...]  # morestack calls per depth
    segmented_copied: tuple[int, ...]  # argument bytes copied in and out
    contiguous_grows: tuple[int, ...]
    contiguous_copied: tuple[int, ...]
    # At the boundary depth, as the loop runs: (iterations, morestack calls, growths).
    by_iterations: tuple[tuple[int, int, int], ...]


def hot_split(frame: int = 160, args: int = 16, iterations: int = 1000,
              around: int = 6) -> HotSplit:
    """Go 1.2 segmented stacks against go1.27 contiguous ones, depth by depth around the
    segment boundary: a loop of ``iterations`` calls at each depth."""
    from . import segmented as seg

    b = seg.boundary_depth(frame, args=args, loop_args=args)
    depths = tuple(range(max(1, b - around), b + around + 1))
    ss, sc, cg, cc = [], [], [], []
    for d in depths:
        ops = seg.hot_split_program([frame] * d, frame, iterations, loop_args=args)
        c = seg.compare_with_contiguous(ops)
        ss.append(c.segmented.morestack_calls)
        sc.append(c.segmented.arg_bytes_copied)
        cg.append(c.contiguous.grows)
        cc.append(c.contiguous.bytes_copied)
    curve = []
    for n in range(0, iterations + 1, max(1, iterations // 10)):
        c = seg.compare_with_contiguous(seg.hot_split_program([frame] * b, frame, n,
                                                              loop_args=args))
        curve.append((n, c.segmented.morestack_calls, c.contiguous.grows))
    return HotSplit(frame, args, iterations, b, depths, tuple(ss), tuple(sc), tuple(cg),
                    tuple(cc), tuple(curve))


# ---------------------------------------------------------------------------------------
# Real Go: the lessons' programs and their recorded results
# ---------------------------------------------------------------------------------------

RECORDED_PATH = Path(__file__).resolve().parent / "data" / "lessons_recorded.json"


def lesson_programs() -> dict:
    """The realgo probe programs lessons 04-08 run (gostack.program.Program values)."""
    from .program import Function, Program

    worker = Function("worker")
    rec = Function("recA", words=16, pointers=1)
    big = Function("recBig", words=1280)
    progs = [
        Program("lesson_running", worker, cycle=(rec,), depth=400,
                summary="the running example: recA holds p = &x of the worker"),
        Program("lesson_big_frame", worker, cycle=(big,), depth=30,
                summary="a 10 KiB array in every frame: the fit loop"),
        Program("lesson_small_limit", worker, cycle=(rec,), depth=400, max_stack=32768,
                summary="debug.SetMaxStack(32768): the overflow"),
        Program("lesson_default_limit", worker, cycle=(big,), depth=100000, heavy=True,
                summary="the default 1,000,000,000-byte limit (needs about 1.1 GB of RAM)"),
        Program("lesson_shrink", worker, cycle=(rec,), depth=400, gc_after=8,
                summary="400 calls deep, back to the worker, then eight runtime.GC()"),
    ]
    return {p.name: p for p in progs}


GO_ESCAPES = """\
package main

var global *int

//go:noinline
func stays() int {
	x := 1
	p := &x // p never leaves the call: x stays on the stack
	return *p
}

//go:noinline
func returned() *int {
	y := 2
	return &y // &y outlives the call: y must move to the heap
}

//go:noinline
func stored() {
	z := 3
	global = &z // the heap (a global) would point at z: z must move to the heap
}

func main() {
	println(stays(), *returned())
	stored()
}
"""

GO_POINTER = """\
// A pointer and a uintptr to the same local, before and after the stack moves.
package main

import (
	"fmt"
	"unsafe"
)

func curg() uintptr // curg_amd64.s: the running goroutine's g

// stack is the head of the runtime's g: stack.lo, stack.hi.
type stack struct{ lo, hi uintptr }

//go:noinline
func deep(n int) uint64 {
	var buf [32]uint64
	buf[n%32] = uint64(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[(n*7)%32]
}

var (
	sink uint64
	done = make(chan struct{})
)

func worker() {
	g := (*stack)(unsafe.Pointer(curg()))
	x := 42
	p := &x                          // a pointer: in the stack map, adjusted by copystack
	u := uintptr(unsafe.Pointer(&x)) // the same address as an integer: never adjusted
	size0, offP0, offU0 := g.hi-g.lo, g.hi-uintptr(unsafe.Pointer(p)), g.hi-u

	sink += deep(100) // 101 frames of about 280 bytes: the stack moves several times

	size1, offP1 := g.hi-g.lo, g.hi-uintptr(unsafe.Pointer(p))
	moved := int64(uintptr(unsafe.Pointer(p)) - u)
	inside := g.lo <= u && u < g.hi
	fmt.Printf("before: stack %d bytes, hi-p = %d, hi-u = %d, *p = %d\\n", size0, offP0, offU0, *p)
	fmt.Printf("after:  stack %d bytes, hi-p = %d, *p = %d\\n", size1, offP1, *p)
	fmt.Printf("after:  u == uintptr(p): %t, u inside the stack: %t\\n",
		uintptr(unsafe.Pointer(p)) == u, inside)
	fmt.Printf("p - u = %d (the sum of the moves' deltas; it varies from run to run)\\n", moved)
	done <- struct{}{}
}

func main() {
	go worker()
	<-done
}
"""

GO_ADAPTIVE = """\
// Go 1.19's adaptive starting stack size: park 100 goroutines deep in a recursion,
// run a GC (it averages the stack bytes in use), let them exit, then start one more.
// Usage: adaptive DEPTH exit|keep
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

func curg() uintptr // curg_amd64.s: the running goroutine's g

type stack struct{ lo, hi uintptr }

//go:noinline
func park(d, depth int, started *sync.WaitGroup, release chan struct{}) uint64 {
	var buf [16]uint64
	buf[d&15] = uint64(d)
	if d < depth {
		return park(d+1, depth, started, release) + buf[(d*7)&15]
	}
	started.Done()
	<-release
	return buf[3]
}

func main() {
	depth, _ := strconv.Atoi(os.Args[1])
	var started, exited sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < 100; i++ {
		started.Add(1)
		exited.Add(1)
		go func() {
			park(1, depth, &started, release)
			exited.Done()
		}()
	}
	started.Wait()
	runtime.Gosched()
	runtime.GC() // scans the parked stacks: startingStackSize = average in use + 928, rounded up
	if os.Args[2] == "exit" {
		close(release)
		exited.Wait() // their Gs are now free for reuse
	}
	size := make(chan uintptr)
	go func() {
		g := (*stack)(unsafe.Pointer(curg()))
		size <- g.hi - g.lo
	}()
	fmt.Println(<-size)
}
"""

ADAPTIVE_DEPTHS = (5, 20, 50, 100)


def load_recorded(path: Path | str | None = None) -> dict:
    """gostack/data/lessons_recorded.json (written by scripts/record_lessons.py)."""
    with open(path or RECORDED_PATH, encoding="utf-8") as f:
        return json.load(f)


def recorded_label(rec: dict | None = None) -> str:
    rec = rec or load_recorded()
    return f"recorded with {rec['go_version']} on {rec['recorded']}"


def comparison(name: str, *, live: bool = False, recorded: dict | None = None):
    """realgo's side-by-side of the simulator and real Go for one of lesson_programs():
    a live run (``live=True``, needs Go) or the recorded one."""
    from . import realgo

    prog = lesson_programs()[name]
    if live:
        return realgo.compare(prog)
    return realgo.compare_recorded(prog, recorded if recorded is not None else load_recorded())


@dataclass(frozen=True)
class LiveGo:
    """Whether a lesson's live Go cells run now, and why not if they don't."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def live_go(force: bool = False) -> LiveGo:
    """Go is here and realgo's build cache is warm (or ``force``): live cells may run.

    The first build on a machine compiles Go's standard library (5-30 s), too long to risk
    in a lesson that must run in under 30 s; a lesson then shows its recorded results and
    says so.
    """
    from . import realgo

    a = realgo.available()
    if not a:
        return LiveGo(False, f"No Go here, so the recorded results stand ({a.reason}).")
    if not force and not realgo.cache_warm():
        return LiveGo(False, "Go is here, but nothing was built with it yet: the first build "
                      "compiles Go's standard library (5-30 s, once), so the recorded results "
                      "stand. To run it anyway: live = ex.live_go(force=True)")
    return LiveGo(True, a.reason)


def _go_files(src: str) -> dict[str, str]:
    from . import program as P

    return {"go.mod": "module lesson\n\ngo 1.27\n", "main.go": src, "curg_amd64.s": P.CURG_ASM}


def build_lesson_program(src: str):
    """Build one of the lessons' Go programs with realgo's cache (a realgo.Build)."""
    from . import realgo

    return realgo.build_files(_go_files(src), label="lesson")


def run_lesson_program(src: str, args: Sequence[str] = (), godebug: str | None = None,
                       timeout: float = 60) -> subprocess.CompletedProcess:
    """Build (cached) and run a lesson program in realgo's probe environment
    (GOMAXPROCS=1, GOGC=off; GODEBUG as given, else adaptivestackstart=0)."""
    from . import realgo

    b = build_lesson_program(src)
    env = realgo.run_env()
    if godebug is not None:
        env["GODEBUG"] = godebug
    return subprocess.run([str(b.binary), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def escape_decisions() -> list[str]:
    """`go build -gcflags=-m` on GO_ESCAPES: the lines about that file."""
    from . import realgo

    return [str(d) for d in realgo.escapes(GO_ESCAPES)]


_VARIES = re.compile(r"^p - u = ")


def pointer_demo() -> dict:
    """Run GO_POINTER: its deterministic lines, the varying one, and the compiler's frames."""
    b = build_lesson_program(GO_POINTER)
    r = run_lesson_program(GO_POINTER)
    if r.returncode != 0:
        raise RuntimeError(f"the pointer demo failed:\n{r.stderr[-2000:]}")
    lines = r.stdout.splitlines()
    return {
        "stable": [x for x in lines if not _VARIES.match(x)],
        "varies": [x for x in lines if _VARIES.match(x)],
        "frames": {k: v.frame for k, v in b.frames.items() if k in ("main.worker", "main.deep")},
        "moved_to_heap": [str(d) for d in b.decisions if d.moved_to_heap],
    }


def adaptive_sizes() -> dict[str, dict[str, int]]:
    """GO_ADAPTIVE's starting stack sizes, by parked depth, for the three set-ups."""
    out: dict[str, dict[str, int]] = {}
    for name, godebug, mode in (("default", "", "exit"),
                                ("adaptivestackstart=0", "adaptivestackstart=0", "exit"),
                                ("fresh G", "", "keep")):
        row = {}
        for d in ADAPTIVE_DEPTHS:
            r = run_lesson_program(GO_ADAPTIVE, (str(d), mode), godebug=godebug)
            if r.returncode != 0:
                raise RuntimeError(f"the adaptive-start demo failed:\n{r.stderr[-2000:]}")
            row[str(d)] = int(r.stdout.strip())
        out[name] = row
    return out


def pointer_sim(frames: dict[str, int]) -> tuple[int, int]:
    """The simulator on GO_POINTER's shape: (stack size after deep(100), number of moves)."""
    g = Runtime(trace=False).go(Func("main.worker", frame=frames["main.worker"]))
    deep = Func("main.deep", frame=frames["main.deep"])
    for _ in range(101):  # deep(100) .. deep(0)
        g.call(deep)
    return g.stack_size, len(g.trace.grows)


# ---------------------------------------------------------------------------------------
# Pictures and widgets. Callbacks only render what the functions above return.
# ---------------------------------------------------------------------------------------


def featured_growth(run: GrowthRun) -> Grow | Overflow | None:
    """The growth a picture should explain: the overflow, else the one with the most
    doublings (the earliest), else the last one."""
    if run.overflow is not None:
        return run.overflow
    if not run.grows:
        return None
    most = max(e.doublings for e in run.grows)
    if most > 1:
        return next(e for e in run.grows if e.doublings == most)
    return run.grows[-1]


def show_growth(run: GrowthRun) -> None:
    """The stack size staircase of a growth run, and newstack's candidates for its
    featured growth (see featured_growth)."""
    _display(growth_figure(run))


def _display(fig) -> None:
    from IPython.display import display

    display(fig)
    plt.close(fig)


def growth_figure(run: GrowthRun):
    """The figure show_growth displays."""
    with plt.rc_context(plot.STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.4), width_ratios=(3, 2))
        plot.draw_growth(Trace(list(run.grows)), a, calls=max(run.calls, 1),
                         title=f"{run.frame:,}-byte frames: {len(run.grows)} growths"
                         + (" then overflow" if run.overflow else ""))
        ev = featured_growth(run)
        if ev is None:
            b.axis("off")
            b.text(0.5, 0.5, "no growth yet", ha="center", va="center")
        else:
            siz = sizing(ev.old_size, ev.used, run.frame, run.limit)
            plot.draw_sizing(siz, b, title=f"call {ev.call_index:,}: {ev.used:,} B in use + "
                             f"frame {run.frame:,} + 928")
        fig.tight_layout()
    return fig


def show_step(step: Step, *, pointer_frames: int = 3) -> None:
    """One step: the stack, or the old and the new stack side by side during a move."""
    _display(step_figure(step, pointer_frames=pointer_frames))


def step_figure(step: Step, *, pointer_frames: int = 3):
    """The figure show_step displays."""
    with plt.rc_context(plot.STYLE):
        if step.new is None:
            fig, ax = plt.subplots(figsize=(4.2, 4.6))
            plot.draw_step_stack(step.stack, ax, pointer_frames=pointer_frames,
                                 title=f"{step.phase.value}: stack {step.stack.size:,} B")
        else:
            fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.6))
            freed = None
            if step.phase is Phase.FREE:
                words = {lc.value for f in step.stack.frames for lc in f.locals}
                freed = word_bytes(words.pop()) if len(words) == 1 else "(stale contents)"
            plot.draw_move(step.stack, step.new, axes, pointer_frames=pointer_frames,
                           titles=(f"old stack {step.stack.size:,} B",
                                   f"new stack {step.new.size:,} B"),
                           copied=step.phase in (Phase.COPY, Phase.ADJUST), freed=freed)
            fig.suptitle(step.phase.value, fontsize=10)
        fig.tight_layout()
    return fig


def _html(step: Step, position: int, total: int) -> str:
    import html

    return (f"<b>step {position + 1} of {total}</b>: {html.escape(step.title)}"
            f"<pre style='font-size: 11px; line-height: 1.25'>"
            f"{html.escape(chr(10).join(step.lines))}</pre>")


def stepper(steps: Sequence[Step], *, start: int = 0, play: bool = True,
            pointer_frames: int = 3, delay: float = 0.4, play_steps: int = 12):
    """Buttons (step, back, and with ``play`` also next growth and play) and a slider,
    at step ``start`` first.

    The buttons move a :class:`Cursor`; the slider follows it; rendering reads
    ``cursor.current`` and nothing else. A button that could not move the cursor is
    disabled (back at the start, step at the end, next growth with none ahead); play
    shows up to ``play_steps`` steps, ``delay`` seconds apart, and starts over at the end.
    """
    import time

    import ipywidgets as w

    cur = Cursor(steps, start)
    slider = w.IntSlider(value=cur.position, min=0, max=len(steps) - 1, description="step",
                         continuous_update=False, layout=w.Layout(width="420px"))
    fwd, back = w.Button(description="step ▶"), w.Button(description="◀ back")
    grow = w.Button(description="next growth »")
    run = w.Button(description="play ▶▶")
    text, out = w.HTML(), w.Output()

    def render(*_):
        cur.jump(slider.value)
        back.disabled, fwd.disabled = cur.at_start, cur.at_end
        grow.disabled = not cur.growth_ahead
        text.value = _html(cur.current, cur.position, len(steps))
        show_in(out, step_figure(cur.current, pointer_frames=pointer_frames))

    def move(fn: Callable[[], int]) -> Callable:
        return lambda _b: setattr(slider, "value", fn())

    def on_play(_b):
        for pos in cur.play(max_steps=play_steps):
            slider.value = pos
            time.sleep(delay)

    fwd.on_click(move(cur.step))
    back.on_click(move(cur.back))
    grow.on_click(move(cur.next_growth))
    run.on_click(on_play)
    slider.observe(render, "value")
    render()
    buttons = [fwd, back] + ([grow, run] if play else [])
    return w.VBox([w.HBox(buttons), slider, text, out])


def growth_explorer(frame: int = 160, calls: int = 400, *, entry: int = 40):
    """Frame size, number of calls and limit in; the growth events and the fit loop out."""
    import html

    import ipywidgets as w

    size = w.Dropdown(options=sorted({64, 160, 616, 4096, 10272, 65536, frame}), value=frame,
                      description="frame")
    depth = w.IntSlider(value=calls, min=0, max=2000, step=10, description="calls",
                        continuous_update=False)
    limit = w.Dropdown(options=[("1,000,000,000 (default)", MAX_STACK_DEFAULT),
                                ("32,768 (SetMaxStack)", 32768),
                                ("1 MiB", 1 << 20)], value=MAX_STACK_DEFAULT,
                       description="limit")
    text, out = w.HTML(), w.Output()

    def render(*_):
        run = growth_run(size.value, depth.value, entry=entry, limit=limit.value)
        text.value = "<pre style='font-size: 11px'>" + html.escape("\n".join(run.lines())) \
            + "</pre>"
        show_in(out, growth_figure(run))

    for wid in (size, depth, limit):
        wid.observe(render, "value")
    render()
    return w.VBox([w.HBox([size, depth, limit]), text, out])


__all__ = [
    "ADAPTIVE_DEPTHS", "adjust_explorer", "adjust_run", "AdjustRun", "pointer_worker",
    "COPY_PHASES", "GO_ADAPTIVE", "GO_ESCAPES", "GO_POINTER",
    "GROWTH_PHASES", "adaptive_sizes", "alloc_path", "Candidate", "check_running_example",
    "comparison", "copy_cost", "CopyCost", "Cursor", "describe", "escape_decisions",
    "featured_growth", "fmt_delta", "growth_explorer", "growth_run", "GrowthRun", "hot_split",
    "HotSplit", "last_size_under", "lesson_programs", "load_recorded", "overflow_lines",
    "Phase", "pointer_demo", "pointer_sim", "recorded_label", "Recorder", "running_example",
    "running_funcs", "show_growth", "show_shrinks", "show_step", "shrink_explorer", "shrink_figure",
    "shrink_rows", "shrink_run", "shrink_table", "ShrinkRow", "ShrinkRun",
    "sizing", "Sizing", "sizing_of", "slot_rows", "slot_table", "SlotRow", "stack_map", "Step",
    "stepper", "Tape", "word_bytes",
]
