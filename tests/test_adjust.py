"""adjustframe: only stack-map pointer slots holding old-stack addresses move (section 5)."""

from __future__ import annotations

import pytest

import gostack as gs
from gostack.adjust import AdjustInfo, FrameRef, adjustframe, no_adjust

OLD_LO, OLD_HI = 0xC000010000, 0xC000010800
DELTA = 0x30000
HEAP = 0xC000100000
SP = 0xC000040000  # the frame's SP on the new stack


def _func() -> gs.Func:
    return gs.Func("main.f", frame=64, locals=(
        gs.Local("p", gs.POINTER, 0),
        gs.Local("u", gs.UINTPTR, 8),
        gs.Local("n", gs.SCALAR, 16),
        gs.Local("h", gs.POINTER, 24),
        gs.Local("z", gs.POINTER, 32),
    ))


def _run(values: dict[str, int], adjuster=adjustframe):
    fn = _func()
    words = {SP + fn.local(k).offset: v for k, v in values.items()}
    done = adjuster(words, FrameRef(fn, SP), AdjustInfo(OLD_LO, OLD_HI, DELTA))
    return {k: words.get(SP + fn.local(k).offset, 0) for k in values}, done


def test_only_the_pointer_into_the_old_stack_moves():
    target = OLD_LO + 0x100
    got, done = _run({"p": target, "u": target, "n": target, "h": HEAP, "z": 0})
    assert got == {"p": target + DELTA, "u": target, "n": target, "h": HEAP, "z": 0}
    assert done == [gs.Adjusted("main.f", "p", SP + 0, target, target + DELTA)]


@pytest.mark.parametrize(
    ("value", "moves"),
    [(OLD_LO, True), (OLD_HI - 1, True), (OLD_HI, False), (OLD_LO - 8, False)],
)
def test_range_is_half_open(value, moves):
    got, _ = _run({"p": value})
    assert got["p"] == (value + DELTA if moves else value)


def test_negative_delta():
    fn = _func()
    words = {SP: OLD_LO + 16}
    adjustframe(words, FrameRef(fn, SP), AdjustInfo(OLD_LO, OLD_HI, -0x8000))
    assert words[SP] == OLD_LO + 16 - 0x8000


def test_unwritten_pointer_slot_is_nil_and_stays_unwritten():
    fn = _func()
    words: dict[int, int] = {}
    assert adjustframe(words, FrameRef(fn, SP), AdjustInfo(OLD_LO, OLD_HI, DELTA)) == []
    assert words == {}


@pytest.mark.parametrize("bad", [1, 8, 4095])
def test_small_nonzero_pointer_is_invalid(bad):
    with pytest.raises(gs.InvalidPointer) as info:
        _run({"p": bad})
    e = info.value
    assert isinstance(e, gs.RuntimeThrow)
    assert (e.func, e.addr, e.value) == ("main.f", SP, bad)
    assert str(e).splitlines() == [
        f"runtime: bad pointer in frame main.f at {SP:#x}: {bad:#x}",
        "fatal error: invalid pointer found on stack",
    ]


def test_minlegalpointer_itself_is_legal():
    got, _ = _run({"p": 4096})
    assert got["p"] == 4096


@pytest.mark.parametrize("kind_name", ["u", "n"])
def test_small_value_in_a_non_pointer_slot_is_fine(kind_name):
    got, done = _run({kind_name: 5})
    assert got[kind_name] == 5 and done == []


def test_no_adjust_changes_nothing():
    target = OLD_LO + 0x100
    got, done = _run({"p": target, "u": target}, adjuster=no_adjust)
    assert got == {"p": target, "u": target} and done == []
