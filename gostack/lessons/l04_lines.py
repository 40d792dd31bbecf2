"""Lesson 04's printed sentences, in the language in use: the lesson's code cells print
these (one code cell for both editions; l04_newstack holds the model and the figures)."""

from __future__ import annotations

from ..errors import StackOverflow
from ..i18n import _


def frames_line(label: str, frames: dict) -> str:
    """The recording's label and the running example's frames."""
    return _("{label} - frames: {frames}").format(label=label, frames=frames)


def grows_line(grow, instead: bool = False) -> str:
    """One growth: ``call 7: main.recA grows the stack 2,048 -> 4,096 B``."""
    if instead:
        return _("on a goroutine, call {call} grows the stack {old:,} -> {new:,} B "
                 "instead").format(call=grow.call_index, old=grow.old_size, new=grow.new_size)
    return _("call {call}: {func} grows the stack {old:,} -> {new:,} B").format(
        call=grow.call_index, func=grow.func, old=grow.old_size, new=grow.new_size)


def g0_line(call: int, e_below_hi: int, error: Exception) -> str:
    """recA on g0: where its check fails, and the runtime's own message (English, as Go's)."""
    return _("recA on g0: call {call}'s check fails, E = hi - {e:,}; morestack "
             "dies:").format(call=call, e=e_below_hi) + f"\n{error}"


def exit_line(label: str, status: int) -> str:
    return label + " " + _("(exit status {status})").format(status=status)


def overflow_at_line(call: int, func: str) -> str:
    return _("at call {call:,} in {func}").format(call=call, func=func)


def copied_line(cost, frame: int = 160) -> str:
    """The copies' total and per call beside what one call uses (frame + return address)."""
    return _("{copied:,} B copied for {calls:,} calls: {per_call:.0f} B per call; each call "
             "uses {uses} B of stack").format(copied=cost.total_copied, calls=cost.call[-1],
                                              per_call=cost.per_call, uses=frame + 8)


def overflow_lines(e: StackOverflow) -> list[str]:
    """The runtime's overflow message (Go's words) with the addresses replaced by offsets,
    and the kit's note on them in the language in use."""
    note = _("(sp = hi-{below:,}, a {size:,}-byte stack)").format(below=e.hi - e.sp,
                                                                   size=e.size)
    return [
        f"runtime: goroutine stack exceeds {e.limit}-byte limit",
        f"runtime: sp=0x… stack=[0x…, 0x…]   {note}",
        "fatal error: stack overflow",
    ]
