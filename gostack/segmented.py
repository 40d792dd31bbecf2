"""Segmented goroutine stacks as Go 1.2 (and Go 1.1) grew them, with cost counters.

Before Go 1.3 a failed prologue check did not move the stack: runtime.morestack
called runtime.newstack, which took a fresh *segment*, wrote a Stktop record at its
top (the old stack bounds, where to return to, the argument size), copied the
callee's arguments into it and ran the callee there. When that callee returned it
landed in runtime.lessstack, and runtime.oldstack copied the arguments (now holding
the results) back, freed the segment and resumed the caller on the old segment.

A call that sits right at a segment boundary inside a loop therefore pays
morestack + allocate + copy + oldstack + free on *every* iteration: the "hot split"
that led Go 1.3 to contiguous, copied stacks. This module counts those costs.

Model (linux/amd64, every function has a split check)
-----------------------------------------------------
* ``frame`` is the frame size on the function's TEXT line: locals plus the outgoing
  argument area for its own callees, without the return PC (Go 1.2 amd64 had no
  frame pointer). ``args`` is the callee's argument+result size. Those bytes live in
  the *caller's* frame, so a call that does not split uses ``8 + frame`` bytes; only
  a split copies them (into the new segment, and back on return).
* Offsets are bytes from the segment's low end. A segment of ``size`` bytes keeps
  sizeof(Stktop) bytes at its top, and its guard sits ``StackGuard`` bytes above its
  low end. ``sp`` is the stack pointer at a function's first instruction (pointing
  at the return PC), as the prologue sees it.
* The first segment is allocated when the goroutine is created (runtime.malg); depth
  0 means no frame yet. The first call is the entry function: as in newproc1 its
  arguments are placed just below the Stktop, then a return PC (goexit) is pushed.
* Not modelled: NOSPLIT functions (6l's dostkoff marks leaf functions with a frame
  below StackSmall NOSPLIT, seen in the go1.1-era pass.c; here every call checks),
  preemption requests, reflect calls (newstackcall), panics, and GC of malloc'd
  segments.

Sources: golang/go src/pkg/runtime (stack.h, stack.c, runtime.h, proc.c) and
src/cmd/6l/pass.c of the go1.1/go1.2 era, and doc/go1.2.html, go1.3.html, go1.4.html.
Each constant below names its origin and says where the cited copy is not the
release's own file (the comment block above :data:`GO1_2`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .errors import GostackError

__all__ = [
    "GO1_1",
    "GO1_2",
    "Comparison",
    "ContiguousCosts",
    "NoBoundaryError",
    "Op",
    "SegmentCacheStats",
    "SegmentInfo",
    "SegmentedCosts",
    "SegmentedError",
    "SegmentedFrame",
    "SegmentedOpError",
    "SegmentedOverflowError",
    "SegmentedParams",
    "SegmentedSizeError",
    "SegmentedStack",
    "SegmentedThrow",
    "SegmentedUnderflowError",
    "StackSegmentCache",
    "boundary_depth",
    "compare_with_contiguous",
    "contiguous_costs",
    "hot_split_program",
    "run_ops",
]


# --------------------------------------------------------------------------- errors


class SegmentedError(GostackError):
    """Base of every error this module raises on purpose."""


class SegmentedSizeError(SegmentedError, ValueError):
    """A frame or argument size that no Go 1.2 amd64 function could have."""

    def __init__(self, what: str, value: object, reason: str) -> None:
        self.what, self.value = what, value
        super().__init__(f"{what}={value!r}: {reason}")


class SegmentedOpError(SegmentedError, ValueError):
    """An operation in a program list that is neither ("call", frame[, args]) nor ("ret",)."""


class NoBoundaryError(SegmentedError, ValueError):
    """boundary_depth: the filler frames split before the loop call would."""


class SegmentedUnderflowError(SegmentedError, RuntimeError):
    """ret() with no frame left: the goroutine already returned from its entry function."""


class SegmentedThrow(SegmentedError, RuntimeError):
    """A fatal error of the Go 1.2 runtime (``throw``); the real program would exit."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        self.throw_message = message
        self.details = details
        super().__init__("\n".join((*details, f"fatal error: {message}")))


