"""Stack memory and its allocator (src/runtime/stack.go stackalloc/stackfree).

A stack's contents are kept word by word, only where something was written, so a
512 MiB stack costs memory in proportion to what is in use.

Allocation follows the runtime's two paths:
- small stacks (2, 4, 8, 16 KiB) come from per-order pools of 32 KiB spans,
- large stacks get a span of their own. Freed outside a GC (gcphase == _GCoff) a
  large stack goes straight back to the heap; freed during a GC it goes on the large
  free list (stackLarge), where a stack of that size allocated in the same GC finds
  it, and the end of the GC (freeStackSpans, called by gcMarkTermination) returns the
  list to the heap. This model's heap never hands pages out twice (alloc_pages).
Freed small stacks go on the front of their list, so the next stack of that size is
the one just freed: that is why consecutive same-size moves alternate between two
slots and why a delta can be negative.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from .arch import (
    FIXED_STACK,
    GC_PARK_DEPTH,
    MAX_STACK_DEFAULT,
    NUM_STACK_ORDERS,
    PAGE_SIZE,
    STACK_CACHE_SIZE,
    STACK_GUARD,
)

ARENA_BASE = 0xC000000000  # where the Go heap starts on linux/amd64


@dataclass(eq=False)
class Stack:
    """One stack [lo, hi). Mutable: the runtime writes it; views get copies."""

    lo: int
    hi: int
    words: dict[int, int] = field(default_factory=dict)
    freed: bool = False
    fill: int = 0  # what a word never written reads as (0, or a poison pattern)
    # Ranges [lo, hi) whose unwritten words read another value: a copy carries the
    # old stack's fill along with its bytes. Later ranges win.
    fills: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.hi - self.lo

    def read(self, addr: int) -> int:
        if addr in self.words:
            return self.words[addr]
        return self.background(addr)

    def background(self, addr: int) -> int:
        """What an unwritten word at addr reads as."""
        for lo, hi, value in reversed(self.fills):
            if lo <= addr < hi:
                return value
        return self.fill

    def poison(self, value: int) -> None:
        """fillstack: every byte of the stack becomes the pattern."""
        self.words.clear()
        self.fills.clear()
        self.fill = value

    def __contains__(self, addr: int) -> bool:
        return self.lo <= addr < self.hi

    def __repr__(self) -> str:
        state = "freed" if self.freed else "live"
        return f"Stack([{self.lo:#x}, {self.hi:#x}) size={self.size} {state})"


@dataclass(eq=False)
class HeapObject:
    """An object the escape analysis moved to the heap: `words` 8-byte slots."""

    addr: int
    nwords: int
    words: dict[int, int] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.addr + 8 * self.nwords

    def __contains__(self, addr: int) -> bool:
        return self.addr <= addr < self.end


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def stack_order(size: int) -> int | None:
    """The pool order (0..3 for 2..16 KiB) that serves a stack of ``size``, or None
    for the large-stack path (a span of its own)."""
    if size < FIXED_STACK << NUM_STACK_ORDERS and size < STACK_CACHE_SIZE:
        return (size // FIXED_STACK).bit_length() - 1
    return None


def adaptive_start_size(scanned: Sequence[int], max_stack: int = MAX_STACK_DEFAULT,
                        guard: int = STACK_GUARD) -> int:
    """gcComputeStartingStackSize (Go 1.19+; off with GODEBUG=adaptivestackstart=0):
    the average ``hi - sp`` the last GC scanned, plus stackGuard (``guard``: 1728 in a
    -race build), capped at the current maxstacksize, then raised to fixedStack, then
    rounded up to a power of 2 (so a limit that is not a power of 2 can be exceeded, as
    in Go). Nothing scanned: fixedStack. Only a recycled G starts at this size; a fresh
    G starts at 2048."""
    if not scanned:
        return FIXED_STACK
    avg = sum(scanned) // len(scanned) + guard
    avg = max(min(avg, max_stack), FIXED_STACK)  # Go's order: the cap first, then the floor
    return 1 << (avg - 1).bit_length()  # round2


# What every GC of a probe adds to the average besides its own goroutines: the runtime's
# goroutines, each scanned at gp.sched.sp where it waits (hi - sp, bytes), measured on
# go1.27.3 linux/amd64 by scripts/measure_scanned_stacks.py (scanstack patched to print
# goid, hi - sp and the start function). Named by start function; all exist from the
# first GC's scan on (the mark worker is started by gcStart before the roots are taken).
RUNTIME_SCANNED: tuple[tuple[str, int], ...] = (
    ("runtime.forcegchelper", 120),  # proc.go init: forcegc, parked in goparkunlock
    ("runtime.gcenable.gowrap1", 152),  # mgc.go gcenable: bgsweep, parked
    ("runtime.gcenable.gowrap2", 168),  # mgc.go gcenable: bgscavenge, parked
    ("runtime.updateMaxProcsGoroutine", 152),  # proc.go: the GOMAXPROCS updater (Go 1.25+)
    ("runtime.runFinalizers", 512),  # mfinal.go: started by the first SetFinalizer (os)
    ("runtime.gcBgMarkStartWorkers.gowrap1", 208),  # mgc.go: gcBgMarkWorker, GOMAXPROCS=1
)
# Go's main goroutine inside runtime.GC (gcWaitOnMark -> gopark) is scanned at
# hi - E(main.main) = 40 (newproc's reserve + goexit's PC) + runtime.main's $288 + 8
# (objdump: SUBQ $0x118 after PUSHQ BP), plus main.main's frame, plus GC_PARK_DEPTH.
MAIN_ENTRY_DEPTH = 336
MAIN_FRAME_DEFAULT = 64  # main.main of every scene probe (its -S TEXT line)


def main_gc_scanned(main_frame: int = MAIN_FRAME_DEFAULT) -> int:
    """hi - sched.sp of Go's main goroutine parked in runtime.GC (536 for a $64 main)."""
    return MAIN_ENTRY_DEPTH + main_frame + GC_PARK_DEPTH


