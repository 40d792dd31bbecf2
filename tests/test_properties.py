"""Properties of random, valid-by-construction programs (hypothesis).

A program is a list of operations: calls of functions with frames 0..12000 (step 8)
and random pointer/uintptr/scalar locals, rets, runtime.GC() from the goroutine or
from another one, preemption requests, and stores of addresses of outer-frame
locals, heap objects, nil and random numbers. Every local must read 0 when its
frame is entered (Go's zero value, whatever a dead frame left in that word); the
program then gives it a value. Half the programs run under stackPoisonCopy.

After every operation the goroutine is compared with an independent model written
here: the offsets of its frames (used = 32 + sum(F + 8)), its stack size (the
facts sheet's growth and shrink rules, plus the two checks runtime.GC() runs on its
caller's stack), what each local must hold, and, for every move, the memory of the
used region word by word (keyed by offset from hi).
"""

from __future__ import annotations

import dataclasses
import re

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gostack as gs
from gostack import prologue

MASK = 2**64 - 1
GUARD = 928
PARK = 136  # runtime.GC -> gcWaitOnMark -> gopark, with return addresses
# runtime.GC() runs on its caller's stack. Recorded on go1.27.3 (gostack/data/recorded.json,
# cases gc_first_edge_* and gc_later_edge_*): the process's first GC reaches a small-form
# check (frame 88) 752 bytes below the caller's SP before the scan; every GC one (frame 32)
# 544 bytes below it in the sweep, after the scan.
GC_ENTRY = (8, 48)  # runtime.GC's own prologue: E = SP - 8, frame 48
GC_FIRST = (752, 88)
GC_SWEEP = (544, 32)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------
# The prologue against an emulation of the instructions it claims to emit
# ---------------------------------------------------------------------------


def emulate(lines: tuple[str, ...], sp: int, guard: int) -> bool:
    """Run the prologue's amd64 instructions; True if they reach morestack."""
    r12 = None
    cf = zf = False
    for line in lines:
        op, _, args = line.partition(" ")
        if op == "MOVQ":
            assert args == "SP, R12"
            r12 = sp
        elif op == "LEAQ":  # address arithmetic: wraps, sets no flags
            m = re.fullmatch(r"(-\d+)\(SP\), R12", args)
            r12 = (sp + int(m[1])) & MASK
        elif op == "SUBQ":
            m = re.fullmatch(r"\$(\d+), R12", args)
            n = int(m[1])
            cf = r12 < n  # borrow
            r12 = (r12 - n) & MASK
        elif op == "CMPQ":  # CMPQ a, 16(R14): flags of a - stackguard0
            a, b = (x.strip() for x in args.split(","))
            assert b == "16(R14)"
            x = sp if a == "SP" else r12
            cf, zf = x < guard, x == guard
        elif op == "JCS":
            if cf:
                return True
        elif op == "JLS":
            if cf or zf:
                return True
        else:
            raise AssertionError(f"unknown instruction {line!r}")
    return False


def formula(sp: int, frame: int, guard: int) -> bool:
    """Facts sheet section 2, unsigned: E <= guard; E-(F-128) <= guard; or the borrow."""
    if frame <= 128:
        return sp <= guard
    below = sp - (frame - 128)
    if frame > 4096 and below < 0:
        return True
    return below % 2**64 <= guard


frame_sizes = st.one_of(
    st.integers(0, 16).map(lambda k: 8 * k),  # small form
    st.integers(17, 512).map(lambda k: 8 * k),  # medium
    st.integers(513, 1500).map(lambda k: 8 * k),  # huge, up to 12000
)


