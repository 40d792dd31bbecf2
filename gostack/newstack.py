"""newstack's sizing and its limit (src/runtime/stack.go newstack).

Growth is multiplicative, for constant amortised cost: double, then keep doubling
until everything in use plus the frame plus the guard fits.
"""

from __future__ import annotations

from .arch import MAX_STACK_CEILING, STACK_GUARD
from .errors import StackOverflow


def new_size(old_size: int, used: int, frame: int, max_stack: int) -> int:
    """Size of the stack newstack allocates; raises StackOverflow past the limit.

    ``used`` is hi - E (E: the entry SP of the function whose check failed),
    ``frame`` is that function's full frame (funcMaxSPDelta).
    """
    size = 2 * old_size
    while size - used < frame + STACK_GUARD:
        size *= 2
    # The limit test is newsize > limit, so a stack of exactly the limit is allowed.
    if size > max_stack or size > MAX_STACK_CEILING:
        raise StackOverflow(min(max_stack, MAX_STACK_CEILING), new_size=size)
    return size


def doublings(old_size: int, new: int) -> int:
    """How many doublings one newstack made (1 normally, more for a huge frame)."""
    return new.bit_length() - old_size.bit_length()