class SegmentedOverflowError(SegmentedThrow):
    """newstack refused a segment: the goroutine's segments would exceed maxstacksize."""

    def __init__(self, limit: int, stacksize: int, new_segment: int) -> None:
        self.limit, self.stacksize, self.new_segment = limit, stacksize, new_segment
        super().__init__(
            "stack overflow",
            (f"runtime: goroutine stack exceeds {limit}-byte limit",),
        )


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class SegmentedParams:
    """Stack constants of one pre-1.3 Go release on linux/amd64."""

    name: str
    stack_min: int  # stack.h StackMin: size of the first and of every ordinary segment
    stack_extra: int  # stack.h StackExtra: added to frame+args when a frame needs more
    stack_guard: int  # stack.h StackGuard (256 + StackSystem): guard above a segment's bottom
    stack_small: int  # stack.h StackSmall: SP may end this far below the guard
    stack_big: int  # stack.h StackBig
    stack_system: int  # stack.h StackSystem: 0 on linux
    stack_top: int  # stack.h StackTop: the Stktop size 6l assumes when it picks moreframesize
    stktop_size: int  # sizeof(Stktop) on amd64 (runtime.h): reserved at each segment's top
    max_stack_size: int | None  # runtime·maxstacksize; None: the release had no limit
    # Frames of at least this size call morestack without any check (Go 1.1's 6l).
    unconditional_split_from: int | None
    # After newstack the callee re-runs its prologue (Go 1.2: rewindmorestack jumps back
    # to the function start) rather than resuming past the check (Go 1.1: m->morepc).
    recheck_after_split: bool
    stack_cache_size: int = 32  # runtime.h StackCacheSize: per-M cache slots
    stack_cache_batch: int = 16  # runtime.h StackCacheBatch: per-M <-> global batch
    ptr_size: int = 8  # amd64 word; also the return PC a CALL pushes

    def __post_init__(self) -> None:
        if self.stktop_size > self.stack_top:
            # runtime·malg throws "bad stack.h" in this case.
            raise ValueError(f"stktop_size={self.stktop_size} exceeds stack_top={self.stack_top}")
        if not 0 < self.stack_cache_batch <= self.stack_cache_size:
            raise ValueError("need 0 < stack_cache_batch <= stack_cache_size")

    @property
    def fixed_stack(self) -> int:
        """stack.h FixedStack: the one size the per-M segment cache serves."""
        return self.stack_min + self.stack_system

    @property
    def stack_limit(self) -> int:
        """stack.h StackLimit: what a chain of NOSPLIT functions may use below the guard."""
        return self.stack_guard - self.stack_system - self.stack_small

    @property
    def max_entry_args(self) -> int:
        """proc.c newproc1 throws when a goroutine's argument size exceeds StackMin - 1024."""
        return self.stack_min - 1024


