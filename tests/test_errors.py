"""Bad input: each misuse raises its typed error with a message naming the bad thing."""

from __future__ import annotations

import pytest

import gostack as gs


def _worker() -> gs.Func:
    return gs.Func("main.worker", frame=56, locals=(
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8),
        gs.Local("u", gs.UINTPTR, 16), gs.Local("n", gs.SCALAR, 24)))


def test_error_hierarchy():
    for cls in (gs.FrameSizeError, gs.LocalError, gs.LocalKindError, gs.EscapeError):
        assert issubclass(cls, gs.ProgramError) and issubclass(cls, ValueError)
    for cls in (gs.StackOverflow, gs.InvalidPointer, gs.NosplitOverflow):
        assert issubclass(cls, gs.RuntimeThrow)
    assert issubclass(gs.EmptyStackError, IndexError)
    assert issubclass(gs.GoroutineExited, RuntimeError)
    for cls in (gs.ProgramError, gs.RuntimeThrow, gs.EmptyStackError, gs.GoroutineExited):
        assert issubclass(cls, gs.GostackError)


# ---- frames ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (-8, ["main.f", ">= 0", "-8"]),
        (12, ["main.f", "multiple of 8", "12"]),
        (True, ["main.f", "must be an int", "bool"]),
        ("64", ["main.f", "must be an int", "str", "'64'"]),
        (64.0, ["main.f", "must be an int", "float"]),
    ],
)
def test_bad_frame(frame, words):
    with pytest.raises(gs.FrameSizeError) as info:
        gs.Func("main.f", frame=frame)
    for w in words:
        assert w in str(info.value)


def test_empty_function_name():
    with pytest.raises(gs.FrameSizeError, match="non-empty name"):
        gs.Func("", frame=8)


# ---- locals ---------------------------------------------------------------------


def test_unknown_local_names_it_and_lists_the_known_ones(rt):
    g = rt.go(_worker())
    with pytest.raises(gs.LocalError) as info:
        g.load("y")
    msg = str(info.value)
    assert "main.worker" in msg and "'y'" in msg
    assert "x, p, u, n" in msg


def test_local_outside_the_frame():
    # frame 24: words at offsets 0 and 8; 16 is the saved BP.
    gs.Func("main.f", frame=24, locals=(gs.Local("a", gs.SCALAR, 8),))
    with pytest.raises(gs.LocalError) as info:
        gs.Func("main.f", frame=24, locals=(gs.Local("a", gs.SCALAR, 16),))
    msg = str(info.value)
    assert "main.f" in msg and "'a'" in msg and "16" in msg and "24-byte" in msg


def test_local_in_a_frameless_function():
    with pytest.raises(gs.LocalError, match="'a'"):
        gs.Func("main.leaf", frame=0, locals=(gs.Local("a", gs.SCALAR, 0),))


@pytest.mark.parametrize("offset", [-8, 4])
def test_bad_local_offset(offset):
    # Negative or misaligned offsets: a ProgramError naming the local and the offset.
    with pytest.raises(gs.ProgramError) as info:
        gs.Local("a", gs.SCALAR, offset)
    assert "'a'" in str(info.value) and str(offset) in str(info.value)


def test_duplicate_local_names():
    with pytest.raises(gs.LocalError) as info:
        gs.Func("main.f", frame=64, locals=(
            gs.Local("a", gs.SCALAR, 0), gs.Local("a", gs.POINTER, 8)))
    assert "main.f" in str(info.value) and "two locals named 'a'" in str(info.value)


def test_local_kind_must_be_a_kind():
    with pytest.raises(gs.LocalError, match="'a'"):
        gs.Local("a", "pointer", 0)  # type: ignore[arg-type]


def test_locals_must_be_local_objects():
    with pytest.raises(gs.LocalError, match="main.f"):
        gs.Func("main.f", frame=64, locals=(("a", gs.SCALAR, 0),))  # type: ignore[arg-type]


@pytest.mark.parametrize("dst", ["u", "n"])
def test_take_addr_into_a_non_pointer_local(rt, dst):
    g = rt.go(_worker())
    with pytest.raises(gs.LocalKindError) as info:
        g.take_addr(dst, "x")
    msg = str(info.value)
    assert f"main.worker.{dst}" in msg and "not a pointer" in msg
    assert g.load(dst) == 0  # nothing was stored


@pytest.mark.parametrize("value", [-1, 2**64, True, "0x10", 1.5])
def test_store_of_a_value_that_is_not_a_64_bit_word(rt, value):
    g = rt.go(_worker())
    with pytest.raises(gs.ProgramError) as info:
        g.store("n", value)
    assert "main.worker.n" in str(info.value)


# ---- escapes --------------------------------------------------------------------