@SETTINGS
@given(frame=frame_sizes, data=st.data())
def test_prologue_matches_its_instructions_and_the_formula(frame, data):
    guard = data.draw(st.one_of(
        st.integers(0, MASK), st.integers(0, 4096), st.just(0xFFFFFFFFFFFFFADE),
        st.integers(0xC000000000, 0xC000000000 + 2**30)))
    near = (guard + max(0, frame - 128)) & MASK
    sp = data.draw(st.one_of(
        st.integers(0, MASK),
        st.integers(-24, 24).map(lambda d: (near + d) & MASK),  # the <= boundary
        st.integers(0, frame + 8),  # the huge form's borrow region
    ))
    got = prologue.morestack_needed(sp, frame, guard)
    assert got == emulate(prologue.instructions(frame), sp, guard)
    assert got == formula(sp, frame, guard)


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------

KINDS = (gs.POINTER, gs.UINTPTR, gs.SCALAR)


@st.composite
def funcs(draw) -> gs.Func:
    frame = draw(frame_sizes)
    slots = max(0, frame // 8 - 1)  # the top word is the saved BP
    n = draw(st.integers(0, min(6, slots)))
    where = (draw(st.lists(st.integers(0, slots - 1), min_size=n, max_size=n, unique=True))
             if n else [])
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    locs = tuple(gs.Local(f"v{i}", k, 8 * w)
                 for i, (k, w) in enumerate(zip(kinds, where, strict=True)))
    return gs.Func(f"main.f{frame}", frame=frame, locals=locs)


choices = st.lists(st.integers(0, MASK), min_size=8, max_size=8)
call_op = st.tuples(st.just("call"), funcs(), choices)
ops = st.one_of(
    call_op, call_op, call_op, call_op,  # weights: calls are most of a program
    st.tuples(st.just("ret"), st.integers(1, 12)),
    st.tuples(st.just("ret"), st.integers(1, 12)),
    st.tuples(st.just("gc")),
    st.tuples(st.just("gc")),
    st.tuples(st.just("gc_other")),
    st.tuples(st.just("preempt")),
    st.tuples(st.just("set"), choices),
)
programs = st.tuples(
    funcs(),  # the entry function
    choices,
    st.lists(ops, min_size=8, max_size=40),
    st.sampled_from([1_000_000_000, 1 << 20, 100_000, 65536, 32768]),  # max_stack
    st.booleans(),  # stackPoisonCopy
)


@dataclasses.dataclass
class ModelFrame:
    func: gs.Func
    off: int  # hi - E
    index: int  # call index
    # local -> ("nil",) | ("heap", addr) | ("stack", frame, name) | ("int", value)
    values: dict[str, tuple]


class Model:
    """Offsets, sizes and intended local values, computed without the simulator."""

    def __init__(self, max_stack: int) -> None:
        self.max_stack = max_stack
        self.size = 2048
        self.frames: list[ModelFrame] = []
        self.pending_preempt = False
        self.grows: list[tuple[int, int, int]] = []  # (call index, old, new)
        self.shrinks: list[tuple[int, int]] = []
        self.preempts: list[int] = []
        self.calls = 0
        self.process_gcs = 0

    @property
    def used(self) -> int:
        return 32 + sum(f.func.frame + 8 for f in self.frames)

    def check(self, index: int, off: int, frame: int) -> str:
        """A prologue with E at hi - off: "ok" (maybe after a growth) or "overflow"."""
        if off + max(0, frame - 128) >= self.size - GUARD:
            new = 2 * self.size
            while new - off < frame + GUARD:
                new *= 2
            if new > self.max_stack:
                return "overflow"
            self.grows.append((index, self.size, new))
            self.size = new
        return "ok"

    def call(self, func: gs.Func) -> str:
        index, off = self.calls, self.used + 8
        self.calls += 1
        if self.pending_preempt:
            self.preempts.append(index)
            self.pending_preempt = False
        if self.check(index, off, func.frame) == "overflow":
            return "overflow"
        self.frames.append(ModelFrame(func, off, index, {}))
        return "ok"

    def scan(self, park: int) -> None:
        scanned = self.used + park
        if self.size // 2 >= 2048 and scanned + 800 < self.size // 4:
            self.shrinks.append((self.size, self.size // 2))
            self.size //= 2
            self.pending_preempt = False  # copystack resets stackguard0

    def runtime_gc(self) -> str:
        """This goroutine calls runtime.GC() (with no preemption pending)."""
        assert not self.pending_preempt
        index = self.frames[-1].index  # growths inside the GC go to the calling frame
        first = self.process_gcs == 0
        if self.check(index, self.used + GC_ENTRY[0], GC_ENTRY[1]) == "overflow":
            return "overflow"
        if first and self.check(index, self.used + GC_FIRST[0], GC_FIRST[1]) == "overflow":
            return "overflow"
        self.process_gcs += 1
        self.scan(PARK)
        return self.check(index, self.used + GC_SWEEP[0], GC_SWEEP[1])

    def scanned_by_another(self) -> None:
        self.process_gcs += 1
        self.scan(0)


class Runner:
    def __init__(self, max_stack: int, poison: bool) -> None:
        self.rt = gs.Runtime(max_stack=max_stack, poison=poison)
        self.helper = self.rt.go(gs.Func("main.helper", frame=0))
        self.model = Model(max_stack)
        self.g: gs.Goroutine | None = None
        self.heap: list[int] = []

    # ---- giving locals values ------------------------------------------------
    def _targets(self, upto: int) -> list[tuple[int, str]]:
        return [(i, lc.name) for i in range(upto + 1) for lc in self.model.frames[i].func.locals]

    def assign(self, i: int, name: str, pick: list[int]) -> None:
        g, fr = self.g, self.model.frames[i]
        kind = fr.func.local(name).kind
        targets = self._targets(i)
        how = pick[0] % 4
        if kind is gs.POINTER:
            if how <= 1 and targets:  # &local in this or an outer frame
                j, src = targets[pick[1] % len(targets)]
                g.take_addr(name, src, frame=i, src_frame=j)
                fr.values[name] = ("stack", j, src)
            elif how == 2:
                if not self.heap or pick[2] % 2:
                    self.heap.append(self.rt.new_object(1))
                    self.rt.heap_store(self.heap[-1], pick[3] % 2**40)
                h = self.heap[pick[1] % len(self.heap)]
                g.store(name, h, i)
                fr.values[name] = ("heap", h)
            else:
                g.store(name, 0, i)
                fr.values[name] = ("nil",)
        else:
            if kind is gs.UINTPTR and how <= 1 and targets:  # uintptr(unsafe.Pointer(&x))
                j, src = targets[pick[1] % len(targets)]
                value = g.addr(src, j)
            else:
                value = pick[2] if how != 3 else pick[2] % 4096  # small ones too
            g.store(name, value, i)
            fr.values[name] = ("int", value)

    def enter(self, func: gs.Func, pick: list[int]) -> None:
        i = len(self.model.frames) - 1
        values = self.model.frames[i].values
        for lc in func.locals:  # Go variables start at their zero value
            assert self.g.load(lc.name, i) == 0, (func.name, lc.name)
            values[lc.name] = ("nil",) if lc.kind is gs.POINTER else ("int", 0)
        for k, lc in enumerate(func.locals):
            self.assign(i, lc.name, [pick[(k + m) % 8] for m in range(4)])

    # ---- expectations ------------------------------------------------------------
    def expected_value(self, want: tuple) -> int:
        if want[0] == "stack":
            return self.g.addr(want[2], want[1])
        return {"nil": 0, "heap": want[-1], "int": want[-1]}[want[0]]

    def pointer_slots(self, frames: list[ModelFrame]) -> set[int]:
        """Offsets from hi of the stack-map pointer slots of these frames."""
        return {f.off + f.func.frame - lc.offset
                for f in frames for lc in f.func.locals if lc.kind is gs.POINTER}

    def check_state(self) -> None:
        g, m = self.g, self.model
        assert g.lo <= g.sp <= g.hi
        size = g.stack_size
        assert size & (size - 1) == 0 and 2048 <= size <= m.max_stack
        assert size == m.size
        assert g.used == m.used
        assert g.depth == len(m.frames)
        assert [f.used for f in g.frames] == [f.off for f in m.frames]
        for i, fr in enumerate(m.frames):
            for name, want in fr.values.items():
                assert g.load(name, i) == self.expected_value(want), (i, name, want)
                if want[0] == "stack":
                    target = m.frames[want[1]].values[want[2]]
                    assert g.deref(name, i) == self.expected_value(target)
        trace = g.trace
        assert [(e.call_index, e.old_size, e.new_size) for e in trace.grows] == m.grows
        assert [(e.old_size, e.new_size) for e in trace.shrinks] == m.shrinks
        assert [e.call_index for e in trace.of(gs.Preempt)] == m.preempts
        moves = [e for e in trace if isinstance(e, (gs.Grow, gs.Shrink))]
        if moves:
            assert (moves[-1].new_lo, moves[-1].new_hi) == (g.lo, g.hi)
        calls = trace.of(gs.Call)
        assert len(calls) == m.calls
        for e in trace:
            assert dataclasses.is_dataclass(e) and type(e).__dataclass_params__.frozen

    def snapshot(self) -> tuple[dict[int, int], int, int]:
        """What the stack reads at offsets from hi that the next move may copy.

        A move copies at most used + 752 bytes (a check inside runtime.GC). Every written
        word there is kept, plus unwritten ones (all of them for a small region, a
        spread of them for a large one), so a copy that changes what an unwritten
        word reads is noticed too.
        """
        g, s = self.g, self.g.stack
        limit = g.used + max(PARK, GC_FIRST[0], GC_SWEEP[0])
        keys = {s.hi - a for a in s.words if 0 < s.hi - a <= limit}
        step = 8 if limit <= 4096 else max(8, limit // 64 // 8 * 8)
        keys |= set(range(8, limit + 1, step)) | {limit, g.used + 8}
        return {k: s.read(s.hi - k) for k in keys}, s.lo, s.hi

    def check_move(self, ev, before, frames: list[ModelFrame]) -> None:
        """A move copies [hi - used, hi) word for word and adjusts only pointer slots."""
        words, old_lo, old_hi = before
        assert (ev.old_lo, ev.old_hi) == (old_lo, old_hi)
        assert ev.delta == ev.new_hi - ev.old_hi
        new = self.rt.alloc.find(ev.new_lo)
        assert isinstance(new, gs.Stack) and (new.lo, new.hi) == (ev.new_lo, ev.new_hi)
        pointers = self.pointer_slots(frames)
        written = {new.hi - a for a in new.words if 0 < new.hi - a <= ev.used}
        assert written <= set(words)  # nothing in the region that the old stack lacked
        adjusted = set()
        for k in (k for k in words if k <= ev.used):
            old, got = words[k], new.read(new.hi - k)
            if k in pointers and old_lo <= old < old_hi:
                assert got == old + ev.delta, (k, old, got)
                adjusted.add(k)
            else:
                assert got == old, (k, old, got)
        event(f"{type(ev).__name__}, delta {'<' if ev.delta < 0 else '>'} 0")
        if adjusted:
            event(f"{type(ev).__name__} adjusted pointers")
        if self.rt.poison:
            event(f"{type(ev).__name__} under stackPoisonCopy")
        assert all(a.new == a.old + ev.delta for a in ev.adjusted)
        assert {ev.new_hi - a.addr for a in ev.adjusted} == adjusted

    # ---- running ---------------------------------------------------------------------
    def call(self, func: gs.Func, pick: list[int]) -> bool:
        """False once the goroutine died of a stack overflow."""
        before, frames = self.snapshot() if self.g else None, list(self.model.frames)
        n_events = len(self.g.trace) if self.g else 0
        outcome = self.model.call(func)
        try:
            if self.g is None:
                self.g = self.rt.go(func)
            else:
                self.g.call(func)
        except gs.StackOverflow as e:
            assert outcome == "overflow"
            event("stack overflow")
            g = self.g or self.rt.goroutines[-1]
            assert g.status is gs.Status.FATAL
            assert g.trace.overflow.call_index == e.call_index == self.model.calls - 1
            return False
        assert outcome == "ok"
        new_events = self.g.trace[n_events:]
        for ev in new_events.grows:
            assert ev.used == self.model.frames[-1].off  # hi - E of the growing call
            if before is not None:
                self.check_move(ev, before, frames)
        self.enter(func, pick)
        return True

    def gc(self, other: bool) -> bool:
        """False once the goroutine died of a stack overflow inside runtime.GC."""
        before, frames = self.snapshot(), list(self.model.frames)
        n_events = len(self.g.trace)
        if other:
            self.helper.runtime_gc()
            self.model.scanned_by_another()
        else:
            outcome = self.model.runtime_gc()
            try:
                self.g.runtime_gc()
            except gs.StackOverflow:
                assert outcome == "overflow"
                assert self.g.status is gs.Status.FATAL
                return False
            assert outcome == "ok"
        new_events = self.g.trace[n_events:]
        park = 0 if other else PARK
        gcs = new_events.of(gs.GC)
        assert len(gcs) == 1 and gcs[0].used == self.model.used + park
        for ev in new_events.shrinks:
            assert ev.new_size >= 2048 and ev.new_size > ev.used
            assert ev.used == gcs[0].used
        for ev in new_events.grows:
            event("Grow inside runtime.GC")
            assert ev.used - self.model.used in (GC_ENTRY[0], GC_FIRST[0], GC_SWEEP[0])
        moves = [e for e in new_events if isinstance(e, (gs.Grow, gs.Shrink))]
        if moves:  # the first move against the snapshot, the others chained to it
            self.check_move(moves[0], before, frames)
        for prev, ev in zip(moves, moves[1:], strict=False):
            assert (ev.old_lo, ev.old_hi) == (prev.new_lo, prev.new_hi)
            assert ev.delta == ev.new_hi - ev.old_hi
        return True


@settings(SETTINGS, max_examples=150)
@given(programs)
def test_random_programs_agree_with_the_model(program):
    entry, entry_pick, body, max_stack, poison = program
    run = Runner(max_stack, poison)
    if not run.call(entry, entry_pick):
        return
    run.check_state()
    for op in body:
        kind = op[0]
        if kind == "call":
            if not run.call(op[1], op[2]):
                return
        elif kind == "ret":
            for _ in range(min(op[1], run.g.depth - 1)):  # the entry stays: exit is tested
                run.g.ret()  # elsewhere
                run.model.frames.pop()
                run.check_state()
        elif kind == "gc" and run.model.pending_preempt:
            continue  # where runtime.GC takes a pending preemption: test_runtime.py
        elif kind in ("gc", "gc_other"):
            if not run.gc(other=kind == "gc_other"):
                return
        elif kind == "preempt":
            run.g.preempt()
            run.model.pending_preempt = True
        elif kind == "set":
            pick = op[1]
            i = pick[4] % run.g.depth
            names = [lc.name for lc in run.model.frames[i].func.locals]
            if names:
                run.assign(i, names[pick[5] % len(names)], pick[:4])
        run.check_state()


@SETTINGS
@given(programs)
def test_a_trace_once_taken_never_changes(program):
    # "The event trace: one immutable record of what the runtime did" (trace.py).
    entry, entry_pick, body, max_stack, poison = program
    run = Runner(max_stack, poison)
    if not run.call(entry, entry_pick):
        return
    for op in [("call", entry, entry_pick), *body]:
        taken = run.g.trace
        frozen = tuple(taken)
        if op[0] == "call":
            if not run.call(op[1], op[2]):
                return
        elif op[0] == "gc" and not run.gc(other=False):
            return
        assert tuple(run.g.trace[: len(frozen)]) == frozen  # history is never rewritten
        assert tuple(taken) == frozen  # and an earlier trace does not grow