# Citations (issue 14). "golang/go@<sha>" is a stored version of the file in the code
# index; the exact go1.1/go1.2 tag versions of stack.h and 6l/pass.c were not in the
# index, so each line says which era the cited copy is from and how close it gets.
#
# go1.2:
#   stack_min 8192     doc/go1.2.html "Stack size" (golang/go@43ad89d6): the minimum
#                      stack of a new goroutine went from 4KB to 8KB in Go 1.2; malg
#                      allocates StackSystem + StackMin for it (proc.c runtime·malg,
#                      go1.2-era copy) and newstack never allocates less than StackMin
#                      (stack.c runtime·newstack, golang/go@00a757fb, go1.2-era).
#   stack_extra 2048   NOT seen in a go1.2 file. The go1.2-dev stack.h (golang/go@01f63ecf,
#                      already with StackPreempt) still has StackExtra 1024 / StackMin 4096;
#                      a later segmented-era stack.go pairs stackExtra 2048 with stackMin
#                      8192. 2048 is the value that went in with the 8 KB change, unverified.
#   stack_guard 256, stack_small 128, stack_big 4096, stack_system 0 (linux)
#                      stack.h enum (golang/go@01f63ecf, go1.2-dev; same in go1.1).
#   stack_top 96       stack.h StackTop (golang/go@01f63ecf, go1.2-dev).
#   stktop_size 96     derived: Stktop fields used by go1.2 stack.c newstack/oldstack are
#                      stackguard, stackbase, gobuf (sp, pc, g, ctxt, ret, lr: 6 words),
#                      argsize + panicwrap (uint32 each), argp, free, panic (bool, padded)
#                      -> 12 words; proc.c malg throws "bad stack.h" if it exceeded StackTop.
#   max_stack_size     proc.c runtime·main sets maxstacksize 1000000000 on 64-bit (go1.2-era
#                      copy); doc/go1.2.html: SetMaxStack, default 1GB on 64-bit. newstack
#                      throws "stack overflow" once gp->stacksize (first segment included,
#                      malg sets it) exceeds it.
#   unconditional_split_from None
#                      derived, the go1.2 6l/pass.c was not in the index: go1.2 newstack
#                      calls runtime·rewindmorestack, restarting the callee at its first
#                      instruction, so a prologue that called morestack unconditionally
#                      would loop forever; every frame size therefore had a real check.
#   recheck_after_split True
#                      stack.c runtime·newstack -> runtime·rewindmorestack (golang/go@00a757fb).
#   new segment size   stack.c runtime·newstack: moreframesize + argsize + StackExtra, raised
#                      to StackMin, plus StackSystem; Stktop at the top, args copied below it.
#   moreframesize      6l/pass.c dostkoff (golang/go@e740d310, go1.1-era): the frame is passed
#                      only if StackTop + args + PtrSize + frame + PtrSize + StackLimit
#                      >= StackMin; assumed unchanged in go1.2.
#   stack cache        runtime.h StackCacheSize 32, StackCacheBatch 16; stack.c stackalloc,
#                      stackfree, stackcacherefill, stackcacherelease (golang/go@00a757fb).
#   max_entry_args     proc.c runtime·newproc1: throws when narg+nret (rounded to 8) exceeds
#                      StackMin - 1024; args go right under the Stktop, then gostartcallfn
#                      pushes goexit's PC (go1.2-era copy).
GO1_2 = SegmentedParams(
    name="go1.2",
    stack_min=8192,  # doc/go1.2.html "Stack size": 4KB -> 8KB
    stack_extra=2048,  # unverified for the go1.2 tag, see above
    stack_guard=256,  # stack.h StackGuard = 256 + StackSystem
    stack_small=128,  # stack.h StackSmall
    stack_big=4096,  # stack.h StackBig
    stack_system=0,  # stack.h StackSystem (0 unless windows/plan9)
    stack_top=96,  # stack.h StackTop (go1.2-dev, golang/go@01f63ecf)
    stktop_size=96,  # runtime.h struct Stktop, 12 words (derived above)
    max_stack_size=1_000_000_000,  # proc.c runtime·main; doc/go1.2.html
    unconditional_split_from=None,  # derived from rewindmorestack (see above)
    recheck_after_split=True,  # stack.c runtime·newstack -> rewindmorestack
)

# go1.1:
#   stack.h (golang/go@c74f3c45, go1.1-era: no StackPreempt yet): StackExtra 1024,
#   StackMin 4096, StackBig 4096, StackGuard 256 + StackSystem, StackSmall 128, StackTop 72.
#   runtime.h (golang/go@536268e7, go1.1-era): Gobuf is sp, pc, g (3 words); Stktop is
#   stackguard, stackbase, gobuf, argsize (uint32, padded), argp, free, panic (bool, padded)
#   -> 9 words = 72 bytes; StackCacheSize 32, StackCacheBatch 16; M has morepc.
#   6l/pass.c dostkoff (golang/go@e740d310, go1.1-era): the compare is emitted only for
#   frames below StackBig, larger frames call morestack every time.
#   No maxstacksize: doc/go1.2.html introduces SetMaxStack and says that before Go 1.2 a
#   runaway recursion could use all memory.
#   Resuming past the check (m->morepc) rather than rewinding: M.morepc is in the go1.1
#   runtime.h, but the go1.1 asm_amd64.s / newstack were not read, so this is unverified.
GO1_1 = SegmentedParams(
    name="go1.1",
    stack_min=4096,  # stack.h StackMin (go1.1-era)
    stack_extra=1024,  # stack.h StackExtra (go1.1-era)
    stack_guard=256,  # stack.h StackGuard
    stack_small=128,  # stack.h StackSmall
    stack_big=4096,  # stack.h StackBig
    stack_system=0,  # stack.h StackSystem on linux
    stack_top=72,  # stack.h StackTop (go1.1-era)
    stktop_size=72,  # runtime.h struct Stktop, 9 words (derived above)
    max_stack_size=None,  # no runtime·maxstacksize before go1.2 (doc/go1.2.html)
    unconditional_split_from=4096,  # 6l/pass.c dostkoff: check only below StackBig
    recheck_after_split=False,  # m->morepc resume; unverified (see above)
)


