"""Deliberate mutants of the simulator's stages, and the checks that must catch them.

Each mutant has the signature of the stage it replaces, so it plugs in with
``gs.REFERENCE.replace(stage=mutant)`` and ``gs.Runtime(stages=...)``. The one
mutant that is not a single stage (no return address) is a Runtime subclass.

Each check takes a runtime factory (``make(**kwargs) -> gs.Runtime``) and returns a
list of failures, empty when the runtime behaves as measured. The expected values
are the facts sheet's measured numbers (go-stack-facts.md section 10) or hand
derivations written next to them; none is produced by the code under test.
test_mutants.py runs every check on the reference stages and on every mutant;
test_runtime.py asserts the same tables case by case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import gostack as gs
from gostack import adjust, parkpath, prologue
from gostack.arch import (
    ENTRY_USED,
    FIXED_STACK,
    MAX_STACK_CEILING,
    MIN_LEGAL_POINTER,
    RETURN_ADDRESS_SIZE,
    STACK_BIG,
    STACK_MIN,
    STACK_NOSPLIT,
    STACK_SMALL,
    UINTPTR_MASK,
)

MakeRuntime = Callable[..., gs.Runtime]


def runtime_factory(stages: gs.Stages = gs.REFERENCE) -> MakeRuntime:
    """A factory for runtimes that use ``stages``."""
    return partial(gs.Runtime, stages=stages)


# ---------------------------------------------------------------------------
# The mutants
# ---------------------------------------------------------------------------


def guard_off_by_one(sp: int, frame: int, stackguard0: int) -> bool:
    """Compares against lo + 920 instead of lo + 928 (one word short of stackGuard)."""
    return prologue.morestack_needed(sp, frame, stackguard0 - 8)


def strict_less(sp: int, frame: int, stackguard0: int) -> bool:
    """The three prologue forms ending in an unsigned < (JCS) where Go uses <= (JLS)."""
    if frame <= STACK_SMALL:
        return sp < stackguard0
    if frame > STACK_BIG and sp < frame - STACK_SMALL:
        return True
    return (sp - (frame - STACK_SMALL)) & UINTPTR_MASK < stackguard0


def single_doubling(old_size: int, used: int, frame: int, max_stack: int) -> int:
    """newstack without the fit loop: always exactly one doubling (the Go 1.17 behaviour)."""
    size = 2 * old_size
    if size > max_stack or size > MAX_STACK_CEILING:
        raise gs.StackOverflow(min(max_stack, MAX_STACK_CEILING), new_size=size)
    return size


no_adjust = adjust.no_adjust


def adjust_uintptrs(
    words: dict[int, int], frame: adjust.FrameRef, adj: adjust.AdjustInfo
) -> list[adjust.Adjusted]:
    """adjustframe that treats every local as a pointer (uintptrs and scalars too)."""
    done: list[adjust.Adjusted] = []
    for local in frame.func.locals:
        addr = frame.sp + local.offset
        p = words.get(addr, 0)
        if local.kind is gs.POINTER and 0 < p < MIN_LEGAL_POINTER:
            raise gs.InvalidPointer(frame.func.name, addr, p)
        if adj.old_lo <= p < adj.old_hi:
            words[addr] = p + adj.delta
            done.append(adjust.Adjusted(frame.func.name, local.name, addr, p, p + adj.delta))
    return done


def shrink_no_floor(size: int, used: int) -> int | None:
    """shrinkstack without the 2 KiB floor (the 1/4 rule kept).

    On linux/amd64 this is an *equivalent* mutant: the 1/4 rule needs
    used + 800 < size/4, so size > 3200, so size >= 4096 for a power of two, so
    size/2 >= 2048 already. test_mutants.py proves the equivalence instead of
    pretending to catch it; shrink_half_rule_no_floor shows the floor check bites.
    """
    if used + STACK_NOSPLIT >= size // 4:
        return None
    return size // 2


def shrink_half_rule(size: int, used: int) -> int | None:
    """shrinkstack that halves when used + 800 < size/2 (instead of size/4)."""
    new = size // 2
    if new < FIXED_STACK:
        return None
    if used + STACK_NOSPLIT >= size // 2:
        return None
    return new


def shrink_half_rule_no_floor(size: int, used: int) -> int | None:
    """The 1/2 rule without the floor: here the floor matters (2048 -> 1024)."""
    if used + STACK_NOSPLIT >= size // 2:
        return None
    return size // 2


class _NoReturnAddressGoroutine(gs.Goroutine):
    """A CALL that consumes only the callee's frame: no 8-byte return address.

    Besides call/ret it overrides the two private helpers from which the runtime
    derives frame positions (for addr(), the unwinder and the trace), so the
    mutant is coherent: it is caught by where it grows, not by losing locals.
    test_mutants.py checks that coherence.
    """

    def call(self, func: gs.Func) -> None:
        self._used -= RETURN_ADDRESS_SIZE  # cancel the push the real call() makes
        try:
            super().call(func)
        except gs.GostackError:
            if self.status is gs.Status.RUNNING:  # refused before anything happened
                self._used += RETURN_ADDRESS_SIZE
            raise

    def ret(self) -> None:
        super().ret()
        self._used += RETURN_ADDRESS_SIZE  # no return address to pop either

    def _layout(self) -> list[tuple[gs.Func, int, int]]:
        out, e_used = [], ENTRY_USED - RETURN_ADDRESS_SIZE
        for func, index in zip(self._funcs, self._indexes, strict=True):
            out.append((func, e_used, index))
            e_used += func.frame
        return out

    def _mapped_frames(self) -> list[tuple[gs.Func, int]]:
        return [(func, e_used) for func, e_used, _ in self._layout() if func.locals]


class NoReturnAddressRuntime(gs.Runtime):
    """A runtime whose goroutines forget the return address on every call."""

    def go(self, entry: gs.Func) -> gs.Goroutine:
        g = _NoReturnAddressGoroutine(self, len(self.goroutines) + 1)
        self.goroutines.append(g)
        g.call(entry)
        return g


class AdaptiveKeepsAnyStackRuntime(gs.Runtime):
    """Adaptive start whose gfget hands a recycled G its kept stack whatever its size
    (Go frees a stack that is no longer startingStackSize and allocates one that is)."""

    def _gfget(self) -> gs.Stack | None:
        if not self._gfree:
            return None
        stack = self._gfree.pop()
        return stack if stack is not None else self.alloc.stackalloc(self.starting_stack_size)


class AdaptiveFreshTooRuntime(gs.Runtime):
    """Adaptive start that gives a fresh G the start size too (newproc1: malg(stackMin))."""

    def _gfget(self) -> gs.Stack | None:
        return super()._gfget() or self.alloc.stackalloc(self.starting_stack_size)


class _NoDeferredShrinkGoroutine(gs.Goroutine):
    """newstack's preempt path forgets gp.preemptShrink: a shrink the GC deferred in a
    syscall never happens at the next synchronous preemption."""

    def _morestack(self, func: gs.Func, e_used: int, index: int) -> None:
        self._preempt_shrink = False
        super()._morestack(func, e_used, index)


class _SpinScannedAtSpGoroutine(gs.Goroutine):
    """A goroutine preempted in a prologue scanned at its innermost frame's SP, not
    at sched.sp (the preempted function's E, one return address lower)."""

    def spin(self, func: gs.Func) -> None:
        super().spin(func)
        self._park = 0


class _SudogsAlwaysCachedGoroutine(gs.Goroutine):
    """acquireSudog always finds one in the P's cache: never new(sudog)."""

    def _park_path(self, op: str) -> tuple[parkpath.Check, ...]:
        self.rt.sudogs = max(self.rt.sudogs, 2)
        return super()._park_path(op)


class _SelectWithoutSellockGoroutine(gs.Goroutine):
    """selectgo's deepest check taken as gopark's: sellock -> lock2 forgotten."""

    def _park_path(self, op: str) -> tuple[parkpath.Check, ...]:
        return tuple(c for c in super()._park_path(op)
                     if op != "select" or c not in parkpath.ALWAYS["select"])


class _SleepWithoutTimerGoroutine(gs.Goroutine):
    """time.Sleep's first call allocates no timer: no mallocgc below it."""

    def _park_path(self, op: str) -> tuple[parkpath.Check, ...]:
        return () if op == "sleep" else super()._park_path(op)


def _runtime_of(goroutine: type[gs.Goroutine]) -> MakeRuntime:
    """A runtime whose goroutines are of the class ``goroutine``."""

    class _Runtime(gs.Runtime):
        def go(self, entry: gs.Func, *, stack_size: int | None = None) -> gs.Goroutine:
            g = goroutine(self, len(self.goroutines) + 1,
                          STACK_MIN if stack_size is None else stack_size)
            self.goroutines.append(g)
            g.call(entry)
            return g

    return _Runtime


class FirstGcAddsNoSudogRuntime(gs.Runtime):
    """The first GC leaves the sudog cache as it was (no gcBgMarkStartWorkers receive
    on main, which allocates a sudog when the cache is empty)."""

    def gc(self, caller: gs.Goroutine | None = None) -> int:
        sudogs = self.sudogs
        n = super().gc(caller)
        self.sudogs = sudogs
        return n


@dataclass(frozen=True)
class Mutant:
    name: str
    make: MakeRuntime
    equivalent: bool = False  # True: no behaviour on valid input tells it apart


def _stage_mutant(name: str, **stage) -> Mutant:
    return Mutant(name, runtime_factory(gs.REFERENCE.replace(**stage)))


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        _stage_mutant("guard_off_by_one", prologue=guard_off_by_one),
        _stage_mutant("strict_less", prologue=strict_less),
        _stage_mutant("single_doubling", newsize=single_doubling),
        _stage_mutant("no_adjust", adjustframe=no_adjust),
        _stage_mutant("adjust_uintptrs", adjustframe=adjust_uintptrs),
        Mutant("no_return_address", NoReturnAddressRuntime),
        Mutant(
            "shrink_no_floor",
            runtime_factory(gs.REFERENCE.replace(shrink=shrink_no_floor)),
            equivalent=True,
        ),
        _stage_mutant("shrink_half_rule", shrink=shrink_half_rule),
        _stage_mutant("shrink_half_rule_no_floor", shrink=shrink_half_rule_no_floor),
        Mutant("adaptive_keeps_any_stack", AdaptiveKeepsAnyStackRuntime),
        Mutant("adaptive_fresh_too", AdaptiveFreshTooRuntime),
        # counts only the goroutines it runs, not main and the runtime's own
        Mutant("adaptive_own_goroutines_only", partial(gs.Runtime, unmodelled=())),
        Mutant("no_deferred_shrink", _runtime_of(_NoDeferredShrinkGoroutine)),
        Mutant("spin_scanned_at_sp", _runtime_of(_SpinScannedAtSpGoroutine)),
        Mutant("sudogs_always_cached", _runtime_of(_SudogsAlwaysCachedGoroutine)),
        Mutant("select_without_sellock", _runtime_of(_SelectWithoutSellockGoroutine)),
        Mutant("sleep_without_timer", _runtime_of(_SleepWithoutTimerGoroutine)),
        Mutant("first_gc_adds_no_sudog", FirstGcAddsNoSudogRuntime),
    )
}


