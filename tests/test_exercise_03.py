"""Exercise 03 (copystack): expected values worked out by hand, never by gostack's reference.

Each case below is small enough to do on paper. The reference (through the exercise's own
``_run``) must agree with the hand values, and the case generator must put every aspect's
boundary in the visible cases.
"""

from __future__ import annotations

from gostack.grade import catalog

EX = catalog.BY_ID["03-copystack"]


def _case(old: tuple[int, int, dict], new: tuple[int, int, dict], used: int) -> dict:
    return {"id": "t0", "tags": [a.tag for a in EX.aspects], "size": 0,
            "args": {"old": [old[0], old[1], sorted(old[2].items())],
                     "new": [new[0], new[1], sorted(new[2].items())], "used": used}}


def _reference(case: dict) -> dict:
    (out,) = catalog.reference_outputs(EX, [case])
    return out


def test_a_growth_to_a_higher_stack():
    # Lesson 05's first move: 2 KiB at [0xc000007800, 0xc000008000) to 4 KiB at
    # [0xc00000f000, 0xc000010000), 1,096 = 0x448 bytes in use.
    # delta = 0xc000010000 - 0xc000008000 = 0x8000 = +32,768.
    # The used part is [0xc000008000 - 0x448, 0xc000008000) = [0xc000007bb8, 0xc000008000).
    old = {0xC000007FF8: 42,            # hi - 8: copied to 0xc00000fff8
           0xC000007BB8: 7,             # hi - used, the lowest word in use: to 0xc00000fbb8
           0xC000007BB0: 9,             # hi - used - 8: not in use, not copied
           0xC000007800: 5}             # lo: not in use
    new = {0xC00000F000: 3,             # new.lo, below the copy: stays
           0xC00000FBC0: 11,            # a stale word in the destination, no word above it
           0xC00000FFF8: 13}            # a stale word the copy overwrites
    out = _reference(_case((0xC000007800, 0xC000008000, old),
                           (0xC00000F000, 0xC000010000, new), 1096))
    assert out["delta"] == 32768
    assert dict(map(tuple, out["new"])) == {0xC00000F000: 3, 0xC00000FBB8: 7,
                                            0xC00000FFF8: 42}
    assert out["old"] == [0xC000007800, 0xC000008000, [list(w) for w in sorted(old.items())]]


def test_a_growth_to_a_lower_stack_has_a_negative_delta():
    # 2 KiB at [0xc000010000, 0xc000010800) to 4 KiB at [0xc000008000, 0xc000009000):
    # delta = 0xc000009000 - 0xc000010800 = -0x7800 = -30,720; used = 0x20 = 32 bytes,
    # so [0xc0000107e0, 0xc000010800) goes to [0xc000008fe0, 0xc000009000).
    old = {0xC0000107E0: 0xC0000107F0,  # a pointer, copied unchanged (exercise 04 adjusts)
           0xC0000107D8: 1}             # just below the used part: stays behind
    new = {0xC000008FE8: 2,             # stale, inside the destination: goes
           0xC000008FD8: 4}             # just below the destination: stays
    out = _reference(_case((0xC000010000, 0xC000010800, old),
                           (0xC000008000, 0xC000009000, new), 32))
    assert out["delta"] == -30720
    assert dict(map(tuple, out["new"])) == {0xC000008FE0: 0xC0000107F0, 0xC000008FD8: 4}


def test_a_shrink_copies_to_the_top_of_the_smaller_stack():
    # shrinkstack: 8 KiB at [0xc000020000, 0xc000022000) to 4 KiB at
    # [0xc000030000, 0xc000031000); delta = 0xc000031000 - 0xc000022000 = +0xf000 = 61,440.
    # used = 0x100: [0xc000021f00, 0xc000022000) -> [0xc000030f00, 0xc000031000).
    old = {0xC000021F00: 6, 0xC000021FF8: 8, 0xC000020000: 10}
    out = _reference(_case((0xC000020000, 0xC000022000, old),
                           (0xC000030000, 0xC000031000, {}), 0x100))
    assert out["delta"] == 61440
    assert dict(map(tuple, out["new"])) == {0xC000030F00: 6, 0xC000030FF8: 8}


def test_the_visible_cases_hold_every_boundary():
    cases = EX.visible_cases()
    deltas = [c["args"]["new"][1] - c["args"]["old"][1] for c in cases]
    assert any(d < 0 for d in deltas) and any(d > 0 for d in deltas)
    sizes = [(c["args"]["old"][1] - c["args"]["old"][0],
              c["args"]["new"][1] - c["args"]["new"][0]) for c in cases]
    assert any(n < o for o, n in sizes) and any(n > o for o, n in sizes)
    lowest_used = lowest_stale = 0
    for c in cases:
        (olo, ohi, ow), (nlo, nhi, nw), used = c["args"]["old"], c["args"]["new"], c["args"]["used"]
        old, new = dict(map(tuple, ow)), dict(map(tuple, nw))
        assert ohi - used - 8 in old, "a word just below the part in use"
        assert ohi - 8 in old, "the top word"
        lowest_used += ohi - used in old
        lowest_stale += nhi - used in new and ohi - used not in old
        assert any(a < nhi - used for a in new), "a word of the new stack below the copy"
        assert all(olo <= a < ohi for a in old) and all(nlo <= a < nhi for a in new)
        assert used <= min(ohi - olo, nhi - nlo) - 16, "the copy fits both stacks"
    assert lowest_used and lowest_stale


def test_the_hidden_cases_are_states_the_runtime_reaches():
    for c in EX.hidden_cases():
        (olo, ohi, _), (nlo, nhi, _), used = c["args"]["old"], c["args"]["new"], c["args"]["used"]
        old_size, new_size = ohi - olo, nhi - nlo
        assert new_size in (2 * old_size, old_size // 2)
        if new_size < old_size:
            assert used < old_size // 4, "shrinkstack only halves a stack a quarter used"
        assert nhi <= olo or ohi <= nlo, "two stacks never overlap"
        assert set(c["tags"]) == {a.tag for a in EX.aspects}


def test_a_zero_written_past_the_stack_counts_and_one_inside_does_not():
    # Inside [lo, hi) a 0 reads like a word never written (the model's memory); at new.hi,
    # the first word past the new stack, even a 0 is a write to the neighbour's memory.
    def copystack(old, new, used):
        new.words[new.hi - 8] = 0
        new.words[new.hi] = 0
        return new.hi - old.hi

    case = _case((0xC000007800, 0xC000008000, {}), (0xC00000F000, 0xC000010000, {}), 16)
    out = EX.run({"copystack": copystack}, case)
    assert out["new"] == [[0xC000010000, 0]]
