"""copystack: move the used part of a stack to a new one (src/runtime/stack.go copystack).

Used bytes keep their distance from hi, so depth accounting survives a move and
every pointer into the old stack moves by the same delta = new.hi - old.hi.
"""

from __future__ import annotations

from .stackalloc import Stack


def copystack(old: Stack, new: Stack, used: int) -> int:
    """Copy [old.hi - used, old.hi) to [new.hi - used, new.hi); return the delta."""
    delta = new.hi - old.hi
    start = old.hi - used
    dst = new.words
    # memmove writes every byte of the destination range: stale words there go, and
    # the words never written read what they read in the old stack.
    for addr in [a for a in dst if new.hi - used <= a < new.hi]:
        del dst[addr]
    if old.fills or old.fill != new.background(new.hi - 8) or new.fills:
        new.fills.append((new.hi - used, new.hi, old.fill))
        for lo, hi, value in old.fills:
            lo, hi = max(lo, start), min(hi, old.hi)
            if lo < hi:
                new.fills.append((lo + delta, hi + delta, value))
    for addr, value in old.words.items():
        if start <= addr < old.hi:
            dst[addr + delta] = value
    return delta
