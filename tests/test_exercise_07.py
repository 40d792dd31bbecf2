"""Exercise 07 (the shrink rule): expected values worked out by hand from shrinkstack
(src/runtime/stack.go) and the shrink runs measured on go1.27.3 (lesson 08), against the
reference; and why the 2 KiB floor is not graded on linux/amd64."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e07_shrink import reachable

EX = catalog.BY_ID["07-shrink"]

# (size, used, expected, why)
BY_HAND = [
    (131072, 216, 65536, "1,016 < 32,768"),
    (8192, 216, 4096, "1,016 < 2,048"),
    (4096, 216, 2048, "1,016 < 1,024: the last halving, to 2 KiB"),
    (4096, 232, None, "1,032 >= 1,024: the facts sheet's probe stays at 4 KiB"),
    (8192, 1248, None, "2,048 is not under 2,048: exactly a quarter keeps it"),
    (8192, 1240, 4096, "2,040 < 2,048"),
    (8192, 1800, None, "1,800 < 2,048, but 2,600 is not"),
    (8192, 3000, None, "3,800 >= 2,048 (under half, but that is not the rule)"),
    (2048, 40, None, "the floor: 1,024 < 2,048 (and 840 >= 512 anyway)"),
    (2048, 1504, None, "2,304 >= 512"),
]


@pytest.mark.parametrize("size, used, want, why", BY_HAND,
                         ids=[f"{s}-{u}" for s, u, *_ in BY_HAND])
def test_the_reference_agrees_with_the_hand_table(size, used, want, why):
    case = {"tags": [], "args": [size, used]}
    assert catalog.reference_outputs(EX, [case]) == [want], why


@pytest.mark.parametrize("used, observed", [
    # go1.27.3, 400 calls deep (128 KiB) then back, then runtime.GC() eight times; the
    # goroutine is parked in runtime.GC with `used` bytes in use (facts sheet, d and s).
    (232, [65536, 32768, 16384, 8192, 4096, 4096, 4096, 4096]),
    (216, [65536, 32768, 16384, 8192, 4096, 2048, 2048, 2048]),
])
def test_one_halving_per_gc_matches_the_measured_runs(used, observed):
    size, sizes = 131072, []
    for _ in range(8):
        new = catalog.reference_outputs(EX, [{"tags": [], "args": [size, used]}])[0]
        size = new or size
        sizes.append(size)
    assert sizes == observed


def test_the_floor_never_decides_on_linux_amd64():
    """A 2 KiB stack would need used + 800 < 512: the quarter test keeps it first. That is why
    the floor is taught, not graded, and why a rule without it is a correct variant."""
    ref = EX.reference_functions()["shrink_size"]
    assert all(ref(2048, used) is None and not used + 800 < 2048 // 4
               for used in range(0, 2048, 8))
    assert any(r.name == "no-floor-test" for r in EX.right)


def test_every_case_is_reachable():
    cases = EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                      for c in EX.varied_cases(s)]
    for c in cases:
        assert reachable(*c["args"]), c


def test_the_visible_cases_are_the_boundaries():
    v = [(c["tags"][0], *c["args"]) for c in EX.visible_cases()]
    threshold = [(s, u) for t, s, u in v if t == "threshold"]
    assert any(u + 800 == s // 4 for s, u in threshold)  # exactly a quarter
    assert any(u + 800 == s // 4 - 8 for s, u in threshold)  # a word under
    assert any(u < s // 4 < u + 800 for s, u in threshold)  # kept by the 800 bytes
    assert ("last", 4096, 216) in v


def test_memorising_the_visible_answers_fails_every_aspect():
    """A function that knows every visible answer and guesses (None) otherwise passes the
    check cell, and fails every aspect on the hidden cases."""
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    outputs = [{"ok": known.get(json.dumps(c["args"]), None)} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]


def test_exactly_a_quarter_cannot_be_told_apart_from_the_800():
    """Why `<=` and a forgotten 800 share the threshold aspect: every state where shrinking at
    exactly a quarter goes wrong (used + 800 == size / 4) is one where forgetting the 800
    goes wrong too (used < size / 4 there), so no case could blame one and not the other."""
    ref = EX.reference_functions()["shrink_size"]
    for size in (2048 << k for k in range(7)):
        for used in range(40, size, 8):
            at_quarter = size // 2 if size >= 4096 and used + 800 <= size // 4 else None
            no_800 = size // 2 if size >= 4096 and used < size // 4 else None
            if at_quarter != ref(size, used):
                assert no_800 != ref(size, used), (size, used)
