"""Exercise 02 (newstack's new size): expected values worked out by hand from the runtime's
rule (src/runtime/stack.go newstack) and lesson 04's measured runs, against the reference,
and the case generator's promise that every case is a state in which newstack runs."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e02_newstack import reachable

EX = catalog.BY_ID["02-newstack"]
GB = 1_000_000_000


def size(n: int) -> dict:
    return {"size": n}


def overflow(limit: int) -> dict:
    return {"raises": f"StackOverflow({limit})"}


# (old_size, used, frame, max_stack, expected, why)
BY_HAND = [
    (2048, 1144, 168, GB, size(4096), "4,096 - 1,144 = 2,952 >= 168 + 928"),
    (2048, 1168, 2000, GB, size(4096), "4,096 - 1,168 = 2,928 = 2,000 + 928: fits exactly"),
    (2048, 1176, 2000, GB, size(8192), "2,920 < 2,928; 8,192 - 1,176 = 7,016"),
    (2048, 1248, 2000, GB, size(8192), "2,848 < 2,928 (but >= 2,000 + 800)"),
    (4096, 1600, 7000, GB, size(16384), "8,192 >= 7,928 but 8,192 - 1,600 = 6,592 < 7,928"),
    (2048, 88, 10272, GB, size(16384), "lesson 04's recBig: 4,008 and 8,104 < 11,200"),
    (2048, 1144, 10280, GB, size(16384), "15,240 >= 11,208 only at 16 KiB"),
    (16384, 15424, 168, 32768, size(32768), "a stack of exactly max_stack is allowed"),
    (32768, 31800, 168, 32768, overflow(32768), "lesson 04: 65,536 > 32,768 (call 190)"),
    (1 << 29, (1 << 29) - 960, 168, GB, overflow(GB), "1 GiB = 1,073,741,824 > 1e9"),
    (1 << 29, (1 << 29) - 960, 168, 1 << 30, size(1 << 30), "exactly SetMaxStack(1 GiB)"),
    (1 << 30, (1 << 30) - 960, 168, 4 * GB, overflow(2 * GB), "2 GiB > the 2e9 ceiling"),
    (1 << 29, (1 << 29) - 960, 168, 4 * GB, size(1 << 30), "1 GiB <= min(4e9, 2e9)"),
]


@pytest.mark.parametrize("old, used, frame, limit, want, why", BY_HAND,
                         ids=[f"{o}-{u}-{f}" for o, u, f, *_ in BY_HAND])
def test_the_reference_agrees_with_the_hand_table(old, used, frame, limit, want, why):
    assert reachable(old, used, frame, limit), why
    case = {"tags": [], "args": [old, used, frame, limit]}
    assert catalog.reference_outputs(EX, [case]) == [want], why


def test_reachable_means_the_check_failed():
    # lesson 04's first growth: hi - E = 1,096 and a 160-byte frame on 2 KiB: the check
    # compares E - 32 = lo + 920 <= lo + 928 (it failed); 8 bytes more room and it passes.
    assert reachable(2048, 1096, 160, GB)
    assert not reachable(2048, 2048 - 968, 160, GB)  # room 968 = 160 + 808: check passes
    assert not reachable(2048, 2168, 1000, GB)  # used > old_size: the old case
    assert not reachable(2048, 2040 + 8, 0, GB) and not reachable(2048, 32, 0, GB)


def test_every_case_is_a_state_in_which_newstack_runs():
    cases = EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                      for c in EX.varied_cases(s)]
    for c in cases:
        assert reachable(*c["args"]), c


def _need(c):
    """(what must fit below E, the room below E after one doubling)"""
    old, used, frame, _ = c["args"]
    return frame + 928, 2 * old - used


def test_the_visible_cases_are_the_boundaries():
    v = EX.visible_cases()
    once = [c for c in v if "once" in c["tags"]]
    assert any(_need(c)[0] == _need(c)[1] for c in once)  # fits exactly
    fit = [c for c in v if "fit" in c["tags"]]
    assert any(_need(c)[1] == _need(c)[0] - 8 for c in fit)  # one word short
    assert any(c["args"][2] + 800 <= _need(c)[1] < _need(c)[0] for c in fit)  # 800 would do
    assert any(2 * c["args"][0] >= _need(c)[0] > _need(c)[1] for c in fit)  # used matters
    exact = [c for c in v if "exact" in c["tags"]]
    assert all(2 * c["args"][0] == c["args"][3] for c in exact)
    limit = [c for c in v if "limit" in c["tags"]]
    assert any(c["args"][3] > 2 * GB and 2 * c["args"][0] > 2 * GB for c in limit)


def test_memorising_the_visible_answers_fails_every_aspect():
    """A function that knows every visible answer and raises otherwise passes the check
    cell, and fails every aspect on the hidden cases."""
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    guess = {"raises": "RecursionError"}
    outputs = [{"ok": known.get(json.dumps(c["args"]), guess)} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]
