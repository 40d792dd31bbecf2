"""Exercise 01 (the prologue check): expected values worked out by hand from the instructions
`go build -gcflags=-S` prints (lesson 03), against the reference, and the case generator's
promises (reachable states, boundary cases in every aspect)."""

from __future__ import annotations

import json

import pytest

from gostack.grade import catalog

EX = catalog.BY_ID["01-prologue"]
LO = 0xC000002000
G = LO + 928  # g.stackguard0 = lo + stackGuard
PREEMPT = 0xFFFFFFFFFFFFFADE  # stackPreempt = uintptrMask & -1314
LOW = 0x1000 + 928  # lesson 03's made-up stack at 0x1000

# (sp, frame, stackguard0, morestack?, why)
BY_HAND = [
    (G, 56, G, True, "CMPQ SP, 16(R14); JLS: SP equal to the guard jumps (below or same)"),
    (G + 8, 56, G, False, "one word above the guard"),
    (G + 16, 56, G, False, "a small frame compares SP itself, not SP - 56"),
    (G - 8, 128, G, True, "128 is still small: SP below the guard"),
    (G + 120, 128, G, False, "128 is small: no subtraction, SP is above"),
    (G + 8, 136, G, True, "136 is medium: LEAQ -8(SP), R12 = G, equal"),
    (G + 40, 168, G, True, "LEAQ -40(SP): R12 = G"),
    (G + 48, 168, G, False, "LEAQ -40(SP): R12 = G + 8"),
    (G + 168, 168, G, False, "R12 = G + 128: subtracting the whole 168 would say yes"),
    (G + 3968, 4096, G, True, "4096 is medium: LEAQ -3968(SP), R12 = G"),
    (G + 3976, 4096, G, False, "R12 = G + 8"),
    (G + 3976, 4104, G, True, "4104 is huge: SUBQ $3976, R12 = G"),
    (G + 10152, 10280, G, True, "SUBQ $10152: R12 = G"),
    (G + 10160, 10280, G, False, "R12 = G + 8"),
    (0x1F00, 10280, LOW, True, "0x1F00 = 7,936 < 10,152: SUBQ borrows, JCS"),
    (LOW + 10152 + 256, 10280, LOW, False, "no borrow, R12 = guard + 256"),
    (G + 4096, 56, PREEMPT, True, "stackPreempt is above every SP (unsigned)"),
    (G + 20000, 10280, PREEMPT, True, "R12 = SP - 10,152, still below stackPreempt"),
]


@pytest.mark.parametrize("sp, frame, guard, want, why", BY_HAND,
                         ids=[f"{f}-{w}-{i}" for i, (_, f, _, w, _) in enumerate(BY_HAND)])
def test_the_reference_agrees_with_the_hand_table(sp, frame, guard, want, why):
    case = {"tags": [], "args": [sp, frame, guard]}
    assert catalog.reference_outputs(EX, [case]) == [want], why


def _d(case: dict) -> int:
    """The compared value (SP, or SP - (F - 128)) minus the guard."""
    sp, frame, guard = case["args"]
    return sp - max(0, frame - 128) - guard


def _all_cases() -> list[dict]:
    return EX.visible_cases() + EX.hidden_cases() + [c for s in range(5)
                                                     for c in EX.varied_cases(s)]


def test_every_case_is_a_state_the_runtime_reaches():
    """SP above StackBig (obj6.go: "the runtime guarantees SP > StackBig"), inside a stack
    whose guard is lo + 928 (lo page-aligned), or stackPreempt."""
    for c in _all_cases():
        sp, frame, guard = c["args"]
        assert sp > 4096 and sp % 8 == 0 and frame % 8 == 0 and frame >= 0, c
        if guard != PREEMPT:
            lo = guard - 928
            assert lo % 0x1000 == 0 and sp >= lo + 8, c


def test_the_visible_cases_are_the_boundaries():
    v = EX.visible_cases()
    equal = [c for c in v if "equal" in c["tags"]]
    # exactly at the guard in all three forms, and one word above
    assert {"small", "medium", "huge"} <= {
        "small" if c["args"][1] <= 128 else "medium" if c["args"][1] <= 4096 else "huge"
        for c in equal if _d(c) == 0}
    assert any(_d(c) == 8 for c in equal)
    small = [c for c in v if "small" in c["tags"]]
    assert any(16 <= _d(c) <= c["args"][1] for c in small)  # within the frame, above
    large = [c for c in v if "large" in c["tags"]]
    assert any(16 <= _d(c) <= 128 and c["args"][1] <= 4096 for c in large)
    assert any(16 <= _d(c) <= 128 and c["args"][1] > 4096 for c in large)
    borrow = [c for c in v if "borrow" in c["tags"]]
    assert any(c["args"][0] < c["args"][1] - 128 for c in borrow)
    assert any(c["args"][2] == PREEMPT for c in v if "preempt" in c["tags"])


def test_no_visible_boundary_outside_its_aspect():
    """Cases at d = 0 or d = +8 belong to the boundary aspect only, so a `<` or an
    off-by-a-word guard is blamed on that rule and nowhere else."""
    for c in EX.visible_cases() + EX.hidden_cases():
        if c["args"][2] != PREEMPT and _d(c) in (0, 8) and "borrow" not in c["tags"]:
            assert c["tags"] == ["equal"], c


def test_memorising_the_visible_answers_fails_every_aspect():
    """A function that knows every visible answer and guesses (False) otherwise passes the
    check cell, and fails every aspect on the hidden cases."""
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    outputs = [{"ok": known.get(json.dumps(c["args"]), False)} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]


def test_4096_is_medium_but_no_reachable_state_shows_it():
    """Treating exactly 4,096 as huge adds the carry check, which can only fire when
    SP < 4,096 - 128: below what the runtime allows SP to be. So it is taught, not graded."""
    ref = EX.reference_functions()["morestack_needed"]

    def as_huge(sp, frame, guard):
        return sp < frame - 128 or (sp - (frame - 128)) % 2**64 <= guard

    for lo in (0x1000, 0x2000, LO):
        guard = lo + 928
        for sp in range(max(4104, guard - 128), guard + 4400, 8):
            assert ref(sp, 4096, guard) == as_huge(sp, 4096, guard), (lo, sp)
    assert ref(0x800, 4096, 0x400) != as_huge(0x800, 4096, 0x400)  # SP below StackBig only


def test_a_cases_comment_follows_the_language():
    from gostack import i18n

    above = {"tags": ["large"], "args": [G + 48, 168, G], "size": 168}
    below = {"tags": ["small"], "args": [G - 8, 56, G], "size": 56}
    preempt = {"tags": ["preempt"], "args": [G + 4096, 56, PREEMPT], "size": 56}
    assert EX.call_text(above).endswith("  # SP is 48 bytes above stackguard0")
    assert EX.call_text(below).endswith("  # SP is 8 bytes below stackguard0")
    with i18n.using("ko"):
        assert EX.call_text(above) == (f"morestack_needed(sp={G + 48:#x}, frame=168, "
                                       f"stackguard0={G:#x})  # SP가 stackguard0보다 48바이트 위")
        assert EX.call_text(below).endswith("  # SP가 stackguard0보다 8바이트 아래")
        assert EX.call_text(preempt).endswith("STACK_PREEMPT)  # stackguard0 = stackPreempt")
