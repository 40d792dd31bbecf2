"""The checks catch deliberate mutants, and pass on the reference stages.

A check that passes on every mutant would test nothing; a check that fails on the
reference would be wrong. Both directions are asserted here.
"""

from __future__ import annotations

import pytest
from mutants import (
    CAUGHT_BY,
    CHECKS,
    MUTANTS,
    measured_growth_failures,
    pointer_failures,
    runtime_factory,
    shrink_no_floor,
)

import gostack as gs
from gostack.shrink import shrink_size

REFERENCE = runtime_factory(gs.REFERENCE)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_reference_passes(check):
    assert CHECKS[check](REFERENCE) == []


def test_every_mutant_has_a_verdict():
    assert set(CAUGHT_BY) == set(MUTANTS)
    assert all(set(checks) <= set(CHECKS) for checks in CAUGHT_BY.values())


@pytest.mark.parametrize(
    ("mutant", "check"),
    [(m, c) for m, checks in CAUGHT_BY.items() for c in checks],
)
def test_mutant_is_caught(mutant, check):
    failures = CHECKS[check](MUTANTS[mutant].make)
    assert failures, f"{check} did not notice {mutant}"


@pytest.mark.parametrize("mutant", sorted(m for m in MUTANTS if not MUTANTS[m].equivalent))
def test_every_non_equivalent_mutant_is_caught_by_some_check(mutant):
    assert CAUGHT_BY[mutant]
    assert any(CHECKS[c](MUTANTS[mutant].make) for c in CHECKS)


def test_the_mutants_really_replace_their_stage():
    rt = MUTANTS["no_adjust"].make()
    assert rt.stages.adjustframe is not gs.REFERENCE.adjustframe
    assert rt.stages.prologue is gs.REFERENCE.prologue


@pytest.mark.parametrize(
    ("mutant", "experiments"),
    [
        # Facts sheet section 10, "Which simplifications the data rules out"
        # (variants.py), plus a40, the 40-byte-entry derivation, where it applies.
        ("no_return_address", {"a", "a40", "c", "t"}),
        ("strict_less", {"a", "t"}),
        ("single_doubling", {"b"}),
        # Not in the table: one word less of guard only matters at the two
        # equality cases, depth 88 of (a) and 734 of (t).
        ("guard_off_by_one", {"a", "t"}),
    ],
)
def test_growth_mutants_are_contradicted_by_the_same_experiments_as_in_go(mutant, experiments):
    failures = measured_growth_failures(MUTANTS[mutant].make)
    assert {f[1 : f.index(")")] for f in failures} == experiments


def test_no_return_address_mutant_is_coherent():
    # It must be caught by where it grows, not by losing locals in a copy.
    assert pointer_failures(MUTANTS["no_return_address"].make) == []


def test_single_doubling_is_caught_in_numbers():
    # (b) under the Go 1.17 sizing: three moves at depth 1 (4, 8, 16 KiB), not one.
    g = MUTANTS["single_doubling"].make().go(gs.Func("main.worker", frame=56))
    g.call(gs.Func("main.recBig", frame=10280))
    assert g.trace.growth_points() == [(1, 4096), (1, 8192), (1, 16384)]


def test_shrink_no_floor_is_equivalent_on_linux_amd64():
    # The 1/4 rule needs used + 800 < S/4, i.e. S > 3200, i.e. S >= 4096 for a power
    # of two, so S/2 >= 2048: the floor test can never be the one that refuses.
    # No program can tell this mutant apart; shrink_half_rule_no_floor shows that
    # the floor check does catch a shrink that goes under 2 KiB.
    assert MUTANTS["shrink_no_floor"].equivalent
    assert not CAUGHT_BY["shrink_no_floor"]
    for k in range(11, 31):
        size = 1 << k
        boundary = size // 4 - 800
        for used in {0, 8, 216, 232, boundary - 8, boundary, boundary + 8, size // 2, size}:
            if used >= 0:
                assert shrink_no_floor(size, used) == shrink_size(size, used), (size, used)
