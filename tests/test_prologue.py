"""prologue: the three check sequences of obj6.go stacksplit (facts sheet section 2).

All comparisons are unsigned and fire on <= (JLS). ``sp`` is E, the SP at the
function's first instruction.
"""

from __future__ import annotations

import pytest

from gostack import prologue
from gostack.prologue import Form

MASK = 2**64 - 1
LO = 0xC000000000  # a realistic stack base; the guard is lo + 928
GUARD = LO + 928


@pytest.mark.parametrize(
    ("frame", "form"),
    [
        (0, Form.SMALL),
        (64, Form.SMALL),
        (128, Form.SMALL),  # exactly StackSmall: small
        (136, Form.MEDIUM),
        (168, Form.MEDIUM),
        (4096, Form.MEDIUM),  # exactly StackBig: medium (the "≥ StackBig" comment is stale)
        (4104, Form.HUGE),
        (10280, Form.HUGE),
    ],
)
def test_form_boundaries(frame, form):
    assert prologue.form(frame) is form


def test_nosplit_has_no_check():
    assert prologue.form(10280, nosplit=True) is Form.NONE
    assert prologue.form(16, nosplit=True) is Form.NONE
    assert prologue.instructions(16, nosplit=True) == ()


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        # Measured `go build -gcflags=-S` output (facts sheet sections 2 and 10).
        (64, ("CMPQ SP, 16(R14)", "JLS morestack")),
        (128, ("CMPQ SP, 16(R14)", "JLS morestack")),
        (136, ("LEAQ -8(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")),
        (168, ("LEAQ -40(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")),
        (616, ("LEAQ -488(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")),
        (4096, ("LEAQ -3968(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")),
        (4104, ("MOVQ SP, R12", "SUBQ $3976, R12", "JCS morestack",
                "CMPQ R12, 16(R14)", "JLS morestack")),
        (10280, ("MOVQ SP, R12", "SUBQ $10152, R12", "JCS morestack",
                 "CMPQ R12, 16(R14)", "JLS morestack")),
    ],
)
def test_instructions(frame, expected):
    assert prologue.instructions(frame) == expected


# ---- the <= equality cases ---------------------------------------------------


@pytest.mark.parametrize("frame", [0, 64, 80, 128])
def test_small_fires_when_sp_equals_guard_not_one_byte_above(frame):
    assert prologue.morestack_needed(GUARD, frame, GUARD)
    assert not prologue.morestack_needed(GUARD + 1, frame, GUARD)
    assert prologue.morestack_needed(GUARD - 1, frame, GUARD)


@pytest.mark.parametrize("frame", [136, 168, 616, 4096, 4104, 10280])
def test_medium_and_huge_fire_when_e_minus_f_plus_128_equals_guard(frame):
    at = GUARD + (frame - 128)  # E - (F - 128) == guard exactly
    assert prologue.morestack_needed(at, frame, GUARD)
    assert not prologue.morestack_needed(at + 1, frame, GUARD)
    assert prologue.morestack_needed(at - 1, frame, GUARD)


def test_medium_168_boundary_in_numbers():
    # recA: LEAQ -40(SP), so E = guard + 40 is the last E that still calls morestack.
    assert prologue.morestack_needed(GUARD + 40, 168, GUARD)
    assert not prologue.morestack_needed(GUARD + 41, 168, GUARD)


def test_small_frames_do_not_subtract_anything():
    # F = 128 compares E itself; F = 136 compares E - 8.
    assert not prologue.morestack_needed(GUARD + 8, 128, GUARD)
    assert prologue.morestack_needed(GUARD + 8, 136, GUARD)


# ---- unsigned arithmetic: the huge form's borrow branch, wraparound --------------


def test_huge_underflow_goes_to_morestack_even_though_the_wrapped_value_compares_high():
    frame, sp, guard = 10280, 100, 0
    wrapped = (sp - (frame - 128)) & MASK
    assert wrapped == 2**64 - 10052 and wrapped > guard  # CMPQ/JLS alone would not fire
    assert prologue.morestack_needed(sp, frame, guard)  # JCS does


def test_huge_borrow_boundary():
    # SUBQ $10152 borrows iff sp < 10152. At sp == 10152 the result is 0, which is
    # <= any guard; at 10153 the result 1 is above a zero guard.
    assert prologue.morestack_needed(10151, 10280, 0)
    assert prologue.morestack_needed(10152, 10280, 0)
    assert not prologue.morestack_needed(10153, 10280, 0)


def test_medium_form_has_no_borrow_check_and_wraps_high():
    # LEAQ just wraps: E < F - 128 gives a huge R12, above a small guard, so no call.
    for frame in (136, 4096):
        sp = frame - 128 - 8
        assert (sp - (frame - 128)) & MASK == 2**64 - 8
        assert not prologue.morestack_needed(sp, frame, 1000)


def test_comparison_is_unsigned_at_the_top_of_the_address_space():
    top = MASK - 7
    assert not prologue.morestack_needed(top, 64, GUARD)
    assert prologue.morestack_needed(top, 64, MASK)


@pytest.mark.parametrize("frame", [0, 128, 136, 4096, 4104, 10280])
def test_stack_preempt_makes_every_checked_prologue_fire(frame):
    preempt = 0xFFFFFFFFFFFFFADE  # stackPreempt: above any real SP
    for sp in (LO + 2048 - 40, LO + 2**29, 0x7FFF_FFFF_F000):
        assert prologue.morestack_needed(sp, frame, preempt)
