"""The stack check the compiler puts at the top of each function (obj6.go stacksplit).

All comparisons are unsigned 64-bit and fire on <= (JLS). ``sp`` is E, the SP at
the function's first instruction (pointing at the return address).
"""

from __future__ import annotations

from enum import Enum

from .arch import (
    G_STACKGUARD0_OFFSET,
    G_STACKGUARD1_OFFSET,
    STACK_BIG,
    STACK_SMALL,
    UINTPTR_MASK,
)


class Form(Enum):
    """Which of the three prologue sequences the compiler emits."""

    NONE = "no check (NOSPLIT)"
    SMALL = "CMPQ SP, 16(R14); JLS"
    MEDIUM = "LEAQ -(F-128)(SP), R12; CMPQ R12, 16(R14); JLS"
    HUGE = "MOVQ SP, R12; SUBQ $(F-128), R12; JCS; CMPQ R12, 16(R14); JLS"


def form(frame: int, nosplit: bool = False) -> Form:
    """The prologue form for a frame: exactly 128 is small, exactly 4096 is medium."""
    if nosplit:
        return Form.NONE
    if frame <= STACK_SMALL:
        return Form.SMALL
    if frame <= STACK_BIG:
        return Form.MEDIUM
    return Form.HUGE


def morestack_needed(sp: int, frame: int, stackguard0: int) -> bool:
    """True when the prologue of a function with a check calls morestack.

    A //go:systemstack function's check is the same against stackguard1: pass that.
    """
    if frame <= STACK_SMALL:
        return sp <= stackguard0
    if frame > STACK_BIG and sp < frame - STACK_SMALL:
        return True  # SUBQ borrowed: JCS goes straight to morestack
    return (sp - (frame - STACK_SMALL)) & UINTPTR_MASK <= stackguard0


def guard_offset(systemstack: bool = False) -> int:
    """Where in the g the check reads its guard: stackguard0 (16), or stackguard1 (24) for a
    //go:systemstack function (obj6.go stacksplit: cursym.CFunc())."""
    return G_STACKGUARD1_OFFSET if systemstack else G_STACKGUARD0_OFFSET


def slow_path(systemstack: bool = False, needs_ctxt: bool = False) -> str:
    """What the slow path calls (obj6.go stacksplit): morestackc for //go:systemstack code,
    morestack_noctxt unless the function needs its closure context in DX."""
    if systemstack:
        return "runtime.morestackc"
    return "runtime.morestack" if needs_ctxt else "runtime.morestack_noctxt"


def instructions(frame: int, nosplit: bool = False, *,
                 systemstack: bool = False) -> tuple[str, ...]:
    """The prologue's amd64 instructions as `go build -gcflags=-S` prints them (the jump
    target, the out-of-line call of slow_path(), shown as ``morestack``)."""
    f = form(frame, nosplit)
    guard = f"{guard_offset(systemstack)}(R14)"
    if f is Form.NONE:
        return ()
    if f is Form.SMALL:
        return (f"CMPQ SP, {guard}", "JLS morestack")
    if f is Form.MEDIUM:
        return (f"LEAQ -{frame - STACK_SMALL}(SP), R12", f"CMPQ R12, {guard}", "JLS morestack")
    return (
        "MOVQ SP, R12",
        f"SUBQ ${frame - STACK_SMALL}, R12",
        "JCS morestack",
        f"CMPQ R12, {guard}",
        "JLS morestack",
    )
