"""copystack: the used bytes keep their distance from hi (facts sheet section 4)."""

from __future__ import annotations

import gostack as gs
from gostack.copystack import copystack
from gostack.stackalloc import Stack

OLD_LO = 0xC000010000
NEW_LO = 0xC000040000


def _old() -> Stack:
    old = Stack(OLD_LO, OLD_LO + 2048)
    # Three words in use (within 48 bytes of hi) and one left below SP.
    old.words.update({
        old.hi - 8: 0xAAAA,
        old.hi - 16: OLD_LO + 2040,  # an address into the old stack: copied verbatim
        old.hi - 48: 7,
        old.hi - 200: 0xDEAD,  # below the used region: not copied
    })
    return old


def test_copies_the_used_region_at_the_same_offset_from_hi():
    old, new = _old(), Stack(NEW_LO, NEW_LO + 4096)
    delta = copystack(old, new, 48)
    assert delta == (NEW_LO + 4096) - (OLD_LO + 2048) == 0x30800
    assert new.read(new.hi - 8) == 0xAAAA
    assert new.read(new.hi - 16) == OLD_LO + 2040  # copystack itself adjusts nothing
    assert new.read(new.hi - 48) == 7
    assert new.read(new.hi - 200) == 0  # outside the copied range
    assert set(new.words) == {new.hi - 8, new.hi - 16, new.hi - 48}


def test_the_copy_leaves_the_old_stack_alone():
    old, new = _old(), Stack(NEW_LO, NEW_LO + 4096)
    before = dict(old.words)
    copystack(old, new, 48)
    assert old.words == before


def test_stale_words_in_the_destination_range_are_overwritten():
    # memmove writes every byte of [new.hi - used, new.hi): a stale word there whose
    # source is unwritten must go; a stale word below the range stays.
    old, new = _old(), Stack(NEW_LO, NEW_LO + 4096)
    new.words.update({new.hi - 24: 0x5151, new.hi - 48: 0x5252, new.hi - 56: 0x5353})
    copystack(old, new, 48)
    assert new.read(new.hi - 24) == 0  # old.hi - 24 was never written
    assert new.read(new.hi - 48) == 7
    assert new.read(new.hi - 56) == 0x5353


def test_negative_delta():
    old = Stack(NEW_LO, NEW_LO + 2048, {NEW_LO + 2040: 1})
    new = Stack(OLD_LO, OLD_LO + 4096)
    delta = copystack(old, new, 8)
    assert delta == (OLD_LO + 4096) - (NEW_LO + 2048) < 0
    assert new.read(new.hi - 8) == 1


def test_grow_event_records_both_stacks(rt, worker, rec_big):
    g = rt.go(worker)
    lo0, hi0 = g.lo, g.hi
    g.call(rec_big)
    (grow,) = g.trace.grows
    assert (grow.old_lo, grow.old_hi) == (lo0, hi0)
    assert (grow.new_lo, grow.new_hi) == (g.lo, g.hi)
    assert grow.new_hi - grow.new_lo == grow.new_size == 16384
    assert grow.delta == g.hi - hi0
    assert grow.used == 40 + 56 + 8  # off(1) = 104: copied bytes
    assert g.trace.bytes_copied() == 104


def test_a_move_keeps_offsets_from_hi(rt):
    w = gs.Func("main.worker", frame=56, locals=(gs.Local("x", gs.SCALAR, 0),))
    g = rt.go(w)
    g.store("x", 42)
    off = g.hi - g.addr("x")
    assert off == 40 + 56  # x sits at worker's SP: hi - (40 + 56)
    g.call(gs.Func("main.recBig", frame=10280))
    assert g.hi - g.addr("x", 0) == off
    assert g.load("x", 0) == 42
    assert g.stack.read(g.hi - off) == 42
