"""arch: the go1.27.3 linux/amd64 constants (facts sheet section 1).

Derived values are checked against the formula over the named constants AND
against the number the facts sheet gives, so a wrong input and a wrong formula
both show up.
"""

from __future__ import annotations

import pytest

import gostack as gs
from gostack import arch


def test_version_and_platform():
    assert arch.GO_VERSION == gs.GO_VERSION == "go1.27.3"
    assert (arch.GOOS, arch.GOARCH) == ("linux", "amd64")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PTR_SIZE", 8),
        ("RETURN_ADDRESS_SIZE", 8),
        ("STACK_NOSPLIT_BASE", 800),
        ("STACK_SMALL", 128),
        ("STACK_BIG", 4096),
        ("STACK_GUARD_MULTIPLIER", 1),
        ("STACK_SYSTEM", 0),
        ("STACK_MIN", 2048),
        ("MIN_LEGAL_POINTER", 4096),
        ("STACK_CACHE_SIZE", 32 * 1024),
        ("NUM_STACK_ORDERS", 4),
        ("PAGE_SIZE", 8192),
        ("MAX_STACK_DEFAULT", 1_000_000_000),
    ],
)
def test_measured_constant(name, value):
    assert getattr(arch, name) == value


def test_stack_guard_is_nosplit_plus_system_plus_small():
    # stackGuard = stackNosplit + stackSystem + StackSmall, stackNosplit = base * multiplier.
    formula = (
        arch.STACK_NOSPLIT_BASE * arch.STACK_GUARD_MULTIPLIER + arch.STACK_SYSTEM + arch.STACK_SMALL
    )
    assert arch.STACK_NOSPLIT == 800
    assert arch.STACK_GUARD == formula == 800 + 0 + 128 == 928
    assert gs.STACK_GUARD == 928


def test_guard_leaves_stack_small_plus_the_nosplit_budget():
    # "Why 928 is enough": a function that passed its check may run StackSmall below
    # the guard and still have the whole NOSPLIT budget above lo.
    assert arch.STACK_GUARD - arch.STACK_SMALL == arch.STACK_NOSPLIT


def test_linker_nosplit_limit_is_budget_minus_return_address():
    assert arch.NOSPLIT_LINK_LIMIT == arch.STACK_NOSPLIT - arch.RETURN_ADDRESS_SIZE == 792


def test_fixed_stack_is_2048():
    assert arch.FIXED_STACK == gs.STACK_MIN == 2048


@pytest.mark.parametrize(
    ("stack_system", "fixed"),
    [(0, 2048), (4096, 8192), (512, 4096), (1024, 4096)],  # linux, windows, plan9, ios
)
def test_fixed_stack_rounding_per_os(stack_system, fixed):
    # Facts sheet section 1: fixedStack = stackMin + stackSystem rounded up to a power of 2.
    assert arch._round_up_pow2(arch.STACK_MIN + stack_system) == fixed


def test_sentinels():
    mask = 2**64 - 1
    assert arch.UINTPTR_MASK == mask
    assert arch.STACK_PREEMPT == 0xFFFFFFFFFFFFFADE
    assert arch.STACK_PREEMPT == mask & -1314
    assert arch.STACK_FORK == 0xFFFFFFFFFFFFFB2E
    assert arch.STACK_FORCE_MOVE == 0xFFFFFFFFFFFFFEED
    assert arch.STACK_POISON_MIN == 0xFFFFFFFFFFFFF000
    for sentinel in (arch.STACK_PREEMPT, arch.STACK_FORK, arch.STACK_FORCE_MOVE):
        assert arch.STACK_POISON_MIN < sentinel <= mask


def test_poison_patterns():
    assert arch.POISON_NEW == int.from_bytes(b"\xfd" * 8, "little")
    assert arch.POISON_OLD == int.from_bytes(b"\xfc" * 8, "little")


def test_entry_uses_40_bytes():
    # newproc1: sp = hi - 4*PtrSize - MinFrameSize(0); gostartcall pushes goexit's PC.
    assert arch.NEWPROC_RESERVE == 4 * 8 == 32
    assert arch.ENTRY_USED == 32 + 8 == 40


def test_gc_park_depth_is_136():
    # runtime.GC (48) -> gcWaitOnMark (40) -> gopark (24), each plus its return address.
    assert arch.GC_PARK_FRAMES == (48, 40, 24)
    assert arch.GC_PARK_DEPTH == (48 + 8) + (40 + 8) + (24 + 8) == 136


def test_gc_park_depth_gives_the_measured_232_bytes_in_use():
    # Experiment (d): 40 at entry + worker's 56 + the park frames = 232.
    assert arch.ENTRY_USED + 56 + arch.GC_PARK_DEPTH == 232


def test_max_stack_ceiling():
    assert arch.MAX_STACK_CEILING == 2 * 1_000_000_000
    # 2^29 fits the default limit, 2^30 does not: 512 MiB is the largest stack.
    assert 2**29 <= arch.MAX_STACK_DEFAULT < 2**30