def unmodelled_scanned(main_frame: int = MAIN_FRAME_DEFAULT) -> tuple[int, ...]:
    """The scanned sizes a GC of a probe adds for main (in runtime.GC) and the runtime's
    own goroutines: what Runtime(adaptive_start=True) counts beside its goroutines."""
    return (main_gc_scanned(main_frame), *(n for _, n in RUNTIME_SCANNED))


class StackAllocator:
    """Hands out power-of-two stacks at addresses that look like a Go heap."""

    def __init__(self, base: int = ARENA_BASE) -> None:
        self._next_page = base
        self._pools: list[list[Stack]] = [[] for _ in range(NUM_STACK_ORDERS)]
        self._large: dict[int, list[Stack]] = {}  # stackLarge: only during a GC
        self.gc_running = False  # gcphase != _GCoff; the runtime sets it while a GC runs
        # Every slot ever handed out, by lo, for address lookups (live or freed).
        self._slots: dict[int, Stack | HeapObject] = {}
        self._los: list[int] = []
        self.allocs = 0
        self.frees = 0

    def alloc_pages(self, nbytes: int) -> int:
        """mheap.allocManual: fresh page-aligned memory, never returned (a model choice)."""
        addr = self._next_page
        self._next_page += -(-nbytes // PAGE_SIZE) * PAGE_SIZE
        return addr

    def _remember(self, obj: Stack | HeapObject, lo: int) -> None:
        if lo not in self._slots:
            bisect.insort(self._los, lo)
        self._slots[lo] = obj

    def stackalloc(self, size: int) -> Stack:
        if not is_power_of_two(size) or size < FIXED_STACK:
            raise ValueError(f"stack size not a power of 2 (or below {FIXED_STACK}): {size}")
        self.allocs += 1
        order = stack_order(size)
        if order is not None:
            pool = self._pools[order]
            if not pool:
                span = self.alloc_pages(STACK_CACHE_SIZE)
                # Pushed low to high, so the highest piece is handed out first.
                pool.extend(Stack(a, a + size) for a in range(span, span + STACK_CACHE_SIZE, size))
            old = pool.pop()
        else:
            free = self._large.setdefault(size, [])
            old = free.pop() if free else Stack(lo := self.alloc_pages(size), lo + size)
        # Reused memory still holds what the last owner left there.
        stack = (Stack(old.lo, old.hi, old.words, fill=old.fill, fills=old.fills)
                 if old.freed else old)
        self._remember(stack, stack.lo)
        return stack

    def stackfree(self, stack: Stack) -> None:
        if stack.freed:
            raise ValueError(f"double free of {stack!r}")
        self.frees += 1
        stack.freed = True
        size = stack.size
        order = stack_order(size)
        if order is not None:
            self._pools[order].append(stack)
        elif self.gc_running:
            self._large.setdefault(size, []).append(stack)
        # else: mheap_.freeManual, back to the heap (which this model does not reuse)

    def free_stack_spans(self) -> None:
        """freeStackSpans at the end of a GC: the large free list goes back to the heap.
        (Go also returns pool spans with no stack in use; this model keeps them.)"""
        self._large.clear()

    def new_object(self, nwords: int) -> HeapObject:
        if nwords < 1:
            raise ValueError(f"a heap object needs at least one word, got {nwords}")
        obj = HeapObject(self.alloc_pages(8 * nwords), nwords)
        self._remember(obj, obj.addr)
        return obj

    def find(self, addr: int) -> Stack | HeapObject | None:
        """The stack (live or freed) or heap object that holds addr, if any."""
        i = bisect.bisect_right(self._los, addr) - 1
        if i < 0:
            return None
        obj = self._slots[self._los[i]]
        return obj if addr in obj else None