# ---------------------------------------------------------------------------
# Measured values (facts sheet section 10); call index d = probe depth d
# (call 0 is the goroutine's entry function, `worker`, F = 56).
# ---------------------------------------------------------------------------

WORKER = 56  # worker's TEXT line: $56-0
SWORKER = 40  # sworker's TEXT line: $40-0


@dataclass(frozen=True)
class Recursion:
    """A self- or mutual recursion from an entry frame, with its measured growths."""

    name: str
    entry: int
    frames: tuple[int, ...]  # callee frames, cycled: call i uses frames[(i - 1) % len]
    calls: int
    growths: tuple[tuple[int, int], ...]  # (call index, new size)


MEASURED_GROWTH = (
    # (a) recA, F = 168 (medium form): 7, 19, 42, 88 (the <= equality case), 182, 368.
    Recursion("a", WORKER, (168,), 400,
              ((7, 4096), (19, 8192), (42, 16384), (88, 32768), (182, 65536), (368, 131072))),
    # (b) recBig, F = 10280 (huge): three doublings in one move at depth 1.
    Recursion("b", WORKER, (10280,), 30,
              ((1, 16384), (2, 32768), (4, 65536), (7, 131072), (13, 262144), (26, 524288))),
    # (c) mutS (64) at odd depths, mutM (616) at even depths.
    Recursion("c", WORKER, (64, 616), 600,
              ((4, 4096), (10, 8192), (22, 16384), (46, 32768), (92, 65536), (186, 131072),
               (375, 262144))),
    # (t) recT, F = 80 (small form): 734 is the second equality case.
    Recursion("t", WORKER, (80,), 1200,
              ((13, 4096), (36, 8192), (83, 16384), (176, 32768), (362, 65536), (734, 131072))),
    # Not run on real Go, derived by hand from the model of section 10 with a
    # 40-byte entry (sworker): off(d) = 40 + 40 + 8 + (d-1)*176 = 88 + 176(d-1);
    # growth from S when off(d) + 40 >= S - 928:
    #   S=2048:  176(d-1) >= 992   -> d = 7      S=4096:  176(d-1) >= 3040  -> d = 19
    #   S=8192:  176(d-1) >= 7136  -> d = 42     S=16384: 176(d-1) >= 15328 -> d = 89
    Recursion("a40", SWORKER, (168,), 100,
              ((7, 4096), (19, 8192), (42, 16384), (89, 32768))),
)

