"""newstack: how big the new stack is, and the limit (facts sheet sections 3 and 10)."""

from __future__ import annotations

import pytest

import gostack as gs
from gostack import newstack

GUARD = 928
DEFAULT = 1_000_000_000


def test_huge_frame_from_2048_jumps_three_doublings():
    # Experiment (b), depth 1: used = 104, needed = 10280 + 928 = 11208.
    # 4096 - 104 = 3992 < 11208, 8192 - 104 = 8088 < 11208, 16384 - 104 = 16280 >= 11208.
    assert newstack.new_size(2048, 104, 10280, DEFAULT) == 16384
    assert newstack.doublings(2048, 16384) == 3


@pytest.mark.parametrize(
    ("old", "used", "frame"),
    [
        (2048, 1160, 168),  # (a) depth 7: off = 104 + 6*176
        (4096, 3272, 168),  # (a) depth 19: off = 104 + 18*176
        (16384, 15416, 168),  # (a) depth 88: off = 104 + 87*176
        (2048, 1160, 80),  # (t) depth 13: off = 104 + 12*88 = 1160
        (16384, 10392, 10280),  # (b) depth 2: off = 104 + 10280 + 8
    ],
)
def test_plain_doubling_when_twice_the_size_fits(old, used, frame):
    assert 2 * old - used >= frame + GUARD  # hand check: one doubling suffices
    assert newstack.new_size(old, used, frame, DEFAULT) == 2 * old
    assert newstack.doublings(old, 2 * old) == 1


def test_fit_loop_boundary_is_strict_less():
    # The loop doubles while new - used < F + 928. From 2048 with used 104:
    # 4096 - 104 = 3992 = F + 928 for F = 3064: fits, no second doubling.
    assert newstack.new_size(2048, 104, 3064, DEFAULT) == 4096
    assert newstack.new_size(2048, 104, 3072, DEFAULT) == 8192


def test_fit_loop_accounts_for_what_is_in_use():
    # F + 928 = 1096. used 5000: 8192 - 5000 = 3192 >= 1096, one doubling;
    # used 7200: 8192 - 7200 = 992 < 1096, so it doubles again to 16384.
    assert newstack.new_size(4096, 5000, 168, DEFAULT) == 8192
    assert newstack.new_size(4096, 7200, 168, DEFAULT) == 16384


def test_limit_equal_is_allowed():
    assert newstack.new_size(16384, 15416, 168, 32768) == 32768


def test_limit_exceeded_raises_with_limit_and_new_size():
    # Experiment (e): from 32 KiB at depth 182 (off = 104 + 181*176 = 31960).
    with pytest.raises(gs.StackOverflow) as info:
        newstack.new_size(32768, 31960, 168, 32768)
    e = info.value
    assert e.limit == 32768
    assert e.new_size == 65536
    assert "runtime: goroutine stack exceeds 32768-byte limit" in str(e)
    assert str(e).endswith("fatal error: stack overflow")


def test_non_power_of_two_limit_acts_like_the_power_of_two_below():
    limit = 100_000  # between 2^16 = 65536 and 2^17 = 131072
    assert newstack.new_size(32768, 1000, 168, limit) == 65536
    with pytest.raises(gs.StackOverflow) as info:
        newstack.new_size(65536, 1000, 168, limit)
    assert info.value.new_size == 131072
    assert "exceeds 100000-byte limit" in str(info.value)


def test_default_limit_allows_512_mib_and_refuses_1_gib():
    assert newstack.new_size(2**28, 2**28 - 500, 10280, DEFAULT) == 2**29  # 512 MiB
    with pytest.raises(gs.StackOverflow) as info:
        newstack.new_size(2**29, 2**29 - 1024, 10280, DEFAULT)
    assert info.value.new_size == 2**30
    assert info.value.limit == DEFAULT
    assert "exceeds 1000000000-byte limit" in str(info.value)


def test_fit_loop_past_the_limit_also_raises():
    # A frame that would need 4 doublings from 2048 under a 8192-byte limit.
    with pytest.raises(gs.StackOverflow) as info:
        newstack.new_size(2048, 104, 10280, 8192)
    assert info.value.new_size == 16384


def test_ceiling_caps_a_limit_above_it():
    # maxstackceiling = 2e9: with SetMaxStack(4e9) a 1 GiB stack is fine, 2 GiB is not,
    # and the message names the ceiling, the smaller of the two.
    assert newstack.new_size(2**29, 2**29 - 1024, 168, 4_000_000_000) == 2**30
    with pytest.raises(gs.StackOverflow) as info:
        newstack.new_size(2**30, 2**30 - 1024, 168, 4_000_000_000)
    assert info.value.limit == 2_000_000_000
    assert "exceeds 2000000000-byte limit" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "n"), [(2048, 4096, 1), (2048, 16384, 3), (2**28, 2**29, 1)]
)
def test_doublings(old, new, n):
    assert newstack.doublings(old, new) == n
