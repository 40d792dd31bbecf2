"""Stack shrinking at GC (src/runtime/stack.go shrinkstack).

At most one halving per goroutine per GC cycle, and only when what is in use
(measured where the goroutine is parked) plus the NOSPLIT budget is under a
quarter of the stack. Never below the 2 KiB floor.
"""

from __future__ import annotations

from .arch import FIXED_STACK, STACK_NOSPLIT


def shrink_size(size: int, used: int) -> int | None:
    """The halved size if shrinkstack would shrink this stack, else None."""
    new = size // 2
    if new < FIXED_STACK:
        return None
    if used + STACK_NOSPLIT >= size // 4:
        return None
    return new