# (c): which function's prologue triggered each move.
MUTUAL_TRIGGERS = ("mutM",) * 6 + ("mutS",)

# (d) and (s): stack size after each of 8 runtime.GC() calls, after recursing to
# 128 KiB with recA and returning to the entry function.
MEASURED_SHRINK = {
    WORKER: (65536, 32768, 16384, 8192, 4096, 4096, 4096, 4096),  # (d)
    SWORKER: (65536, 32768, 16384, 8192, 4096, 2048, 2048, 2048),  # (s), GOMAXPROCS=1
}


def run_recursion(make: MakeRuntime, case: Recursion, **kwargs) -> gs.Goroutine:
    rt = make(trace=False, **kwargs)
    g = rt.go(gs.Func("main.worker", frame=case.entry))
    names = {64: "mutS", 616: "mutM"}
    funcs = [gs.Func(names.get(f, f"main.rec{f}"), frame=f) for f in case.frames]
    for i in range(case.calls):
        g.call(funcs[i % len(funcs)])
    return g


# ---------------------------------------------------------------------------
# Checks: each returns a list of human-readable failures
# ---------------------------------------------------------------------------


def measured_growth_failures(make: MakeRuntime) -> list[str]:
    """Experiments a, b, c, t (and the 40-byte-entry derivation): where and to what it grows."""
    failures = []
    for case in MEASURED_GROWTH:
        try:
            g = run_recursion(make, case)
        except gs.GostackError as e:
            failures.append(f"({case.name}) raised {type(e).__name__}: {e}")
            continue
        got = tuple((e.call_index, e.new_size) for e in g.trace.grows)
        if got != case.growths:
            failures.append(f"({case.name}) growths {got} != measured {case.growths}")
        if case.name == "c":
            who = tuple(e.func for e in g.trace.grows)
            if who != MUTUAL_TRIGGERS:
                failures.append(f"(c) triggered by {who} != measured {MUTUAL_TRIGGERS}")
    return failures


