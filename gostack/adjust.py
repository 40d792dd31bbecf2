"""Pointer adjustment after a copy (src/runtime/stack.go adjustframe, adjustpointers).

Only the stack map's pointer slots are looked at, and only values in the old
stack's [lo, hi) move, by delta. uintptr and scalar slots are not in the map;
heap pointers and nil fall outside the range. Both are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import MIN_LEGAL_POINTER
from .errors import InvalidPointer
from .symtab import Func, Kind


@dataclass(frozen=True, slots=True)
class AdjustInfo:
    """The runtime's adjinfo: the old stack and the distance to the new one."""

    old_lo: int
    old_hi: int
    delta: int


@dataclass(frozen=True, slots=True)
class FrameRef:
    """One frame as the unwinder sees it on the new stack."""

    func: Func
    sp: int  # SP after the prologue; locals sit at sp + offset


@dataclass(frozen=True, slots=True)
class Adjusted:
    """One slot rewritten by adjustpointer: the value moved from old to new."""

    func: str
    local: str
    addr: int
    old: int
    new: int


def adjustframe(words: dict[int, int], frame: FrameRef, adj: AdjustInfo) -> list[Adjusted]:
    """Adjust the pointer slots of one frame in the new stack's words."""
    done: list[Adjusted] = []
    fn = frame.func
    for local in fn.locals:
        if local.kind is not Kind.POINTER:
            continue
        addr = frame.sp + local.offset
        p = words.get(addr, 0)
        if 0 < p < MIN_LEGAL_POINTER:
            raise InvalidPointer(fn.name, addr, p)
        if adj.old_lo <= p < adj.old_hi:
            words[addr] = p + adj.delta
            done.append(Adjusted(fn.name, local.name, addr, p, p + adj.delta))
    return done


def no_adjust(words: dict[int, int], frame: FrameRef, adj: AdjustInfo) -> list[Adjusted]:
    """A copier without stack maps: every pointer into the old stack now dangles."""
    return []