def test_pointer_into_another_goroutines_stack(rt):
    a, b = rt.go(_worker()), rt.go(_worker())
    target = b.addr("x")
    with pytest.raises(gs.EscapeError) as info:
        a.store("p", target)
    msg = str(info.value)
    assert "main.worker.p" in msg and "another stack" in msg and f"{target:#x}" in msg
    assert a.load("p") == 0


def test_pointer_into_a_younger_frame(rt):
    g = rt.go(_worker())
    g.call(gs.Func("main.callee", frame=24, locals=(gs.Local("y", gs.SCALAR, 0),)))
    with pytest.raises(gs.EscapeError) as info:
        g.take_addr("p", "y", frame=0, src_frame=1)
    msg = str(info.value)
    assert "main.worker.p" in msg and "below its own frame" in msg
    assert f"{g.addr('y'):#x}" in msg


def test_pointer_into_an_older_frame_is_fine(rt):
    g = rt.go(_worker())
    g.call(gs.Func("main.callee", frame=24, locals=(gs.Local("q", gs.POINTER, 0),)))
    assert g.take_addr("q", "x", src_frame=0) == g.addr("x", 0)


def test_heap_store_of_a_stack_address(rt):
    g = rt.go(_worker())
    h = rt.new_object(2)
    target = g.addr("x")
    with pytest.raises(gs.EscapeError) as info:
        rt.heap_store(h + 8, target)
    msg = str(info.value)
    assert f"{h:#x}" in msg and f"{target:#x}" in msg
    assert rt.heap_load(h + 8) == 0


def test_heap_store_outside_any_object(rt):
    g = rt.go(_worker())
    with pytest.raises(gs.ProgramError, match=f"{g.addr('x'):#x}"):
        rt.heap_store(g.addr("x"), 1)


# ---- dead goroutines, empty stacks ---------------------------------------------


def test_ret_after_the_entry_returned(rt):
    g = rt.go(_worker())
    g.ret()
    assert g.status is gs.Status.DEAD
    with pytest.raises(gs.EmptyStackError, match=f"goroutine {g.goid} has no frame"):
        g.ret()


def test_call_on_a_dead_goroutine(rt):
    g = rt.go(_worker())
    g.ret()
    with pytest.raises(gs.GoroutineExited) as info:
        g.call(gs.Func("main.f", frame=8))
    assert f"goroutine {g.goid}" in str(info.value) and "dead" in str(info.value)
    with pytest.raises(gs.GoroutineExited, match="dead"):
        g.runtime_gc()


def test_call_on_a_goroutine_that_overflowed(rt):
    rt.set_max_stack(2048)
    g = rt.go(gs.Func("main.w", frame=0))
    with pytest.raises(gs.StackOverflow):
        g.call(gs.Func("main.big", frame=4096))
    with pytest.raises(gs.GoroutineExited, match="fatal"):
        g.call(gs.Func("main.f", frame=8))


def test_call_with_something_that_is_not_a_func(rt):
    g = rt.go(_worker())
    with pytest.raises(gs.ProgramError, match="str 'main.f'"):
        g.call("main.f")  # type: ignore[arg-type]
    assert g.depth == 1 and g.calls == 1  # nothing happened


def test_frame_index_out_of_range(rt):
    g = rt.go(_worker())
    with pytest.raises(gs.EmptyStackError, match="no frame 3"):
        g.frame(3)


# ---- the limit ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [True, 1e9, "1000000000", None, 1 << 63, -(1 << 63) - 1])
def test_bad_max_stack(bad):
    with pytest.raises(gs.ProgramError) as info:
        gs.Runtime(max_stack=bad)
    assert "max_stack" in str(info.value) and repr(bad) in str(info.value)


def test_bad_set_max_stack_keeps_the_old_limit(rt):
    with pytest.raises(gs.ProgramError, match="max_stack"):
        rt.set_max_stack(1 << 63)  # not a Go int
    assert rt.max_stack == 1_000_000_000


def test_set_max_stack_takes_any_go_int_as_setmaxstack_does(rt):
    # runtime/rdebug.go setMaxStack: maxstacksize = uintptr(in); returns int(old)
    assert rt.set_max_stack(-1) == 1_000_000_000
    assert rt.max_stack == 2**64 - 1
    assert rt.set_max_stack(0) == -1
    g = rt.go(gs.Func("main.w", frame=40))
    with pytest.raises(gs.StackOverflow, match="exceeds 0-byte limit"):
        for _ in range(20):
            g.call(gs.Func("main.rec", frame=160))
    assert rt.set_max_stack(1 << 30) == 0


def test_a_limit_above_the_ceiling_reports_the_ceiling():
    # newstack: past maxstackceiling (2 * 1e9) the message names the ceiling, not the limit
    rt = gs.Runtime(max_stack=3_000_000_000)
    g = rt.go(gs.Func("main.w", frame=0))
    with pytest.raises(gs.StackOverflow, match="exceeds 2000000000-byte limit"):
        g.call(gs.Func("main.huge", frame=1_500_000_000))