def overflow_failures(make: MakeRuntime) -> list[str]:
    """Experiment (e): SetMaxStack(32768) dies at depth 182 with hi - sp = 31968."""
    rt = make(trace=False)
    rt.set_max_stack(32768)
    g = rt.go(gs.Func("main.worker", frame=WORKER))
    rec = gs.Func("main.recA", frame=168)
    try:
        for _ in range(400):
            g.call(rec)
    except gs.StackOverflow as e:
        lines = str(e).splitlines()
        failures = []
        if e.call_index != 182:
            failures.append(f"(e) overflow at call {e.call_index}, measured 182")
        if e.hi - e.sp != 31968:
            failures.append(f"(e) hi - sp = {e.hi - e.sp}, measured 31968")
        if lines[0] != "runtime: goroutine stack exceeds 32768-byte limit":
            failures.append(f"(e) first line {lines[0]!r}")
        if lines[-1] != "fatal error: stack overflow":
            failures.append(f"(e) last line {lines[-1]!r}")
        return failures
    except gs.GostackError as e:
        return [f"(e) raised {type(e).__name__} instead of StackOverflow: {e}"]
    return ["(e) 400 calls of recA under a 32768-byte limit did not overflow"]


# Pointer program: worker holds x (scalar), p = &x (pointer), u = uintptr(&x) and
# h (a heap pointer); every recA frame holds q = p (pointer) and v = uintptr(p).
X_VALUE = 0x1122334455667788
HEAP_VALUE = 0x0DDBA11