# --------------------------------------------------------------------------- segment cache


@dataclass(frozen=True)
class SegmentCacheStats:
    """Snapshot of a :class:`StackSegmentCache`."""

    fixed_allocs: int  # stackalloc(FixedStack) calls
    fixed_frees: int  # stackfree(FixedStack) calls
    hits: int  # fixed allocs the per-M cache served without a refill
    refills_from_global: int  # stackcacherefill took a batch off the global list
    refills_from_os: int  # stackcacherefill had to SysAlloc a new batch
    releases_to_global: int  # stackcacherelease moved a batch to the global list
    os_bytes: int  # bytes SysAlloc'd for batches; Go 1.2 never gave them back
    per_m_count: int  # segments waiting in the per-M cache now
    global_batches: int  # batches waiting on the global list now
    large_allocs: int  # other sizes: runtime·mallocgc
    large_frees: int  # other sizes: runtime·free


class StackSegmentCache:
    """The Go 1.2 segment allocator of one M: a per-M ring plus the global batch list.

    Only FixedStack-sized segments go through the cache (stack.c stackalloc/stackfree);
    any other size is a plain heap allocation. Share one instance between stacks to
    model goroutines running on the same M.
    """

    def __init__(self, params: SegmentedParams = GO1_2) -> None:
        self.params = params
        self._per_m = 0
        self._global = 0
        self._fixed_allocs = self._fixed_frees = self._hits = 0
        self._refills_global = self._refills_os = self._releases = 0
        self._large_allocs = self._large_frees = 0

    def alloc(self, size: int) -> bool:
        """Allocate a segment; True when it came through the per-M cache."""
        p = self.params
        if size != p.fixed_stack:
            self._large_allocs += 1
            return False
        self._fixed_allocs += 1
        if self._per_m == 0:
            # stackcacherefill: the global list first, else a fresh SysAlloc'd batch.
            if self._global:
                self._global -= 1
                self._refills_global += 1
            else:
                self._refills_os += 1
            self._per_m += p.stack_cache_batch
        else:
            self._hits += 1
        self._per_m -= 1
        return True

    def free(self, size: int) -> None:
        """Give a segment back: the per-M cache (full -> release a batch first) or free."""
        p = self.params
        if size != p.fixed_stack:
            self._large_frees += 1
            return
        self._fixed_frees += 1
        if self._per_m == p.stack_cache_size:
            self._per_m -= p.stack_cache_batch
            self._global += 1
            self._releases += 1
        self._per_m += 1

    def stats(self) -> SegmentCacheStats:
        p = self.params
        return SegmentCacheStats(
            fixed_allocs=self._fixed_allocs,
            fixed_frees=self._fixed_frees,
            hits=self._hits,
            refills_from_global=self._refills_global,
            refills_from_os=self._refills_os,
            releases_to_global=self._releases,
            os_bytes=self._refills_os * p.stack_cache_batch * p.fixed_stack,
            per_m_count=self._per_m,
            global_batches=self._global,
            large_allocs=self._large_allocs,
            large_frees=self._large_frees,
        )


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class SegmentedFrame:
    """One active call."""

    frame: int
    args: int
    segment: int  # index of the segment the function runs in
    sp: int  # SP at its first instruction, offset in that segment
    caller_sp: int  # SP of the caller (in the caller's segment) to restore on return
    split: bool  # its prologue called morestack: it is the first frame of `segment`


@dataclass(frozen=True)
class SegmentInfo:
    """One live segment; offsets are from its low end."""

    index: int
    size: int
    sp: int  # lowest SP in use in this segment (the top segment's current SP)
    guard: int  # g->stackguard: StackGuard above the low end
    cached: bool  # came through the per-M cache (FixedStack) rather than malloc

    @property
    def used(self) -> int:
        """Bytes in use from the top, the Stktop record included."""
        return self.size - self.sp


