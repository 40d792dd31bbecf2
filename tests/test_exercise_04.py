"""Exercise 04 (adjustframe): expected values worked out by hand, never by gostack's reference.

The rules, from runtime/stack.go (adjustpointers, adjustpointer) and lesson 06: a pointer
slot holding p moves to p + delta when old.lo <= p < old.hi; 0 < p < 4096 throws
"invalid pointer found on stack"; uintptr and scalar locals, and words that are not this
frame's locals, never change.
"""

from __future__ import annotations

from gostack.grade import catalog

EX = catalog.BY_ID["04-adjust"]
P, U, S = "pointer", "uintptr", "scalar"


def _case(words: dict, frame: int, local_list: list, sp: int, adj: tuple) -> dict:
    return {"id": "t0", "tags": [a.tag for a in EX.aspects], "size": 0,
            "args": {"words": sorted(words.items()), "func": ["main.worker", frame, local_list],
                     "sp": sp, "adj": list(adj)}}


def _reference(case: dict) -> dict:
    (out,) = catalog.reference_outputs(EX, [case])
    return out


# Old stack [0xc000007800, 0xc000008000) (2 KiB); the new one is [0xc00000f000, 0xc000010000),
# so delta = 0xc000010000 - 0xc000008000 = +0x8000. The frame: 64 bytes at sp = 0xc00000ff00.
OLD = (0xC000007800, 0xC000008000, 0x8000)
SP = 0xC00000FF00


def test_only_pointers_into_the_old_stack_move():
    locs = [["first", P, 0], ["last", P, 8], ["past", P, 16], ["below", P, 24],
            ["nil", P, 32], ["u", U, 40], ["x", S, 48]]
    words = {SP + 0: 0xC000007800,      # old.lo itself: inside, -> 0xc00000f800
             SP + 8: 0xC000007FF8,      # old.hi - 8: inside, -> 0xc00000fff8
             SP + 16: 0xC000008000,     # old.hi: outside (the next stack's memory)
             SP + 24: 0xC0000077F8,     # old.lo - 8: outside
             # SP + 32: never written, nil
             SP + 40: 0xC000007C00,     # a uintptr holding an old address: not in the map
             SP + 48: 42,               # a scalar
             SP + 72: 0xC000007C00}     # a caller's word (above sp + 64): not this frame's
    out = _reference(_case(words, 64, locs, SP, OLD))
    want = {**words, SP + 0: 0xC00000F800, SP + 8: 0xC00000FFF8}
    assert dict(map(tuple, out["words"])) == want
    assert out["adjusted"] == [
        ["main.worker", "first", SP, 0xC000007800, 0xC00000F800],
        ["main.worker", "last", SP + 8, 0xC000007FF8, 0xC00000FFF8]]


def test_a_move_to_a_lower_stack_subtracts():
    # Old [0xc000010000, 0xc000010800), new [0xc000008000, 0xc000009000):
    # delta = 0xc000009000 - 0xc000010800 = -0x7800; 0xc000010400 - 0x7800 = 0xc000008c00.
    sp = 0xC000008F00
    out = _reference(_case({sp: 0xC000010400, sp + 8: 0xC040000000}, 32,
                           [["p", P, 0], ["h", P, 8]], sp, (0xC000010000, 0xC000010800, -0x7800)))
    assert dict(map(tuple, out["words"])) == {sp: 0xC000008C00, sp + 8: 0xC040000000}
    assert out["adjusted"] == [["main.worker", "p", sp, 0xC000010400, 0xC000008C00]]


def test_small_pointers_throw_from_1_to_4095():
    for value, throws in ((8, True), (4095, True), (4096, False), (0, False)):
        out = _reference(_case({SP: value} if value else {}, 32, [["p", P, 0]], SP, OLD))
        assert ("raises" in out) == throws, value
        if not throws:  # 4096 and nil are outside the old stack: unchanged, no record
            assert out["words"] == ([[SP, value]] if value else []) and out["adjusted"] == []


def test_a_small_scalar_never_throws():
    out = _reference(_case({SP: 8, SP + 8: 8}, 32, [["n", S, 0], ["u", U, 8]], SP, OLD))
    assert out["words"] == [[SP, 8], [SP + 8, 8]] and out["adjusted"] == []


def _classes(cases: list[dict]) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = {}
    for c in cases:
        by.setdefault(c["tags"][0], []).append(c)
    return by


def _values(case: dict, kind: str) -> list[int]:
    a = case["args"]
    words = dict(map(tuple, a["words"]))
    return [words.get(a["sp"] + off, 0) for _, k, off in a["func"][2] if k == kind]


def test_the_visible_cases_hold_every_boundary():
    by = _classes(EX.visible_cases())
    assert set(by) == {a.tag for a in EX.aspects}
    for c in by["move"]:
        lo, hi, _ = c["args"]["adj"]
        assert {lo, hi - 8} <= set(_values(c, P))
    assert any(c["args"]["adj"][2] < 0 for c in by["move"])
    assert any(c["args"]["adj"][2] > 0 for c in by["move"])
    for c in by["outside"]:
        lo, hi, _ = c["args"]["adj"]
        assert {0, hi, lo - 8} <= set(_values(c, P))
    for c in by["map"]:
        lo, hi, _ = c["args"]["adj"]
        assert any(lo <= v < hi for v in _values(c, U))
        assert any(lo <= v < hi for v in _values(c, S))
    small = [min(v for v in _values(c, P) if v) for c in by["invalid"]]
    assert 4096 in small and any(0 < v < 4096 for v in small)


def test_cases_keep_each_rule_to_its_own_class():
    """Nil only where nil is judged; small non-pointer values only where kinds are."""
    for c in EX.visible_cases() + EX.hidden_cases():
        cls = c["tags"][0]
        if cls != "outside":
            assert 0 not in _values(c, P), c["id"]
        if cls != "map":
            assert all(v >= 4096 for v in _values(c, U) + _values(c, S)), c["id"]
        a = c["args"]
        mine = {a["sp"] + off for _, _, off in a["func"][2]}
        assert any(addr not in mine and addr > a["sp"] for addr, _ in a["words"]), \
            "a caller's word above the frame"