def pointer_failures(make: MakeRuntime, calls: int = 200) -> list[str]:
    """Pointers follow every move; uintptr copies and heap pointers never change.

    Facts sheet section 5: the stack-resident uintptr copy of &x differs from the
    adjusted p by exactly the sum of all move deltas.
    """
    rt = make(trace=False)
    worker = gs.Func("main.worker", frame=WORKER, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8),
        gs.Local("u", gs.UINTPTR, 16), gs.Local("h", gs.POINTER, 24)))
    rec = gs.Func("main.recA", frame=168, locals=(
        gs.Local("q", gs.POINTER, 0), gs.Local("v", gs.UINTPTR, 8)))
    g = rt.go(worker)
    hi0 = g.hi
    g.store("x", X_VALUE)
    g.take_addr("p", "x")
    u0 = g.addr("x")
    g.store("u", u0)
    h = rt.new_object()
    rt.heap_store(h, HEAP_VALUE)
    g.store("h", h)
    v_at: dict[int, int] = {}  # call index -> what v got when that frame was new
    failures: list[str] = []
    try:
        for i in range(1, calls + 1):
            g.call(rec)
            g.take_addr("q", "x", src_frame=0)
            v_at[i] = g.addr("x", 0)
            g.store("v", v_at[i])
    except gs.GostackError as e:
        return [f"raised {type(e).__name__} during the recursion: {e}"]
    grows = g.trace.grows
    if not grows:
        return [f"{calls} recA calls never grew the stack"]
    x_now = g.addr("x", 0)
    total = sum(e.delta for e in grows)
    if total != g.hi - hi0:
        failures.append(f"sum of deltas {total} != hi moved by {g.hi - hi0}")
    if g.load("p", 0) != x_now:
        failures.append(f"p = {g.load('p', 0):#x}, &x is now {x_now:#x}")
    if g.deref("p", 0) != X_VALUE:
        failures.append(f"*p = {g.deref('p', 0):#x}, x = {X_VALUE:#x}")
    if g.load("u", 0) != u0:
        failures.append(f"uintptr u changed from {u0:#x} to {g.load('u', 0):#x}")
    if g.load("p", 0) - g.load("u", 0) != total:
        failures.append(f"p - u = {g.load('p', 0) - g.load('u', 0)}, sum of deltas {total}")
    if g.load("h", 0) != h or rt.heap_load(h) != HEAP_VALUE:
        failures.append("heap pointer h or the heap word it points at changed")
    for i in range(1, calls + 1):
        if g.load("q", i) != x_now:
            failures.append(f"frame {i}: q = {g.load('q', i):#x}, &x = {x_now:#x}")
            break
    for i in range(1, calls + 1):
        later = sum(e.delta for e in grows if e.call_index > i)
        if g.load("v", i) != v_at[i] or g.load("v", i) + later != x_now:
            failures.append(f"frame {i}: uintptr v is not stale by the later deltas")
            break
    return failures