@dataclass(frozen=True)
class SegmentedCosts:
    """What a segmented stack has cost so far. Byte counts are exact, not estimates."""

    calls: int
    rets: int
    morestack_calls: int  # prologue checks that failed
    segments_allocated: int  # by newstack; the goroutine's first segment is not counted
    segments_freed: int  # by oldstack
    large_segments_allocated: int  # of which bigger than FixedStack (heap, not cached)
    arg_bytes_copied_in: int  # newstack: caller's frame -> new segment
    arg_bytes_copied_out: int  # oldstack: new segment -> caller's frame (results)
    reserved_bytes: int  # sum of live segment sizes (gp->stacksize)
    peak_reserved_bytes: int
    live_segments: int
    max_segments: int
    depth: int
    max_depth: int
    cache: SegmentCacheStats  # the M's allocator, which other goroutines may share

    @property
    def arg_bytes_copied(self) -> int:
        return self.arg_bytes_copied_in + self.arg_bytes_copied_out


# --------------------------------------------------------------------------- the stack


@dataclass
class _Segment:
    size: int
    sp: int
    cached: bool


@dataclass
class _Counters:
    calls: int = 0
    rets: int = 0
    morestack: int = 0
    allocated: int = 0
    freed: int = 0
    large: int = 0
    copied_in: int = 0
    copied_out: int = 0
    peak_reserved: int = 0
    max_segments: int = 0
    max_depth: int = 0


