"""The event trace: one immutable record of what the runtime did.

Plots, widgets, tests and the grader all read this; none of them re-run the
simulator to learn what happened. Stack moves (Grow, Shrink, Preempt, GC,
Overflow) are always recorded; Call and Ret only when tracing is on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from .adjust import Adjusted


@dataclass(frozen=True, slots=True)
class Call:
    call_index: int
    func: str
    frame: int
    used: int  # hi - E: bytes in use once the return address is pushed
    checked: bool  # False for NOSPLIT functions (no prologue check)


@dataclass(frozen=True, slots=True)
class Ret:
    func: str
    used: int  # hi - SP back in the caller


@dataclass(frozen=True, slots=True)
class Grow:
    """newstack + copystack for the call whose prologue failed."""

    call_index: int
    func: str
    old_size: int
    new_size: int
    used: int  # bytes copied: hi - E of the function whose check failed
    delta: int  # new.hi - old.hi; may be negative
    frame: int = 0
    old_lo: int = 0
    old_hi: int = 0
    new_lo: int = 0
    new_hi: int = 0
    adjusted: tuple[Adjusted, ...] = ()
    # gp.sched.bp (old, new): BP when morestack ran, the caller's saved-BP slot, moved
    # by adjustctxt (stack.go); (0, 0) when no frame has a frame pointer
    sched_bp: tuple[int, int] = (0, 0)
    # gp.sched.ctxt (old, new): DX of a closure call (Goroutine.call_closure), moved by
    # adjustctxt if it points into the old stack; (0, 0) for a plain call
    ctxt: tuple[int, int] = (0, 0)

    @property
    def doublings(self) -> int:
        return self.new_size.bit_length() - self.old_size.bit_length()


@dataclass(frozen=True, slots=True)
class Shrink:
    """shrinkstack during a GC: one halving."""

    gc: int  # which GC cycle (1 = the first runtime.GC())
    old_size: int
    new_size: int
    used: int  # bytes in use where the goroutine was parked
    delta: int
    old_lo: int = 0
    old_hi: int = 0
    new_lo: int = 0
    new_hi: int = 0
    adjusted: tuple[Adjusted, ...] = ()
    sched_bp: tuple[int, int] = (0, 0)  # gp.sched.bp (old, new), as in Grow


@dataclass(frozen=True, slots=True)
class GC:
    """A GC cycle this goroutine started (runtime.GC) or was scanned in."""

    gc: int
    used: int  # bytes in use where the goroutine was parked
    size: int  # stack size when scanned (before any shrink)
    call_index: int  # calls made on the goroutine before this GC


@dataclass(frozen=True, slots=True)
class Park:
    """The goroutine blocked in ``op`` (runtime/proc.go gopark) from its innermost frame,
    call ``call_index``; ``used`` is hi - sched.sp, where a GC scans it."""

    call_index: int
    op: str
    used: int


@dataclass(frozen=True, slots=True)
class Unpark:
    """The blocking operation ``op`` completed; the goroutine runs again."""

    call_index: int
    op: str


@dataclass(frozen=True, slots=True)
class Preempt:
    """A prologue saw stackguard0 == stackPreempt: newstack yields, no copy."""

    call_index: int
    func: str


@dataclass(frozen=True, slots=True)
class Overflow:
    """newstack refused: the goroutine dies with `fatal error: stack overflow`."""

    call_index: int
    func: str
    old_size: int
    new_size: int
    used: int
    limit: int


Event = Call | Ret | Grow | Shrink | GC | Preempt | Overflow | Park | Unpark


class Trace(Sequence[Event]):
    """A read-only, ordered view of a goroutine's events."""

    __slots__ = ("_events",)

    def __init__(self, events: list[Event] | tuple[Event, ...] = ()) -> None:
        self._events = events

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> Trace: ...
    def __getitem__(self, i: int | slice) -> Event | Trace:
        if isinstance(i, slice):
            return Trace(tuple(self._events[i]))
        return self._events[i]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __repr__(self) -> str:
        return f"Trace({len(self)} events, {len(self.grows)} grows, {len(self.shrinks)} shrinks)"

    def of(self, kind: type) -> tuple:
        return tuple(e for e in self._events if isinstance(e, kind))

    @property
    def grows(self) -> tuple[Grow, ...]:
        return self.of(Grow)

    @property
    def shrinks(self) -> tuple[Shrink, ...]:
        return self.of(Shrink)

    @property
    def overflow(self) -> Overflow | None:
        found = self.of(Overflow)
        return found[0] if found else None

    def growth_points(self) -> list[tuple[int, int]]:
        """(call_index, new_size) for every growth: what the real probe reports."""
        return [(e.call_index, e.new_size) for e in self.grows]

    def bytes_copied(self) -> int:
        return sum(e.used for e in self._events if isinstance(e, (Grow, Shrink)))