def shrink_failures(make: MakeRuntime) -> list[str]:
    """Experiments (d) and (s): one halving per GC down to where the 1/4 rule stops."""
    failures = []
    for entry, expected in MEASURED_SHRINK.items():
        rt = make(trace=False)
        g = rt.go(gs.Func("main.worker", frame=entry))
        rec = gs.Func("main.recA", frame=168)
        try:
            for _ in range(400):
                g.call(rec)
            if g.stack_size != 131072:
                failures.append(f"entry {entry}: 400 recA calls reached {g.stack_size}")
                continue
            for _ in range(400):
                g.ret()
            sizes = []
            for _ in range(8):
                g.runtime_gc()
                sizes.append(g.stack_size)
        except gs.GostackError as e:
            failures.append(f"entry {entry}: raised {type(e).__name__}: {e}")
            continue
        if tuple(sizes) != expected:
            failures.append(f"entry {entry}: sizes after GCs {sizes} != measured {expected}")
    return failures


def shrink_floor_failures(make: MakeRuntime) -> list[str]:
    """A GC never leaves a stack below 2048 bytes or below what is in use.

    Goroutines whose whole use is tiny (the 40-byte entry reserve plus a frame of
    0..64 bytes, scanned by another goroutine's GC) are the ones a missing floor
    would push under 2 KiB.
    """
    failures = []
    rt = make(trace=False)
    gcer = rt.go(gs.Func("main.gcer", frame=0))
    small = [rt.go(gs.Func(f"main.idle{f}", frame=f)) for f in range(0, 72, 8)]
    # One that grew to 32 KiB and returned: its shrinks must stop at the floor too.
    grown = rt.go(gs.Func("main.worker", frame=0))
    for _ in range(200):
        grown.call(gs.Func("main.recA", frame=168))
    for _ in range(200):
        grown.ret()
    for cycle in range(8):
        try:
            gcer.runtime_gc()
        except gs.GostackError as e:
            return [f"GC {cycle + 1} raised {type(e).__name__}: {e}"]
        for g in (*small, grown):
            if g.stack_size < FIXED_STACK or g.stack_size <= g.used:
                failures.append(f"GC {cycle + 1}: {g!r} shrank to {g.stack_size}")
    return failures


# gcComputeStartingStackSize's inputs besides the model's goroutines: main parked in
# runtime.GC (536 for a $64 main.main) and the runtime's forcegc, bgsweep, bgscavenge,
# GOMAXPROCS updater, finalizer goroutine and mark worker, as scanstack printed them on
# go1.27.3 (scripts/measure_scanned_stacks.py): 1848 bytes over 7 goroutines.
UNMODELLED_SUM, UNMODELLED_N = 536 + 120 + 152 + 168 + 152 + 512 + 208, 7
# A goroutine worker ($40) -> D x rec ($168) parked in recv (192 below rec's SP) is
# scanned at 40 + 40 + 176 D + 192.


def _deep(rt: gs.Runtime, depth: int) -> gs.Goroutine:
    g = rt.go(gs.Func("main.worker", frame=40))
    for _ in range(depth):
        g.call(gs.Func("main.rec", frame=168))
    g.park("recv")
    return g


def _exit(g: gs.Goroutine) -> int:
    lo = g.lo
    g.unpark()
    while g.depth:
        g.ret()
    return lo


