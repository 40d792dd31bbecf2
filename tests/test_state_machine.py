"""A hypothesis state machine: a goroutine driven by call/ret/GC/preempt rules and
compared after every step with a trivially simple model.

The model is a list of frame sizes and a stack size:
    used (hi - SP)  = 32 + sum(F + 8)     (newproc's 32-byte reserve, then per call
                                           the return address and the frame; the
                                           entry's E is hi - 40)
    a checked call grows when off + max(0, F - 128) >= S - 928, with off = used + 8,
        to the first 2^k * S (k >= 1) with 2^k * S - off >= F + 928,
        and dies if that is over the limit;
    a NOSPLIT call never checks and dies only if SP would drop below lo;
    a GC halves S when S/2 >= 2048 and in_use + 800 < S/4, in_use = used + 136 for
        the goroutine calling runtime.GC() and used for one scanned by another;
    runtime.GC() runs checks on its caller's stack (recorded on go1.27.3, see
        gostack/data/recorded.json gc_first_edge_*, gc_later_edge_*): its own prologue
        (F = 48, small form, E = SP - 8), then on the first GC a small-form one
        (F = 88) at E = SP - 752 before the scan, every GC one (F = 32) at
        E = SP - 544 after it; a growth there is filed under the
        calling frame's call index;
    a preemption request is consumed by the next checked call (no copy) and
        forgotten when a move resets stackguard0. (Which check inside runtime.GC
        takes it is left to test_runtime.py: the gc rule waits until none is pending.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import gostack as gs

GUARD = 928

frames = st.one_of(
    st.integers(0, 16).map(lambda k: 8 * k),
    st.integers(17, 512).map(lambda k: 8 * k),
    st.integers(513, 1500).map(lambda k: 8 * k),
)
limits = st.sampled_from([1_000_000_000, 1 << 18, 100_000, 32768])


class StackMachine(RuleBasedStateMachine):
    # ---- the model ---------------------------------------------------------------
    def model_check(self, index: int, off: int, frame: int) -> str:
        if off + max(0, frame - 128) >= self.size - GUARD:
            new = 2 * self.size
            while new - off < frame + GUARD:
                new *= 2
            if new > self.limit:
                return "overflow"
            self.grows.append((index, self.size, new, off))
            event(f"grow x{(new // self.size).bit_length() - 1}")
            self.size = new
        return "ok"

    def model_call(self, frame: int, nosplit: bool) -> str:
        off, index = self.used + 8, self.ncalls
        self.ncalls += 1
        if nosplit:
            if off + frame > self.size:
                return "nosplit overflow"
        else:
            if self.pending_preempt:
                self.preempts += 1
                self.pending_preempt = False
                event("preempted")
            if self.model_check(index, off, frame) == "overflow":
                return "overflow"
        self.frames.append(frame)
        self.indexes.append(index)
        return "ok"

    def model_scan(self, park: int) -> None:
        self.process_gcs += 1
        in_use = self.used + park
        if self.size // 2 >= 2048 and in_use + 800 < self.size // 4:
            self.size //= 2
            self.shrinks += 1
            event("shrink")
            self.pending_preempt = False

    def model_runtime_gc(self) -> str:
        index = self.indexes[-1]
        if self.model_check(index, self.used + 8, 48) == "overflow":  # runtime.GC itself
            return "overflow"
        if self.process_gcs == 0 and self.model_check(index, self.used + 752, 88) == "overflow":
            return "overflow"
        self.model_scan(136)
        return self.model_check(index, self.used + 544, 32)

    @property
    def used(self) -> int:
        return 32 + sum(f + 8 for f in self.frames)

    # ---- set-up ------------------------------------------------------------------
    @initialize(entry=frames, limit=limits)
    def start(self, entry, limit):
        self.limit = limit
        self.size, self.frames, self.indexes, self.ncalls = 2048, [], [], 0
        self.process_gcs = 0
        self.grows: list[tuple[int, int, int, int]] = []
        self.shrinks = self.preempts = 0
        self.pending_preempt = False
        self.status = gs.Status.RUNNING
        self.rt = gs.Runtime(max_stack=limit, link_check=False)  # NOSPLIT frames of any size
        self.other = self.rt.go(gs.Func("main.other", frame=0))
        outcome = self.model_call(entry, False)
        try:
            self.g = self.rt.go(gs.Func(f"main.entry{entry}", frame=entry))
        except gs.StackOverflow:
            assert outcome == "overflow"
            self.g = self.rt.goroutines[-1]
            self.status = gs.Status.FATAL
            return
        assert outcome == "ok"

    def running(self) -> bool:
        return self.status is gs.Status.RUNNING

    # ---- rules ---------------------------------------------------------------------
    @precondition(running)
    @rule(frame=frames, nosplit=st.sampled_from([False, False, False, True]))
    def call(self, frame, nosplit):
        if nosplit:
            frame = min(frame, 792)  # what the linker lets a NOSPLIT chain use
        self._call(frame, nosplit)

    @precondition(running)
    @rule(small=st.booleans(), nudge=st.sampled_from([-8, 0, 8]))
    def call_at_the_guard(self, small, nudge):
        """A call whose check lands exactly on the guard (nudge 0) or one word off."""
        if small:
            # A filler frame X puts the next E at off = S - 928 (+nudge):
            # off = used + 8 + X + 8. The filler's own check is 136 bytes short.
            filler = self.size - GUARD - self.used - 16 + nudge
            if filler < 0:
                return
            self._call(filler, False)
            if self.running():
                self._call(64, False)
        else:
            # Medium/huge: off + F - 128 = S - 928 (+nudge), off = used + 8.
            frame = self.size - 800 - (self.used + 8) - nudge
            if frame >= 136:
                self._call(frame, False)

    def _call(self, frame, nosplit):
        outcome = self.model_call(frame, nosplit)
        func = gs.Func(f"main.f{frame}", frame=frame, nosplit=nosplit)
        event(f"call: {outcome}")
        if outcome == "ok":
            self.g.call(func)
            return
        expected = gs.StackOverflow if outcome == "overflow" else gs.NosplitOverflow
        try:
            self.g.call(func)
        except expected:
            self.status = gs.Status.FATAL
        else:
            raise AssertionError(f"expected {expected.__name__}")

    @precondition(lambda self: self.running() and len(self.frames) > 1)
    @rule(n=st.integers(1, 8))
    def ret(self, n):
        for _ in range(min(n, len(self.frames) - 1)):  # the entry's ret is `exit`
            self.g.ret()
            self.frames.pop()
            self.indexes.pop()

    @precondition(lambda self: self.running() and len(self.frames) == 1)
    @rule()
    def exit(self):
        self.g.ret()
        self.frames.pop()
        self.indexes.pop()
        self.status = gs.Status.DEAD

    @precondition(lambda self: self.running() and not self.pending_preempt)
    @rule()
    def gc(self):
        outcome = self.model_runtime_gc()
        event(f"runtime.GC: {outcome}")
        if outcome == "ok":
            self.g.runtime_gc()
            return
        try:
            self.g.runtime_gc()
        except gs.StackOverflow:
            self.status = gs.Status.FATAL
        else:
            raise AssertionError("expected StackOverflow inside runtime.GC")

    @rule()
    def gc_by_another_goroutine(self):
        # Always enabled, so a run can go on after our goroutine died: GC then skips it.
        self.other.runtime_gc()
        if self.running():
            self.model_scan(0)
        else:
            self.process_gcs += 1

    @precondition(running)
    @rule()
    def preempt(self):
        self.g.preempt()
        self.pending_preempt = True

    @precondition(lambda self: not self.running())
    @rule()
    def call_after_death(self):
        try:
            self.g.call(gs.Func("main.late", frame=8))
        except gs.GoroutineExited as e:
            assert f"goroutine {self.g.goid}" in str(e)
        else:
            raise AssertionError("a dead goroutine made a call")

    @precondition(lambda self: self.status is gs.Status.DEAD)
    @rule()
    def ret_after_exit(self):
        try:
            self.g.ret()
        except gs.EmptyStackError:
            pass
        else:
            raise AssertionError("ret on an empty stack")

    # ---- invariants ------------------------------------------------------------------
    @invariant()
    def agrees_with_the_model(self):
        if not hasattr(self, "g"):
            return
        g = self.g
        assert g.status is self.status
        assert g.stack_size == self.size
        assert self.size & (self.size - 1) == 0 and 2048 <= self.size <= self.limit
        assert g.depth == len(self.frames)
        assert g.used == self.used  # a call that died left no frame behind
        assert g.lo <= g.sp <= g.hi
        assert [f.func.frame for f in g.frames] == self.frames
        trace = g.trace
        assert [(e.call_index, e.old_size, e.new_size, e.used) for e in trace.grows] == self.grows
        assert len(trace.shrinks) == self.shrinks
        assert len(trace.of(gs.Preempt)) == self.preempts
        assert g.calls == self.ncalls


StackMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStackMachine = StackMachine.TestCase
