"""Goroutines and the runtime that grows, moves and shrinks their stacks.

The stages (prologue check, newstack sizing, copystack, adjustframe, shrinkstack)
are swappable, so an exercise can plug in a learner's function and a lesson can
switch one off to show what breaks.

Positions are kept as offsets from hi (``used``), which a move preserves; absolute
addresses are computed from the current stack when they are needed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from . import adjust, copystack, newstack, parkpath, prologue, shrink, systemstack
from .arch import (
    ENTRY_USED,
    GC_ENTRY_CHECK,
    GC_FIRST_CHECK,
    GC_PARK_DEPTH,
    GC_PARK_FRAMES,
    GC_SWEEP_CHECK,
    MAX_STACK_DEFAULT,
    MIN_LEGAL_POINTER,
    NOSPLIT_LINK_LIMIT,
    NOSPLIT_LINK_LIMIT_RACE,
    PARK_CHAINS,
    PARK_CHAINS_RACE,
    PARK_DEPTH,
    PARK_DEPTH_RACE,
    POISON_NEW,
    POISON_OLD,
    RETURN_ADDRESS_SIZE,
    STACK_GUARD,
    STACK_GUARD_RACE,
    STACK_MIN,
    STACK_NOSPLIT,
    STACK_NOSPLIT_RACE,
    STACK_PREEMPT,
    UINTPTR_MASK,
)
from .errors import (
    EmptyStackError,
    EscapeError,
    GoroutineExited,
    LocalKindError,
    NosplitLinkError,
    NosplitOverflow,
    ProgramError,
    RuntimeThrow,
    StackOverflow,
)
from .i18n import _
from .stackalloc import (
    FIXED_STACK,
    HeapObject,
    Stack,
    StackAllocator,
    adaptive_start_size,
    unmodelled_scanned,
)
from .symtab import Func, Kind, Local
from .trace import GC, Call, Event, Grow, Overflow, Park, Preempt, Ret, Shrink, Trace, Unpark


@dataclass(frozen=True)
class Stages:
    """The runtime's swappable stages; the defaults are the reference (go1.27) ones."""

    prologue: Callable[[int, int, int], bool] = prologue.morestack_needed
    newsize: Callable[[int, int, int, int], int] = newstack.new_size
    copystack: Callable[[Stack, Stack, int], int] = copystack.copystack
    adjustframe: Callable[
        [dict[int, int], adjust.FrameRef, adjust.AdjustInfo], list[adjust.Adjusted]
    ] = adjust.adjustframe
    shrink: Callable[[int, int], int | None] = shrink.shrink_size

    def replace(self, **stages: Callable) -> Stages:
        return replace(self, **stages)


REFERENCE = Stages()


class Status(Enum):
    RUNNING = "running"
    WAITING = "waiting"  # parked in a blocking operation (gopark): park() .. unpark()
    RUNNABLE = "runnable"  # preempted in a prologue (gopreempt_m): spin() .. unpark()
    DEAD = "dead"  # returned from its entry function
    FATAL = "fatal"  # the runtime threw (stack overflow, bad pointer)


_RUNNING = Status.RUNNING
# runtime functions whose checks runtime.GC and the blocking calls reach, by (name, frame)
_RUNTIME_FUNCS: dict[tuple[str, int], Func] = {}


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame on a goroutine's stack. ``used`` is hi - E, unchanged by moves."""

    func: Func
    used: int
    call_index: int

    @property
    def sp_used(self) -> int:
        """hi - SP once the prologue has allocated the frame."""
        return self.used + self.func.frame


@dataclass(frozen=True, slots=True)
class LocalState:
    name: str
    kind: Kind
    addr: int
    value: int


@dataclass(frozen=True, slots=True)
class FrameState:
    """A frame in a snapshot: it spans [sp, e) plus the return address at e."""

    func: str
    call_index: int
    frame: int
    e: int  # SP at the function's first instruction (the return address)
    sp: int  # SP after the prologue
    locals: tuple[LocalState, ...]
    # Frame pointers (always on for amd64, runtime2.go framepointer_enabled): a frame of
    # $N > 0 bytes saves its caller's BP in its top word, E - 8, and points BP there
    # (cmd/internal/obj/x86/obj6.go preprocess: PUSHQ BP; MOVQ SP, BP; the $N of the
    # TEXT line counts that word). ``bp``: that slot's address, 0 for a frameless leaf
    # ($0: no slot); ``saved_bp``: the word in it, the caller's own slot (0 for the
    # entry function: newproc1 clears g.sched, so its caller's BP is 0).
    bp: int = 0
    saved_bp: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable picture of one goroutine's stack, for plots and widgets."""

    goid: int
    lo: int
    hi: int
    sp: int
    stackguard0: int
    frames: tuple[FrameState, ...]  # entry first
    guard_offset: int = STACK_GUARD  # stackGuard: 928, 1728 in a -race build
    bp: int = 0  # the BP register in the innermost frame (its saved-BP slot), 0 if none

    def bp_chain(self) -> tuple[tuple[int, int], ...]:
        """The frame-pointer chain a profiler or debugger walks, innermost first:
        (slot address, saved BP in it), each saved BP the next slot, ending at 0."""
        saved = {fr.bp: fr.saved_bp for fr in self.frames if fr.bp}
        out, bp = [], self.bp
        while bp in saved:
            out.append((bp, saved[bp]))
            bp = saved[bp]
        return tuple(out)

    @property
    def size(self) -> int:
        return self.hi - self.lo

    @property
    def used(self) -> int:
        return self.hi - self.sp

    @property
    def guard(self) -> int:
        """The guard line, lo + 928 (stackguard0 unless a preemption is pending)."""
        return self.lo + self.guard_offset

    def pointers(self) -> tuple[tuple[LocalState, int], ...]:
        """(pointer local, target) for every pointer local that points into this stack."""
        return tuple(
            (lc, lc.value)
            for fr in self.frames
            for lc in fr.locals
            if lc.kind is Kind.POINTER and self.lo <= lc.value < self.hi
        )