def adaptive_start_failures(make: MakeRuntime) -> list[str]:
    """Go's default adaptive start (stack.go gcComputeStartingStackSize, proc.go gfput,
    gfget, newproc1), with every value derived by hand from the source rule."""
    failures = []

    def want(what: str, got: object, expected: object) -> None:
        if got != expected:
            failures.append(f"{what}: {got}, expected {expected}")

    try:
        rt = make(adaptive_start=True, trace=False)
        gs1 = [_deep(rt, 15) for _ in range(4)]  # 80 + 2640 + 192 = 2912 each, 4 KiB
        rt.gc()  # (1848 + 4 * 2912) / 11 = 1226, + 928 = 2154 -> 4096
        want("start after GC 1", rt.starting_stack_size, 4096)
        los = [_exit(g) for g in gs1]  # 4 KiB == the start size: each G keeps its stack
        g5 = rt.go(gs.Func("main.worker", frame=40))  # gfget: the last G freed (LIFO)
        want("g5's start (g4's kept stack)", (g5.stack_size, g5.lo), (4096, los[3]))
        g5.park("recv")  # 40 + 40 + 192 = 272
        rt.gc()  # (1848 + 272) / 8 = 265, + 928 = 1193 -> 2048
        want("start after GC 2", rt.starting_stack_size, 2048)
        g6 = rt.go(gs.Func("main.worker", frame=40))  # g3's 4 KiB stack: freed, 2 KiB new
        want("g6's start", g6.stack_size, 2048)
        if g6.lo == los[2]:
            failures.append("g6 kept g3's 4 KiB stack although the start size is 2048")

        rt = make(adaptive_start=True, trace=False)
        g1, _ = _deep(rt, 100), _deep(rt, 100)  # 80 + 17600 + 192 = 17872, 32 KiB
        rt.gc()  # (1848 + 2 * 17872) / 9 = 4176, + 928 = 5104 -> 8192
        want("start after deep GC", rt.starting_stack_size, 8192)
        _exit(g1)  # 32 KiB != 8 KiB: gfput frees it
        g3 = rt.go(gs.Func("main.worker", frame=40))  # g1's G, a new 8 KiB stack
        g4 = rt.go(gs.Func("main.worker", frame=40))  # no free G: malg(stackMin)
        want("recycled and fresh starts", (g3.stack_size, g4.stack_size), (8192, 2048))

        rt = make(adaptive_start=True, trace=False)
        _deep(rt, 100), _deep(rt, 100)
        rt.set_max_stack(4000)
        rt.gc()  # 5104 capped at maxstacksize 4000 -> 4096 (not 8192)
        want("start capped at the limit, then rounded up", rt.starting_stack_size, 4096)
        rt.set_max_stack(1000)
        rt.gc()  # capped at 1000, then raised to fixedStack: 2048
        want("start under a 1000-byte limit", rt.starting_stack_size, 2048)
    except gs.GostackError as e:
        failures.append(f"raised {type(e).__name__}: {e}")
    return failures


def preemption_failures(make: MakeRuntime) -> list[str]:
    """A shrink deferred in a syscall (mgcmark.go scanstack: gp.preemptShrink) happens
    at the next synchronous preemption (stack.go newstack), from sched.sp = the
    preempted function's E, where a GC also scans a preempted goroutine. Hand-derived
    (the recorded scene deferred_shrink_at_preemption shows the same in go1.27.3)."""
    failures = []
    spin = gs.Func("main.probeSpin", frame=8)
    try:
        rt = make(trace=False)
        g = rt.go(gs.Func("main.worker", frame=40))
        for _ in range(100):  # 80 + 100 * 176 = 17680 in use: 32 KiB
            g.call(gs.Func("main.rec", frame=168))
        for _ in range(99):
            g.ret()  # 80 + 176 = 256 in use
        g.park("syscall")
        rt.gc(), rt.gc()  # isShrinkStackSafe refuses twice: 32 KiB, pending
        g.unpark()
        g.spin(spin)  # newstack: 264 + 800 < 32768/4, one halving
        if (g.stack_size, g.shrink_pending) != (16384, False):
            failures.append(f"after the preemption: {g.stack_size} bytes, pending "
                            f"{g.shrink_pending}; expected 16384, no longer pending")
        rt.gc()  # scanned at probeSpin's E, 264: 264 + 800 < 16384/4
        if g.stack_size != 8192:
            failures.append(f"GC of the preempted goroutine: {g.stack_size}, expected 8192")

        rt = make(trace=False)
        g = rt.go(gs.Func("main.worker", frame=1200))  # SP: 40 + 1200 = 1240 in use
        g.call(gs.Func("main.big", frame=5000))  # 1248 + 5000 + 928 > 4096: 8 KiB
        g.ret()
        g.spin(spin)
        rt.gc()  # scanned at E = 1248: 1248 + 800 == 8192/4, no shrink (1240 would)
        if g.stack_size != 8192:
            failures.append(f"preempted at 1240 in use, scanned at {g.stack_size} bytes "
                            "after a GC; expected 8192 (sched.sp is probeSpin's E, 1248)")
    except gs.GostackError as e:
        failures.append(f"raised {type(e).__name__}: {e}")
    return failures