def _check_size(what: str, value: object, ptr_size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SegmentedSizeError(what, value, f"must be an int, not {type(value).__name__}")
    if value < 0:
        raise SegmentedSizeError(what, value, "must not be negative")
    if value % ptr_size:
        raise SegmentedSizeError(what, value, f"must be a multiple of {ptr_size}")
    return value


class SegmentedStack:
    """One goroutine's stack under pre-1.3 segmented stacks.

    ``call``/``ret`` push and pop frames; ``costs`` returns a frozen snapshot.
    Every method either completes or raises with the stack unchanged.
    """

    def __init__(
        self, params: SegmentedParams = GO1_2, *, cache: StackSegmentCache | None = None
    ) -> None:
        if cache is not None and cache.params != params:
            raise ValueError(f"cache is for {cache.params.name}, stack for {params.name}")
        self.params = params
        self.cache = cache if cache is not None else StackSegmentCache(params)
        self._frames: list[SegmentedFrame] = []
        self._n = _Counters()
        # runtime·malg: stackalloc(StackSystem + StackMin), Stktop cleared at the top.
        size = params.fixed_stack
        cached = self.cache.alloc(size)
        self._segments = [_Segment(size, size - params.stktop_size, cached)]
        self._reserved = size
        self._note_peaks()

    # -- queries ----------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return len(self._frames)

    @property
    def reserved_bytes(self) -> int:
        return self._reserved

    @property
    def frames(self) -> tuple[SegmentedFrame, ...]:
        return tuple(self._frames)

    @property
    def segments(self) -> tuple[SegmentInfo, ...]:
        g = self.params.stack_guard
        return tuple(
            SegmentInfo(i, s.size, s.sp, g, s.cached) for i, s in enumerate(self._segments)
        )

    @property
    def costs(self) -> SegmentedCosts:
        n = self._n
        return SegmentedCosts(
            calls=n.calls,
            rets=n.rets,
            morestack_calls=n.morestack,
            segments_allocated=n.allocated,
            segments_freed=n.freed,
            large_segments_allocated=n.large,
            arg_bytes_copied_in=n.copied_in,
            arg_bytes_copied_out=n.copied_out,
            reserved_bytes=self._reserved,
            peak_reserved_bytes=n.peak_reserved,
            live_segments=len(self._segments),
            max_segments=n.max_segments,
            depth=len(self._frames),
            max_depth=n.max_depth,
            cache=self.cache.stats(),
        )

    def would_split(self, frame: int, args: int = 0) -> bool:
        """True if calling a function with this frame now would call morestack."""
        frame, args = self._validate(frame, args)
        return self._prologue_fails(self._entry_sp(args), frame)

    def segment_size_for(self, frame: int, args: int = 0) -> int:
        """Size newstack would allocate for this callee (stack.c runtime·newstack)."""
        frame, args = self._validate(frame, args)
        return self._new_segment_size(frame, args)

    # -- operations ---------------------------------------------------------------------

    def call(self, frame: int, args: int = 0) -> SegmentedFrame:
        """Call a function with this TEXT frame size and argument+result size."""
        p = self.params
        frame, args = self._validate(frame, args)
        seg = self._segments[-1]
        caller_sp = seg.sp
        sp = self._entry_sp(args)
        if not self._prologue_fails(sp, frame):
            seg.sp = sp - frame
            rec = SegmentedFrame(frame, args, len(self._segments) - 1, sp, caller_sp, False)
            return self._push(rec)

        # morestack -> newstack: a new segment, unless it would pass maxstacksize.
        size = self._new_segment_size(frame, args)
        if p.max_stack_size is not None and self._reserved + size > p.max_stack_size:
            raise SegmentedOverflowError(p.max_stack_size, self._reserved, size)
        new_sp = size - p.stktop_size - args - p.ptr_size  # args copied, lessstack PC pushed
        if p.recheck_after_split and self._prologue_fails(new_sp, frame):
            # The segment sizing rules this out for the shipped params.
            raise SegmentedThrow("morestack on a fresh segment", (f"params={p.name}",))
        cached = self.cache.alloc(size)
        n = self._n
        n.morestack += 1
        n.allocated += 1
        n.large += size != p.fixed_stack
        n.copied_in += args
        seg.sp = sp  # the return PC the CALL pushed stays on the old segment
        self._segments.append(_Segment(size, new_sp - frame, cached))
        self._reserved += size
        rec = SegmentedFrame(frame, args, len(self._segments) - 1, new_sp, caller_sp, True)
        return self._push(rec)

    def ret(self) -> SegmentedFrame:
        """Return from the innermost function; a split frame's segment is freed."""
        if not self._frames:
            raise SegmentedUnderflowError(
                "ret with no frame: the goroutine has no function to return from"
            )
        rec = self._frames.pop()
        self._n.rets += 1
        if rec.split:
            # lessstack -> oldstack: results copied back, segment to stackfree.
            seg = self._segments.pop()
            self.cache.free(seg.size)
            self._reserved -= seg.size
            self._n.freed += 1
            self._n.copied_out += rec.args
        self._segments[-1].sp = rec.caller_sp
        return rec

    # -- internals ------------------------------------------------------------------------

    def _validate(self, frame: object, args: object) -> tuple[int, int]:
        p = self.params
        f = _check_size("frame", frame, p.ptr_size)
        a = _check_size("args", args, p.ptr_size)
        if not self._frames and a > p.max_entry_args:
            raise SegmentedThrow(
                "runtime.newproc: function arguments too large for new goroutine",
                (f"args={a} > StackMin-1024={p.max_entry_args}",),
            )
        return f, a

    def _entry_sp(self, args: int) -> int:
        seg = self._segments[-1]
        if not self._frames:
            # newproc1: arguments right below the Stktop, then goexit's PC.
            return seg.sp - args - self.params.ptr_size
        # The arguments are already in the caller's frame; CALL pushes the return PC.
        return seg.sp - self.params.ptr_size

    def _prologue_fails(self, sp: int, frame: int) -> bool:
        # 6l stacksplit: the three instruction forms all reduce to
        # "split iff SP - max(0, frame - StackSmall) <= stackguard" (JHI skips on >).
        p = self.params
        if p.unconditional_split_from is not None and frame >= p.unconditional_split_from:
            return True
        return sp - max(0, frame - p.stack_small) <= p.stack_guard

    def _new_segment_size(self, frame: int, args: int) -> int:
        p = self.params
        # 6l passes the frame size to morestack only when a StackMin segment might not
        # hold Stktop + args + caller PC + frame + next PC + StackLimit.
        need = p.stack_top + args + p.ptr_size + frame + p.ptr_size + p.stack_limit
        more_frame = frame if need >= p.stack_min else 0
        # newstack: frame + args + StackExtra, at least StackMin, plus StackSystem.
        return max(p.stack_min, more_frame + args + p.stack_extra) + p.stack_system

    def _push(self, rec: SegmentedFrame) -> SegmentedFrame:
        self._frames.append(rec)
        self._n.calls += 1
        self._note_peaks()
        return rec

    def _note_peaks(self) -> None:
        n = self._n
        n.peak_reserved = max(n.peak_reserved, self._reserved)
        n.max_segments = max(n.max_segments, len(self._segments))
        n.max_depth = max(n.max_depth, len(self._frames))


# --------------------------------------------------------------------------- programs

Op = tuple[str] | tuple[str, int] | tuple[str, int, int]


def _parse_op(op: object) -> tuple[str, int, int]:
    if isinstance(op, tuple) and op:
        if op[0] == "ret" and len(op) == 1:
            return ("ret", 0, 0)
        if op[0] == "call" and len(op) in (2, 3):
            return ("call", op[1], op[2] if len(op) == 3 else 0)
    raise SegmentedOpError(
        f"bad op {op!r}: want ('call', frame), ('call', frame, args) or ('ret',)"
    )


def run_ops(
    ops: Iterable[Op],
    params: SegmentedParams = GO1_2,
    *,
    stack: SegmentedStack | None = None,
) -> SegmentedCosts:
    """Run ``ops`` on ``stack`` (a fresh one by default) and return the final costs."""
    st = stack if stack is not None else SegmentedStack(params)
    for op in ops:
        kind, frame, args = _parse_op(op)
        if kind == "call":
            st.call(frame, args)
        else:
            st.ret()
    return st.costs


def hot_split_program(
    depth_frames: Sequence[int],
    loop_frame: int,
    iterations: int,
    *,
    loop_args: int = 0,
) -> list[Op]:
    """Call ``depth_frames`` (outermost first), then call+return ``loop_frame`` in a loop.

    With ``depth_frames = [f] * boundary_depth(f)`` and ``loop_frame = f`` every
    iteration splits; one frame fewer and none does.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative int, got {iterations!r}")
    ops: list[Op] = [("call", f) for f in depth_frames]
    for _ in range(iterations):
        ops.append(("call", loop_frame, loop_args))
        ops.append(("ret",))
    return ops


def boundary_depth(
    frame: int,
    *,
    loop_frame: int | None = None,
    args: int = 0,
    loop_args: int = 0,
    params: SegmentedParams = GO1_2,
) -> int:
    """How many ``frame`` calls fit before a ``loop_frame`` call must split.

    Returns the smallest n such that, after n nested calls of ``frame`` on a fresh
    goroutine (none of which split), a call of ``loop_frame`` (default: ``frame``)
    calls morestack. So at depth n a loop of ``loop_frame`` calls splits every time,
    and at depth n - 1 it never does. For ``loop_frame == frame`` it is the number of
    such frames the first segment holds.
    """
    loop = frame if loop_frame is None else loop_frame
    st = SegmentedStack(params)
    while not st.would_split(loop, loop_args):
        if st.would_split(frame, args):
            raise NoBoundaryError(
                f"frame={frame} splits at depth {st.depth}, before a loop_frame={loop} call would"
            )
        st.call(frame, args)  # terminates: every call uses at least one word
    return st.depth


# --------------------------------------------------------------------------- contiguous side


@dataclass(frozen=True)
class ContiguousCosts:
    """Growth of a go1.27 contiguous stack on the same program (from Grow events)."""

    grows: int
    bytes_copied: int  # sum of Grow.used: bytes copystack moved
    max_size: int | None  # largest new_size; None if the stack never grew


@dataclass(frozen=True)
class Comparison:
    segmented: SegmentedCosts
    contiguous: ContiguousCosts


def contiguous_costs(ops: Sequence[Op]) -> ContiguousCosts:
    """Run ``ops`` on the main simulator (``gostack.Runtime``), imported only here.

    The first op must be a call: it becomes the goroutine's entry function. Argument
    sizes are dropped: go1.27 passes arguments in registers or in the caller's frame.
    """
    import gostack  # lazy: this module must not need the contiguous simulator

    parsed = [_parse_op(op) for op in ops]
    if not parsed or parsed[0][0] != "call":
        raise SegmentedOpError("the program must start with a call (the entry function)")
    rt = gostack.Runtime()
    g = rt.go(gostack.Func("main.entry", frame=parsed[0][1]))
    for i, (kind, frame, _args) in enumerate(parsed[1:], start=1):
        if kind == "call":
            g.call(gostack.Func(f"main.f{i}", frame=frame))
        else:
            g.ret()
    grows = [e for e in g.trace if isinstance(e, gostack.Grow)]
    return ContiguousCosts(
        grows=len(grows),
        bytes_copied=sum(e.used for e in grows),
        max_size=max((e.new_size for e in grows), default=None),
    )


def compare_with_contiguous(
    ops: Sequence[Op],
    params: SegmentedParams = GO1_2,
    *,
    contiguous: Callable[[Sequence[Op]], ContiguousCosts] = contiguous_costs,
) -> Comparison:
    """Costs of one program under segmented stacks and under ``contiguous``."""
    ops = list(ops)
    return Comparison(segmented=run_ops(ops, params), contiguous=contiguous(ops))