def _check_word(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProgramError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    if not 0 <= value <= UINTPTR_MASK:
        raise ProgramError(f"{what} must fit in 64 unsigned bits, got {value}")
    return value


def _as_index(value: object) -> object:
    """A stage's integer result read as Python reads an integer argument: anything with
    ``__index__`` (numpy's ``np.int64``, an int subclass) becomes a plain int, as it works in
    a learner's notebook. A bool, or anything else, is returned as it is, for the caller's
    checks to refuse."""
    if type(value) is int or isinstance(value, bool):
        return value
    try:
        return operator.index(value)
    except TypeError:
        return value


class Runtime:
    """A Go runtime on linux/amd64: goroutines, their stacks, the heap and GC."""

    def __init__(
        self,
        max_stack: int = MAX_STACK_DEFAULT,
        *,
        trace: bool = True,
        stages: Stages = REFERENCE,
        poison: bool = False,
        race: bool = False,
        gcshrinkstackoff: bool = False,
        link_check: bool = True,
        adaptive_start: bool = False,
        unmodelled: Sequence[int] | None = None,
    ) -> None:
        """``race``: a ``go build -race`` binary, whose stack guard multiplier is 2
        (internal/runtime/sys consts.go): stackNosplit 1600, stackGuard 1728, so every
        guard line, newstack's fit and shrinkstack's budget move; its park chains differ
        (arch.PARK_CHAINS_RACE). ``gcshrinkstackoff``: GODEBUG=gcshrinkstackoff=1, under
        which shrinkstack returns at once (runtime/stack.go). ``link_check``: a call of
        a NOSPLIT function whose chain of NOSPLIT frames (from the last checked one)
        needs more than the linker allows raises NosplitLinkError, for Go would never
        have linked the program (cmd/link/internal/ld/stackcheck.go); False lets it run,
        to show what the check prevents (NosplitOverflow once SP passes lo).

        ``adaptive_start``: Go's default GODEBUG=adaptivestackstart=1 (the corpus runs
        with 0). Each GC sets ``starting_stack_size`` from the average hi - sched.sp it
        scanned (stack.go gcComputeStartingStackSize, called by mgc.go gcMarkDone), over
        this runtime's live goroutines and ``unmodelled``: the scanned sizes of the
        goroutines a real program has that the model does not run (default
        stackalloc.unmodelled_scanned(): main parked in runtime.GC and the runtime's own,
        measured). A goroutine that returns from its entry leaves its G on the free list
        (proc.go gfput: its stack is freed unless it is the start size); go() takes the
        last G freed (gfget: a stack of another size is freed, a G without one gets
        starting_stack_size), or a fresh G of stackMin (newproc1: malg(stackMin))."""
        self.max_stack = self._check_limit(max_stack)
        self.tracing = trace
        self.stages = stages
        self.race = bool(race)
        self.gcshrinkstackoff = bool(gcshrinkstackoff)
        self.guard = STACK_GUARD_RACE if race else STACK_GUARD
        self.nosplit_budget = STACK_NOSPLIT_RACE if race else STACK_NOSPLIT
        self.park_chains = PARK_CHAINS_RACE if race else PARK_CHAINS
        self.park_depth = PARK_DEPTH_RACE if race else PARK_DEPTH
        self.link_check = bool(link_check)
        self.nosplit_link_limit = NOSPLIT_LINK_LIMIT_RACE if race else NOSPLIT_LINK_LIMIT
        self.poison = poison  # stackPoisonCopy: fill new stacks 0xfd, freed ones 0xfc
        self.alloc = StackAllocator()
        self.goroutines: list[Goroutine] = []
        self.gcs = 0
        self.adaptive_start = bool(adaptive_start)
        self.starting_stack_size = FIXED_STACK  # startingStackSize until a GC sets it
        self.unmodelled = tuple(unmodelled_scanned() if unmodelled is None else unmodelled)
        # The P's free Gs (pp.gFree, last freed at the end), each its kept stack or None,
        # and the scheduler's (sched.gFree.stack / .noStack, head first).
        self._gfree: list[Stack | None] = []
        self._gfree_stack: list[Stack] = []
        self._gfree_nostack: list[None] = []
        # The P's free sudogs (pp.sudogcache): a blocking operation that finds too few
        # allocates more, deeper on its stack (parkpath).
        self.sudogs = parkpath.SUDOGS_AT_MAIN

    @staticmethod
    def _check_limit(n: object) -> int:
        """setMaxStack (runtime/rdebug.go) stores ``uintptr(in)``: any Go int is taken, a
        negative one becoming huge (then maxstackceiling is the limit), 0 making the first
        growth fatal. Only what is not a Go int is refused."""
        if isinstance(n, bool) or not isinstance(n, int) or not -(1 << 63) <= n < (1 << 63):
            raise ProgramError(f"max_stack must be an int of bytes (a Go int), got {n!r}")
        return n & ((1 << 64) - 1)

    def set_max_stack(self, n: int) -> int:
        """debug.SetMaxStack: set the limit, return the previous one as Go does,
        ``int(maxstacksize)`` (a negative limit comes back negative)."""
        old, self.max_stack = self.max_stack, self._check_limit(n)
        return old - (1 << 64) if old >= 1 << 63 else old

    def go(self, entry: Func, *, stack_size: int | None = None) -> Goroutine:
        """Start a goroutine; its entry function is call index 0 and is checked like any call.

        A fresh G gets stackMin (newproc1); under ``adaptive_start`` a dead goroutine's G
        is reused first (gfget), with a stack of ``starting_stack_size``. An explicit
        ``stack_size`` starts it on a new stack of that size instead.
        """
        stack = self._gfget() if stack_size is None and self.adaptive_start else None
        size = stack.size if stack is not None else STACK_MIN if stack_size is None \
            else stack_size
        g = Goroutine(self, len(self.goroutines) + 1, size, stack)
        self.goroutines.append(g)
        g.call(entry)
        return g

    def _gfput(self, stack: Stack) -> None:
        """proc.go gfput: a dead G keeps its stack only if it is startingStackSize; 64
        free Gs on the P move all but 31 to the scheduler's lists."""
        kept: Stack | None = stack
        if stack.size != self.starting_stack_size:
            self.alloc.stackfree(stack)
            kept = None
        self._gfree.append(kept)
        if len(self._gfree) >= 64:
            with_stack: list[Stack] = []
            without: list[None] = []
            while len(self._gfree) >= 32:
                gp = self._gfree.pop()
                if gp is None:
                    without.append(gp)
                else:
                    with_stack.append(gp)
            # gQueue.push adds at the head, so each queue is in reverse pop order;
            # gList.pushAll puts the queue in front of the list.
            self._gfree_stack[:0] = with_stack[::-1]
            self._gfree_nostack[:0] = without

    def _gfget(self) -> Stack | None:
        """proc.go gfget: the stack a reused G starts with, or None if no G is free."""
        if not self._gfree and (self._gfree_stack or self._gfree_nostack):
            while len(self._gfree) < 32 and (self._gfree_stack or self._gfree_nostack):
                # Prefer Gs with stacks.
                self._gfree.append(self._gfree_stack.pop(0) if self._gfree_stack
                                   else self._gfree_nostack.pop(0))
        if not self._gfree:
            return None
        stack = self._gfree.pop()
        if stack is not None and stack.size != self.starting_stack_size:
            self.alloc.stackfree(stack)  # the right size has changed since gfput
            stack = None
        if stack is None:
            stack = self.alloc.stackalloc(self.starting_stack_size)
        return stack

    def _newsize(self, old_size: int, used: int, frame: int, max_stack: int) -> int:
        """The newsize stage with this build's stackGuard: the fit loop's test
        newsize - used < max + stackGuard is the stage's with the frame raised by
        the extra guard (1728 - 928 under -race)."""
        return self.stages.newsize(old_size, used, frame + self.guard - STACK_GUARD, max_stack)

    def _shrink(self, size: int, used: int) -> int | None:
        """The shrink stage with this build's stackNosplit (used + stackNosplit < S/4),
        or none at all under gcshrinkstackoff."""
        if self.gcshrinkstackoff:
            return None
        return self.stages.shrink(size, used + self.nosplit_budget - STACK_NOSPLIT)

    def gc(self, caller: Goroutine | None = None) -> int:
        """One GC cycle: scan every live goroutine and shrink its stack at most once.

        Each goroutine is scanned from its gp.sched.sp (mgcmark.go scanstack): the
        caller is parked inside runtime.GC (GC_PARK_DEPTH below its frame), a parked
        goroutine (park()) by its blocking call's frames below its own (PARK_DEPTH);
        a goroutine that is neither (the program did not say where it waits) is
        scanned at its innermost frame's SP. ``caller=None``: a goroutine the
        simulator does not model (Go's main) called runtime.GC().
        """
        if self.gcs == 0 and self.sudogs == 0:
            self.sudogs = 1  # gcBgMarkStartWorkers: main's <-ready allocated one
        self.gcs += 1
        self.alloc.gc_running = True  # stacks freed by shrinks go on stackLarge
        scanned = list(self.unmodelled)
        try:
            for g in self.goroutines:
                if g.status is not Status.DEAD and g.status is not Status.FATAL:
                    # isShrinkStackSafe (stack.go) refuses a goroutine in a syscall
                    scanned.append(g._scan(self.gcs, GC_PARK_DEPTH if g is caller else g._park,
                                           g._parked != "syscall"))
            if self.adaptive_start:  # gcMarkDone: gcComputeStartingStackSize
                self.starting_stack_size = adaptive_start_size(scanned, self.max_stack,
                                                               self.guard)
        finally:
            self.alloc.gc_running = False
            self.alloc.free_stack_spans()  # gcMarkTermination
        return self.gcs

    def new_object(self, nwords: int = 1) -> int:
        """Allocate a heap object of nwords words; returns its address."""
        return self.alloc.new_object(_check_word(nwords, "nwords")).addr

    def _heap(self, addr: int) -> HeapObject:
        obj = self.alloc.find(addr)
        if not isinstance(obj, HeapObject):
            raise ProgramError(f"{addr:#x} is not inside a heap object")
        return obj

    def heap_store(self, addr: int, value: int) -> None:
        """Store a word into a heap object. A stack address here is what escape analysis forbids."""
        obj = self._heap(_check_word(addr, "addr"))
        if isinstance(self.alloc.find(_check_word(value, "value")), Stack):
            raise EscapeError(_(
                "heap object at {obj:#x} may not hold {value:#x}, an address in a "
                "goroutine stack: the compiler would have moved that variable to the heap"
            ).format(obj=obj.addr, value=value))
        obj.words[addr] = value

    def heap_load(self, addr: int) -> int:
        return self._heap(addr).words.get(addr, 0)

    def read(self, addr: int) -> int:
        """What a load from addr returns: live or freed stack (poisoned or stale), or heap."""
        obj = self.alloc.find(addr)
        if obj is None:
            raise RuntimeThrow(
                "unexpected signal during runtime execution",
                (f"unexpected fault address {addr:#x}",),
            )
        if isinstance(obj, HeapObject):
            return obj.words.get(addr, 0)
        return obj.read(addr)


def _bp_pair(old_hi: int, new_hi: int, bp_used: int) -> tuple[int, int]:
    """gp.sched.bp before and after a move (adjustctxt -> adjustpointer): 0 stays 0."""
    return (old_hi - bp_used, new_hi - bp_used) if bp_used else (0, 0)


# The reference prologue runs inline, in offset space, for speed. The grader's worker turns
# this off, so that code driving the simulator there calls prologue.morestack_needed, where
# the grader sees a use of the reference (and changing it back counts as monkeypatching).
INLINE_REFERENCE_PROLOGUE = True


class Goroutine:
    """One goroutine: a stack and the frames on it. Drive it with call() and ret()."""

    __slots__ = (
        "rt", "goid", "stack", "status", "_reference_prologue", "_tracing", "_stackguard0",
        "_fire_at", "_funcs", "_indexes", "_used", "_ncalls", "_events", "_frozen",
        "_park", "_parked", "_elem", "_preempt_shrink", "_ctxt", "_spin", "_sudogs",
        "_timer",
    )

    def __init__(self, rt: Runtime, goid: int, stack_size: int = STACK_MIN,
                 stack: Stack | None = None) -> None:
        if isinstance(stack_size, bool) or not isinstance(stack_size, int) or (
            stack_size < STACK_MIN or stack_size & (stack_size - 1)
        ):
            raise ProgramError(
                f"stack_size must be a power of two >= {STACK_MIN}, got {stack_size!r}"
            )
        self.rt = rt
        self.goid = goid
        self.stack: Stack = rt.alloc.stackalloc(stack_size) if stack is None else stack
        self._reference_prologue = (INLINE_REFERENCE_PROLOGUE
                                    and rt.stages.prologue is prologue.morestack_needed)
        self._tracing = rt.tracing
        self.stackguard0 = self.stack.lo + rt.guard
        # One entry per frame, entry first. A frame's E follows from the frames above it
        # (E_used[k] = E_used[k-1] + frame[k-1] + 8), so positions are not stored: no
        # per-call allocation, nothing for the cyclic GC to traverse.
        self._funcs: list[Func] = []
        self._indexes: list[int] = []  # the call index of each frame
        self.status = Status.RUNNING
        self._used = ENTRY_USED - RETURN_ADDRESS_SIZE  # newproc's reserve; call pushes the rest
        self._ncalls = 0
        self._park = 0  # hi - sched.sp minus hi - SP while parked (PARK_DEPTH), else 0
        self._parked: str | None = None  # the blocking operation while WAITING
        self._elem: int | None = None  # sudog.elem of a channel operation while parked
        self._preempt_shrink = False  # gp.preemptShrink: a shrink the GC had to defer
        self._ctxt = 0  # DX, the closure context, during a call_closure's prologue
        self._spin: Func | None = None  # the function preempted in its prologue (spin())
        self._sudogs = 0  # sudogs held while parked, back in the P's cache on unpark
        self._timer = False  # gp.timer: allocated by its first time.Sleep
        self._events: list[Event] = []
        self._frozen = Trace(())  # the last trace handed out; events are only appended

    # ---- state -------------------------------------------------------------
    @property
    def lo(self) -> int:
        return self.stack.lo

    @property
    def hi(self) -> int:
        return self.stack.hi

    @property
    def stack_size(self) -> int:
        return self.stack.hi - self.stack.lo

    @property
    def used(self) -> int:
        """hi - sp."""
        return self._used

    @property
    def sp(self) -> int:
        return self.stack.hi - self._used

    @property
    def stackguard0(self) -> int:
        return self._stackguard0

    @stackguard0.setter
    def stackguard0(self, value: int) -> None:
        self._stackguard0 = value
        # The check fires once hi - E - max(0, F-128) <= stackguard0, i.e. once
        # E's offset from hi plus max(0, F-128) reaches hi - stackguard0.
        self._fire_at = self.stack.hi - value

    @property
    def frames(self) -> tuple[Frame, ...]:
        """The frames on the stack, entry first."""
        return tuple(Frame(*f) for f in self._layout())

    @property
    def depth(self) -> int:
        return len(self._funcs)

    @property
    def calls(self) -> int:
        """Calls made so far; the next call gets this index."""
        return self._ncalls

    @property
    def trace(self) -> Trace:
        """The events so far, frozen: later events do not appear in a trace already taken."""
        if len(self._frozen) != len(self._events):
            self._frozen = Trace(tuple(self._events))
        return self._frozen

    def __repr__(self) -> str:
        top = self._funcs[-1].name if self._funcs else "-"
        return (
            f"<goroutine {self.goid} {self.status.value} depth={self.depth} top={top} "
            f"stack={self.stack_size} used={self._used}>"
        )

    # ---- calls -------------------------------------------------------------
    def call(self, func: Func) -> None:
        """CALL func: push the return address, run its prologue, allocate its frame."""
        if self.status is not _RUNNING or type(func) is not Func:
            self._check_call(func)
        index = self._ncalls
        self._ncalls = index + 1
        e_used = self._used + RETURN_ADDRESS_SIZE
        if func.nosplit:
            if self.rt.link_check:
                self._link_check(func)
            if e_used + func.frame > self.stack.hi - self.stack.lo:
                self.status = Status.FATAL
                raise NosplitOverflow(func.name, e_used + func.frame - self.stack_size)
        elif self._reference_prologue:
            # The reference check in offset space: hi - E - max(0, F-128) <= stackguard0.
            # (The huge form's borrow needs E < F - 128; real stack addresses rule it out.)
            while e_used + func.check_extra >= self._fire_at:
                self._morestack(func, e_used, index)
        else:
            check = self.rt.stages.prologue
            while check(self.stack.hi - e_used, func.frame, self.stackguard0):
                self._morestack(func, e_used, index)
        self._funcs.append(func)
        self._indexes.append(index)
        self._used = e_used + func.frame
        if func.locals:
            # Go variables start at their zero value, so no dead frame's word survives.
            sp = self.stack.hi - self._used
            words = self.stack.words
            for local in func.locals:
                words[sp + local.offset] = 0
        if self._tracing:
            self._events.append(Call(index, func.name, func.frame, e_used, not func.nosplit))

    def call_closure(self, func: Func, ctxt: int) -> int:
        """Call a closure: CALL through its funcval with DX = ``ctxt``, the funcval's
        address (the closure's context: its captured variables sit after the code
        pointer). A closure that does not escape has its funcval in the caller's frame,
        so ``ctxt`` may be an address in this stack, at or above SP.

        If the closure's prologue grows the stack, morestack saves DX in gp.sched.ctxt
        (asm_amd64.s morestack), copystack moves it like any pointer into the old stack
        (stack.go adjustctxt) and gogo hands it back in DX: returns the context the
        closure body runs with, ``ctxt`` moved by the growth's delta if it pointed into
        the old stack. The Grow event records it (Grow.ctxt)."""
        ctxt = _check_word(ctxt, "ctxt")
        if self.status is not _RUNNING or type(func) is not Func:
            self._check_call(func)
        if 0 < ctxt < MIN_LEGAL_POINTER:
            raise ProgramError(f"ctxt {ctxt:#x} is not a funcval's address (below "
                               f"{MIN_LEGAL_POINTER:#x}: adjustpointer would throw)")
        owner = self.rt.alloc.find(ctxt)
        if isinstance(owner, Stack):
            if owner is not self.stack:
                raise EscapeError(f"a closure context in another goroutine's stack ({ctxt:#x})")
            if ctxt < self.sp:
                raise EscapeError(f"closure context {ctxt:#x} lies below SP ({self.sp:#x}): "
                                  "no live frame holds it")
        self._ctxt = ctxt
        try:
            self.call(func)
            return self._ctxt
        finally:
            self._ctxt = 0  # gogo clears sched.ctxt once DX is restored

    def _bp_used(self) -> int:
        """hi - BP in the innermost frame: its saved-BP slot, E + 8 in offset space (a
        frameless $0 frame keeps its caller's BP); 0 when no frame has one (BP = 0)."""
        used = self._used
        for func in reversed(self._funcs):
            if func.frame:
                return used - func.frame + RETURN_ADDRESS_SIZE
            used -= RETURN_ADDRESS_SIZE
        return 0

    def _link_check(self, func: Func) -> None:
        """stackcheck.go's height of the NOSPLIT chain this call extends: each NOSPLIT
        caller's frame plus the return address, plus the callee's frame."""
        run = [func]
        for f in reversed(self._funcs):
            if not f.nosplit:
                break
            run.append(f)
        run.reverse()
        names = [f.name for f in run]
        if len(set(names)) < len(names):  # NOSPLIT recursion: the linker finds the cycle
            first = names.index(names[-1])
            cyc = run[first:-1]
            raise NosplitLinkError(tuple((f.name, f.frame + RETURN_ADDRESS_SIZE) for f in cyc),
                                   self.rt.nosplit_link_limit, cycle=True)
        chain = tuple((f.name, f.frame + RETURN_ADDRESS_SIZE) for f in run[:-1]) \
            + ((func.name, func.frame),)
        if sum(g for _, g in chain) > self.rt.nosplit_link_limit:
            # the root is the outermost one: no other failing function reaches it
            raise NosplitLinkError(chain, self.rt.nosplit_link_limit)

    def _layout(self) -> list[tuple[Func, int, int]]:
        """(func, hi - E, call index) for every frame, entry first."""
        out, e_used = [], ENTRY_USED
        for func, index in zip(self._funcs, self._indexes, strict=True):
            out.append((func, e_used, index))
            e_used += func.frame + RETURN_ADDRESS_SIZE
        return out

    def _mapped_frames(self) -> list[tuple[Func, int]]:
        """(func, hi - E) of the frames whose stack map is not empty; the others hold
        nothing that could move, so the unwinder's visit to them is skipped."""
        out, e_used = [], ENTRY_USED
        for func in self._funcs:
            if func.locals:
                out.append((func, e_used))
            e_used += func.frame + RETURN_ADDRESS_SIZE
        return out

    def _check_call(self, func: object) -> None:
        if self.status is Status.WAITING or self.status is Status.RUNNABLE:
            raise GoroutineExited(f"goroutine {self.goid} is parked in {self._parked}; "
                                  "unpark() it first")
        if self.status is not Status.RUNNING:
            raise GoroutineExited(f"goroutine {self.goid} is {self.status.value}; it cannot call")
        if not isinstance(func, Func):
            raise ProgramError(f"call needs a gostack.Func, got {type(func).__name__} {func!r}")
        # a //go:systemstack function on a goroutine: stackguard1 is ~0, morestackc throws
        systemstack.check_on_goroutine(self, func)

    def ret(self) -> None:
        """RET from the innermost frame; returning from the entry ends the goroutine."""
        if not self._funcs:
            raise EmptyStackError(f"goroutine {self.goid} has no frame to return from")
        func = self._funcs.pop()
        self._indexes.pop()
        self._used -= func.frame + RETURN_ADDRESS_SIZE
        if self._tracing:
            self._events.append(Ret(func.name, self._used))
        if not self._funcs:
            self.status = Status.DEAD
            if self.rt.adaptive_start:
                self.rt._gfput(self.stack)  # goexit0 -> gdestroy -> gfput
            else:
                self.rt.alloc.stackfree(self.stack)

    @property
    def parked(self) -> str | None:
        """The blocking operation this goroutine is parked in (see park()), or None."""
        return self._parked

    def park(self, op: str, elem: str | None = None) -> None:
        """Block in ``op`` from the innermost frame: "recv" (v := <-c), "send" (c <- v),
        "select" (two or more cases, no default), "sleep" (time.Sleep), "gosched",
        "mutex" (sync.Mutex.Lock), "wg" (sync.WaitGroup.Wait).

        The runtime's frames of the blocking call run on this stack (arch.PARK_CHAINS);
        the prologues of the checked ones may grow it, as any call's may. gopark then
        saves sched.sp PARK_DEPTH[op] bytes below this goroutine's SP, and a GC scans
        and shrinks the stack from there (mgcmark.go scanstack, stack.go shrinkstack).

        ``elem`` (recv, send, select): the local of the innermost frame that receives the
        value, or holds the value to send. Its address is the sudog's elem (chan.go),
        which copystack adjusts when the stack moves (stack.go adjustsudogs), so
        unpark(value) still lands in the moved slot.
        """
        if self.status is not Status.RUNNING:
            self._check_call(None)
        if op not in PARK_CHAINS:
            raise ProgramError(f"park: unknown blocking operation {op!r}; one of "
                               + ", ".join(PARK_CHAINS))
        if op not in self.rt.park_chains:
            raise ProgramError(f"park: {op} is not measured for this build mode")
        addr = None
        if elem is not None:
            if op not in ("recv", "send", "select"):
                raise ProgramError(f"park: {op} has no channel element (elem= is for recv, "
                                   "send and select)")
            addr = self.addr(elem)
        e_used = self._used
        index = self._indexes[-1] if self._indexes else 0
        chain = self.rt.park_chains[op]
        extra = self._park_path(op) if chain and chain[-1][0] == "runtime.gopark" else ()
        for name, frame, nosplit in chain:
            e_used += RETURN_ADDRESS_SIZE
            if name == "runtime.gopark":  # gopark's caller ran these first (parkpath)
                for xname, xframe, offset in extra:
                    self._gc_check(xname, xframe, e_used + offset - self._used)
            if not nosplit:
                func = _RUNTIME_FUNCS.setdefault((name, frame), Func(name, frame=frame))
                while self.rt.stages.prologue(self.stack.hi - e_used, frame, self.stackguard0):
                    self._morestack(func, e_used, index)
            e_used += frame
        self._park = self.rt.park_depth[op]
        self._parked = op
        if addr is not None:  # taken after the chain's prologues: they may move the stack
            addr = self.addr(elem)
        self._elem = addr
        self.status = Status.WAITING
        if self._tracing:
            self._events.append(Park(index, op, self._used + self._park))

    def _park_path(self, op: str) -> tuple[parkpath.Check, ...]:
        """The checks ``op`` makes below gopark's E before it parks (parkpath): takes
        its sudogs from the P's cache, allocating those missing, and the timer of a
        first sleep. Not modelled under -race (its runtime frames differ)."""
        if self.rt.race:
            return ()
        need = parkpath.SUDOGS.get(op, 0)
        cached = min(need, self.rt.sudogs)
        self.rt.sudogs -= cached
        self._sudogs = need
        first_sleep = op == "sleep" and not self._timer
        if op == "sleep":
            self._timer = True
        return parkpath.before_gopark(op, need - cached, first_sleep)

    def unpark(self, value: int | None = None) -> int | None:
        """The blocking operation completed (goready): the goroutine runs again, back in
        its innermost frame.

        Parked in recv/select with an elem: ``value`` is what a sender handed over, stored
        through the sudog's elem (chan.go send -> sendDirect). Parked in send with an
        elem: returns the word a receiver took through it (recv -> recvDirect). Through a
        stale elem these would hit the old, freed stack."""
        if self.status is Status.RUNNABLE:
            self._resume()
            return None
        if self.status is not Status.WAITING:
            raise ProgramError(f"goroutine {self.goid} is {self.status.value}, not parked")
        op, self._parked, self._park = self._parked, None, 0
        elem, self._elem = self._elem, None
        self.rt.sudogs += self._sudogs  # releaseSudog
        self._sudogs = 0
        got = None
        if elem is not None:
            if op == "send":
                got = self.rt.read(elem)
            elif value is not None:
                target = self.rt.alloc.find(elem)
                if target is None:
                    raise RuntimeThrow("unexpected signal during runtime execution",
                                       (f"unexpected fault address {elem:#x}",))
                target.words[elem] = _check_word(value, "value")
        self.status = Status.RUNNING
        if self._tracing:
            self._events.append(Unpark(self._indexes[-1] if self._indexes else 0, op))
        return got

    def preempt(self) -> None:
        """preemptone: poison stackguard0 so the next checked prologue enters newstack."""
        self.stackguard0 = STACK_PREEMPT

    def spin(self, func: Func) -> None:
        """Loop calling ``func``, a checked function, until a synchronous preemption
        stops the goroutine in its prologue: sysmon (proc.go retake -> preemptone) sets
        gp.preempt and stackguard0 = stackPreempt once a goroutine has run for 10 ms
        (forcePreemptNS); ``func``'s prologue then enters newstack, which does a shrink
        the GC deferred (gp.preemptShrink, stack.go: "We're at a synchronous safe point
        now"), measured from sched.sp = ``func``'s E, and yields (gopreempt_m).

        The goroutine is then RUNNABLE: a GC scans it at ``func``'s E (one return
        address below its innermost frame) and may shrink it (isShrinkStackSafe holds
        at a synchronous safe point). unpark() resumes it: ``func``'s prologue runs
        again (it may grow the stack) and the loop ends. The model takes the
        preemption at the first call; Go takes it some 10 ms of calls later, which
        leaves the stack as it is (each call returns). Asynchronous preemption (a
        signal, preempt.go: asyncPreempt -> gopreempt_m, which does no shrink) is not
        modelled: the real probe of a spin runs with GODEBUG=asyncpreemptoff=1, so that
        the request is always taken in a prologue (with the signal on, go1.27.3 took
        it that way in only 2 of 20 runs of the recorded scene).
        """
        if self.status is not _RUNNING or type(func) is not Func:
            self._check_call(func)
        if func.nosplit:
            raise ProgramError(f"spin: {func.name} is NOSPLIT: no prologue of it can take "
                               "a preemption")
        self.preempt()
        e_used = self._used + RETURN_ADDRESS_SIZE
        index = self._indexes[-1] if self._indexes else 0
        if self.rt.stages.prologue(self.stack.hi - e_used, func.frame, self.stackguard0):
            self._morestack(func, e_used, index)
        self._spin, self._park, self._parked = func, RETURN_ADDRESS_SIZE, "spin"
        self.status = Status.RUNNABLE

    def _resume(self) -> None:
        """The scheduler runs a preempted goroutine again: gogo to sched.pc, the start
        of the preempted function, whose prologue checks again."""
        func, self._spin, self._park, self._parked = self._spin, None, 0, None
        self.status = Status.RUNNING
        assert func is not None
        e_used = self._used + RETURN_ADDRESS_SIZE
        index = self._indexes[-1] if self._indexes else 0
        while self.rt.stages.prologue(self.stack.hi - e_used, func.frame, self.stackguard0):
            self._morestack(func, e_used, index)

    def runtime_gc(self) -> int:
        """This goroutine calls runtime.GC(); returns the GC cycle number.

        runtime.GC runs on this stack: the process's first GC may grow it before the
        scan, and every GC may grow it in the sweep after the scan. Such a growth is
        filed under the call index of the frame that called runtime.GC.
        """
        if self.status is not Status.RUNNING:
            self._check_call(None)
        self._gc_check(*GC_ENTRY_CHECK)  # an ordinary checked call: takes a pending preempt
        if self.rt.gcs == 0:
            self._gc_check(*GC_FIRST_CHECK)
        n = self.rt.gc(caller=self)
        self._gc_check(*GC_SWEEP_CHECK)
        return n

    def _gc_check(self, name: str, frame: int, depth: int) -> None:
        """The prologue of a runtime function ``depth`` bytes below this goroutine's SP."""
        e_used = self._used + depth
        func = _RUNTIME_FUNCS.setdefault((name, frame), Func(name, frame=frame))
        index = self._indexes[-1] if self._indexes else 0
        while self.rt.stages.prologue(self.stack.hi - e_used, frame, self.stackguard0):
            self._morestack(func, e_used, index)

    # ---- newstack ------------------------------------------------------------
    def _morestack(self, func: Func, e_used: int, index: int) -> None:
        if self.stackguard0 == STACK_PREEMPT:
            if self._preempt_shrink:
                # newstack: "We're at a synchronous safe point now, so do the pending
                # stack shrink" (gp.preemptShrink), from sched.sp = this function's E.
                self._preempt_shrink = False
                self._shrink_at(self.rt.gcs, e_used)
            # gopreempt_m: yield; when rescheduled the guard is lo + stackGuard again.
            self._events.append(Preempt(index, func.name))
            self.stackguard0 = self.stack.lo + self.rt.guard
            return
        old_size = self.stack_size
        try:
            size = self.rt._newsize(old_size, e_used, func.frame, self.rt.max_stack)
        except StackOverflow as e:
            self.status = Status.FATAL
            limit, asked = _as_index(e.limit), _as_index(e.new_size)
            self._events.append(
                Overflow(index, func.name, old_size, 0 if asked is None else asked, e_used, limit)
            )
            raise StackOverflow(
                limit,
                sp=self.stack.hi - e_used - RETURN_ADDRESS_SIZE,  # newstack prints sched.sp - 8
                lo=self.stack.lo,
                hi=self.stack.hi,
                call_index=index,
                func=func.name,
                new_size=asked,
            ) from None
        size = _as_index(size)
        if type(size) is not int or size <= old_size:
            self.status = Status.FATAL
            raise RuntimeThrow(f"newstack: new size {size!r} does not grow a {old_size}-byte stack")
        old = self.stack
        # morestack: sched.bp = BP, still the caller's (the split check runs before
        # PUSHQ BP), sched.ctxt = DX (asm_amd64.s morestack)
        bp_used, ctxt = self._bp_used(), self._ctxt
        delta, adjusted = self._copystack(size, e_used)
        self._events.append(
            Grow(index, func.name, old_size, size, e_used, delta, func.frame,
                 old.lo, old.hi, self.stack.lo, self.stack.hi, adjusted,
                 _bp_pair(old.hi, self.stack.hi, bp_used), (ctxt, self._ctxt))
        )

    def _copystack(self, size: int, used: int) -> tuple[int, tuple[adjust.Adjusted, ...]]:
        """Allocate, copy the used bytes, adjust pointers frame by frame, free the old stack."""
        rt, stages, old = self.rt, self.rt.stages, self.stack
        try:
            new = rt.alloc.stackalloc(size)
        except ValueError as e:
            self.status = Status.FATAL
            raise RuntimeThrow(str(e)) from None
        if rt.poison:
            new.poison(POISON_NEW)
        delta = _as_index(stages.copystack(old, new, used))
        info = adjust.AdjustInfo(old.lo, old.hi, delta)
        adjusted: list[adjust.Adjusted] = []
        try:
            for func, e_used in reversed(self._mapped_frames()):  # innermost first
                ref = adjust.FrameRef(func, new.hi - e_used - func.frame)
                adjusted += stages.adjustframe(new.words, ref, info)
        except RuntimeThrow:
            self.status = Status.FATAL
            raise
        if self._elem is not None and old.lo <= self._elem < old.hi:
            self._elem += delta  # adjustsudogs: the sudog's elem into this stack
        if old.lo <= self._ctxt < old.hi:
            self._ctxt += delta  # adjustctxt: gp.sched.ctxt, a closure's DX
        # adjustctxt also moves gp.sched.bp, and adjustframe each frame's saved BP (the
        # slot E - 8 of every frame with one, stack.go: argp - varp == 2*PtrSize): all
        # point into the old stack at hi-relative offsets the copy keeps, so after the
        # move each is the same offset from the new hi. The model derives them from the
        # frames' layout (Goroutine._bp_used, snapshot) rather than storing and
        # rewriting a word per frame; Grow.sched_bp and Shrink.sched_bp record sched.bp.
        self.stack = new
        self.stackguard0 = new.lo + rt.guard  # may overwrite a pending preempt, as in Go
        if rt.poison:
            old.poison(POISON_OLD)
        rt.alloc.stackfree(old)
        return delta, tuple(adjusted)

    def _scan(self, gc: int, park: int, safe: bool = True) -> int:
        """scanstack during GC cycle ``gc``: maybe one halving (shrinkstack); when the
        shrink is not safe (isShrinkStackSafe), gp.preemptShrink defers it. Returns the
        scanned size hi - sp it adds to p.scannedStackSize (before any shrink)."""
        used = self._used + park
        size = self.stack_size
        self._events.append(GC(gc, used, size, self._ncalls))
        if not safe:
            self._preempt_shrink = True
            return used
        # gopark -> mcall saved sched.bp, the BP of mcall's caller: the last frame of
        # the blocking chain (its saved-BP slot is that frame's top word), or this
        # goroutine's own BP when mcall is called from its frame (an inlined Gosched).
        last = self._park_last_frame(park)
        bp_used = used - last + RETURN_ADDRESS_SIZE if last else self._bp_used()
        self._shrink_at(gc, used, bp_used)
        return used

    def _park_last_frame(self, park: int) -> int:
        """The $framesize of the runtime frame that called mcall at park depth ``park``."""
        if park == 0:
            return 0
        if park == GC_PARK_DEPTH and self._parked is None:
            return GC_PARK_FRAMES[-1]  # runtime.GC -> gcWaitOnMark -> gopark
        chain = self.rt.park_chains.get(self._parked or "", ())
        return chain[-1][1] if chain else 0

    @property
    def shrink_pending(self) -> bool:
        """gp.preemptShrink: the GC could not shrink this stack where it stood (a syscall);
        the next synchronous preemption (newstack's preempt path) will."""
        return self._preempt_shrink

    def _shrink_at(self, gc: int, used: int, bp_used: int | None = None) -> None:
        size = self.stack_size
        new = self.rt._shrink(size, used)
        if new is None:
            return
        new = _as_index(new)
        old = self.stack
        if bp_used is None:  # newstack's deferred shrink: sched.bp as morestack saved it
            bp_used = self._bp_used()
        delta, adjusted = self._copystack(new, used)
        self._events.append(
            Shrink(gc, size, new, used, delta, old.lo, old.hi, self.stack.lo, self.stack.hi,
                   adjusted, _bp_pair(old.hi, self.stack.hi, bp_used))
        )

    def snapshot(self) -> Snapshot:
        """The stack as it is now, frozen."""
        hi, stack = self.stack.hi, self.stack
        frames = []
        bp = 0  # the caller's BP: 0 at the entry (newproc1 clears g.sched)
        for func, e_used, index in self._layout():
            sp = hi - e_used - func.frame
            slot = hi - e_used - RETURN_ADDRESS_SIZE if func.frame else 0
            frames.append(FrameState(
                func.name, index, func.frame, hi - e_used, sp,
                tuple(LocalState(lc.name, lc.kind, sp + lc.offset, stack.read(sp + lc.offset))
                      for lc in func.locals),
                slot, bp if slot else 0,
            ))
            if slot:
                bp = slot
        return Snapshot(self.goid, self.stack.lo, hi, self.sp, self._stackguard0, tuple(frames),
                        self.rt.guard, bp)

    # ---- locals and memory ------------------------------------------------------
    def frame(self, index: int = -1) -> Frame:
        """A frame by index: 0 is the entry function, -1 the innermost."""
        if not self._funcs:
            raise EmptyStackError(f"goroutine {self.goid} has no frames")
        if isinstance(index, bool) or not isinstance(index, int):
            raise ProgramError(f"frame index must be an int, got {index!r}")
        n = len(self._funcs)
        if not -n <= index < n:
            raise EmptyStackError(f"goroutine {self.goid} has {n} frames; no frame {index}")
        i = index % n
        func = self._funcs[i]
        if i == n - 1:  # the innermost frame ends at SP: O(1)
            return Frame(func, self._used - func.frame, self._indexes[i])
        return Frame(*self._layout()[i])

    def _slot(self, name: str, frame: int) -> tuple[Frame, Local, int]:
        fr = self.frame(frame)
        local = fr.func.local(name)
        return fr, local, self.stack.hi - fr.sp_used + local.offset

    def addr(self, name: str, frame: int = -1) -> int:
        """&name: the address of a local in a frame (frame 0 = entry, -1 = innermost)."""
        return self._slot(name, frame)[2]

    def load(self, name: str, frame: int = -1) -> int:
        return self.stack.read(self._slot(name, frame)[2])

    def store(self, name: str, value: int, frame: int = -1) -> None:
        """name = value. A pointer local may hold nil, the heap, or its own or an outer frame."""
        fr, local, addr = self._slot(name, frame)
        value = _check_word(value, f"value for {fr.func.name}.{name}")
        if local.kind is Kind.POINTER:
            self._check_pointer(fr, name, value)
        self.stack.words[addr] = value

    def take_addr(
        self, dst: str, src: str, *, frame: int = -1, src_frame: int | None = None
    ) -> int:
        """dst = &src, with dst a pointer local; src may live in this or an outer frame."""
        fr, local, _ = self._slot(dst, frame)
        if local.kind is not Kind.POINTER:
            raise LocalKindError(
                f"{fr.func.name}.{dst} is a {local.kind.value}, not a pointer: the stack map "
                f"would not track it. Use store({dst!r}, addr({src!r})) for a uintptr copy"
            )
        target = self.addr(src, frame if src_frame is None else src_frame)
        self.store(dst, target, frame)
        return target

    def deref(self, name: str, frame: int = -1) -> int:
        """*name: load the word the local points at (it may dangle into a freed stack)."""
        return self.rt.read(self.load(name, frame))

    def _check_pointer(self, fr: Frame, name: str, value: int) -> None:
        owner = self.rt.alloc.find(value)
        if not isinstance(owner, Stack):
            return  # nil, heap, or a non-pointer value the runtime will judge at the next move
        if owner is not self.stack:
            raise EscapeError(_(
                "{local} may not point into another stack ({value:#x}): "
                "Go pointers into a stack are only passed down its own call tree"
            ).format(local=f"{fr.func.name}.{name}", value=value))
        depth_of_target = self.stack.hi - value
        if depth_of_target > fr.sp_used:
            raise EscapeError(_(
                "{local} may not point below its own frame ({value:#x}): "
                "that frame dies first, so escape analysis would move the variable to the heap"
            ).format(local=f"{fr.func.name}.{name}", value=value))
