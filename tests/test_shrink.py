"""shrink_size: halve when in-use + 800 < size/4, never below 2048 (facts sheet section 6)."""

from __future__ import annotations

import pytest

from gostack.shrink import shrink_size

D_USED = 232  # experiment (d): 40 + 56 + (48+8) + (40+8) + (24+8)
S_USED = 216  # experiment (s): 40 + 40 + 136


@pytest.mark.parametrize("size", [131072, 65536, 32768, 16384, 8192])
def test_experiment_d_halves_down_to_4096(size):
    assert D_USED + 800 < size // 4
    assert shrink_size(size, D_USED) == size // 2


def test_experiment_d_stops_at_4096():
    assert D_USED + 800 == 1032 >= 4096 // 4
    assert shrink_size(4096, D_USED) is None


def test_experiment_s_goes_one_step_further():
    assert S_USED + 800 == 1016 < 1024
    assert shrink_size(4096, S_USED) == 2048
    assert shrink_size(2048, S_USED) is None


def test_quarter_rule_is_strict():
    # 8192/4 = 2048: used + 800 == 2048 does not shrink, one word less does.
    assert shrink_size(8192, 1248) is None
    assert shrink_size(8192, 1240) == 4096


@pytest.mark.parametrize("used", [0, 8, 100])
def test_never_below_2048(used):
    assert shrink_size(2048, used) is None


def test_large_stacks():
    assert shrink_size(2**29, 2**20) == 2**28
    assert shrink_size(2**29, 2**27) is None  # 2^27 + 800 >= 2^27