def park_path_failures(make: MakeRuntime) -> list[str]:
    """Blocking from an entry frame of $F on 2 KiB: the deepest check before gopark is
    at hi - E = 40 + F + offset (parkpath), and grows the stack once that reaches
    2048 - 928 = 1120. The frames are the recorded scenes park_grows_*'s."""
    failures = []

    def parked(rt: gs.Runtime, frame: int, op: str, wake: bool = True) -> int:
        g = rt.go(gs.Func("main.w", frame=frame))
        g.park(op)
        if wake:
            g.unpark()
        return g.stack_size

    def want(what: str, got: list[int], expected: list[int]) -> None:
        if got != expected:
            failures.append(f"{what}: {got}, expected {expected}")

    try:
        rt = make(trace=False)  # recv: gopark at +168; a new sudog's malloc at +360
        want("recv", [parked(rt, 904, "recv"), parked(rt, 912, "recv"),
                      parked(rt, 824, "recv", False), parked(rt, 712, "recv", False),
                      parked(rt, 720, "recv", False)], [2048, 4096, 2048, 2048, 4096])
        rt = make(trace=False)  # select: two sudogs, one cached (+520); sellock's lock2 +368
        want("select", [parked(rt, 552, "select", False), parked(rt, 560, "select", False)],
             [2048, 4096])
        for g in rt.goroutines:
            g.unpark()
        want("select, sudogs cached", [parked(rt, 704, "select"), parked(rt, 712, "select")],
             [2048, 4096])
        rt = make(trace=False)  # a first time.Sleep's timer: mallocgc's callee at +184
        want("sleep", [parked(rt, 888, "sleep"), parked(rt, 896, "sleep")], [2048, 4096])
        rt = make(trace=False)  # the first GC leaves main's <-ready sudog in the cache
        parked(rt, 40, "recv", False)
        rt.gc()
        want("recv after the first GC", [parked(rt, 720, "recv")], [2048])
    except gs.GostackError as e:
        failures.append(f"raised {type(e).__name__}: {e}")
    return failures


CHECKS: dict[str, Callable[[MakeRuntime], list[str]]] = {
    "measured_growth": measured_growth_failures,
    "overflow": overflow_failures,
    "pointers": pointer_failures,
    "shrink": shrink_failures,
    "shrink_floor": shrink_floor_failures,
    "adaptive_start": adaptive_start_failures,
    "preemption": preemption_failures,
    "park_path": park_path_failures,
}

# Which check(s) must catch each mutant (test_mutants.py asserts it).
CAUGHT_BY: dict[str, tuple[str, ...]] = {
    "guard_off_by_one": ("measured_growth",),  # 88 -> 89 and 734 -> 735
    "strict_less": ("measured_growth",),  # the two equality cases
    "single_doubling": ("measured_growth",),  # (b): 2 KiB -> 16 KiB is one move
    "no_adjust": ("pointers",),
    "adjust_uintptrs": ("pointers",),
    "no_return_address": ("measured_growth", "overflow"),
    "shrink_no_floor": (),  # equivalent on linux/amd64, see its docstring
    "shrink_half_rule": ("shrink",),  # (d): 4096 -> 2048 although 1032 >= 1024
    "shrink_half_rule_no_floor": ("shrink", "shrink_floor"),
    "adaptive_keeps_any_stack": ("adaptive_start",),  # g6 would start on 4 KiB
    "adaptive_fresh_too": ("adaptive_start",),  # g4 would start on 8 KiB
    "adaptive_own_goroutines_only": ("adaptive_start",),  # 17872 + 928 -> 32 KiB
    "no_deferred_shrink": ("preemption",),  # 32 KiB after the spin
    "spin_scanned_at_sp": ("preemption",),  # 1240 + 800 < 2048: halved
    "sudogs_always_cached": ("park_path",),  # 760 + 168 fits: no growth at $720
    "select_without_sellock": ("park_path",),  # 752 + 328 fits: no growth at $712
    "sleep_without_timer": ("park_path",),  # 936 + 96 fits: no growth at $896
    "first_gc_adds_no_sudog": ("park_path",),  # 760 + 360 == 1120: grows at $720
}
