"""g0 and gsignal never grow; //go:systemstack code checks stackguard1 (gostack.systemstack).

Expected values come from the Go source text (read from GOROOT when the toolchain is here),
from the compiler's own listing of the runtime (gostack/data/systemstack.json, written by
scripts/record_systemstack.py from `go build -a -gcflags=runtime=-S`, rerun live below),
and from depths derived by hand next to each test.
"""

from __future__ import annotations

import importlib.util
import json
import re
from importlib.resources import files
from pathlib import Path

import pytest

import gostack as gs
from gostack import arch, prologue, realgo, systemstack
from gostack.errors import (
    MorestackOnG0,
    MorestackOnGsignal,
    MorestackOnSystemStack,
    RuntimeThrow,
    SystemStackOnUserStack,
)
from gostack.systemstack import SystemFunc, SystemStack

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads(files("gostack").joinpath("data/systemstack.json").read_text())
RECA = gs.Func("main.recA", frame=160)
SCANSTACK = SystemFunc("runtime.scanstack", frame=272)  # recorded: CFUNC|ABIInternal, $272-16


def goroot() -> Path | None:
    a = realgo.available()
    return Path(a.goroot) if a and a.goroot else None


def source(rel: str) -> str:
    root = goroot()
    if root is None:
        pytest.skip("the Go toolchain (and its source) is not installed")
    return (root / "src" / rel).read_text()


def func_body(text: str, name: str) -> str:
    start = text.index(f"\nfunc {name}(")
    return text[start:text.index("\n}\n", start)]


# ---------------------------------------------------------------------------------------
# The facts, against the Go source text
# ---------------------------------------------------------------------------------------


def test_sizes_are_the_runtimes():
    assert "mp.g0 = malg(16384 * sys.StackGuardMultiplier)" in func_body(
        source("runtime/proc.go"), "allocm")
    assert "mp.gsignal = malg(32 * 1024)" in func_body(source("runtime/os_linux.go"), "mpreinit")
    rt0 = source("runtime/asm_amd64.s")
    assert "LEAQ\t(-64*1024)(SP), BX" in rt0[rt0.index("TEXT runtime·rt0_go"):]
    assert (arch.G0_STACK_SIZE, arch.G0_STACK_SIZE_RACE) == (16384, 32768)
    assert (arch.GSIGNAL_STACK_SIZE, arch.M0_G0_STACK_SIZE) == (32768, 65536)


def test_the_guards_are_the_runtimes():
    """malg gives every G stackguard1 = ^uintptr(0); mstart0 (g0) and mcommoninit (gsignal)
    set it to the real guard; the g struct's comment says so; obj6.go reads 3*PtrSize."""
    proc = source("runtime/proc.go")
    assert "newg.stackguard1 = ^uintptr(0)" in func_body(proc, "malg")
    assert "gp.stackguard1 = gp.stackguard0" in func_body(proc, "mstart0")
    assert ("mp.gsignal.stackguard1 = mp.gsignal.stack.lo + stackGuard"
            in func_body(proc, "mcommoninit"))
    g = source("runtime/runtime2.go")
    assert "It is ~0 on other goroutine stacks, to trigger a call to morestackc (and crash)." in g
    fields = re.findall(r"^\t(stack|stackguard0|stackguard1) ", g[g.index("type g struct"):],
                        re.M)[:3]
    assert fields == ["stack", "stackguard0", "stackguard1"]  # 16 bytes of stack, then 8, 8
    obj6 = source("cmd/internal/obj/x86/obj6.go")
    assert obj6.count("p.To.Offset = 3 * int64(ctxt.Arch.PtrSize) // G.stackguard1") == 3
    assert 'morestack = "runtime.morestackc"' in obj6
    assert (arch.G_STACKGUARD0_OFFSET, arch.G_STACKGUARD1_OFFSET) == (16, 24)
    assert arch.STACKGUARD1_USER == 2**64 - 1


def test_the_messages_are_the_runtimes():
    proc = source("runtime/proc.go")
    assert 'throw("morestack on g0")' in func_body(proc, "badmorestackg0")
    assert 'writeErrStr("fatal: morestack on gsignal\\n")' in func_body(proc, "badmorestackgsignal")
    assert ('throw("attempt to execute system stack code on user stack")'
            in func_body(source("runtime/stack.go"), "morestackc"))
    e = MorestackOnG0("f", sp=0x1398, lo=0x1000, hi=0x5000)
    assert str(e).splitlines() == [
        "runtime: morestack on g0, stack [0x1000 0x5000], sp=0x1398, called from",
        "fatal error: morestack on g0"]
    assert str(MorestackOnGsignal("f", sp=0, lo=0, hi=0)) == "fatal: morestack on gsignal"
    assert str(SystemStackOnUserStack("f", sp=0, stackguard1=0)) == (
        "fatal error: attempt to execute system stack code on user stack")
    for cls in (MorestackOnG0, MorestackOnGsignal):
        assert issubclass(cls, MorestackOnSystemStack) and issubclass(cls, RuntimeThrow)


def test_morestack_checks_g0_then_gsignal_before_anything_else():
    asm = source("runtime/asm_amd64.s")
    body = asm[asm.index("TEXT runtime·morestack(SB)"):asm.index("TEXT runtime·morestack_noctxt")]
    assert body.index("badmorestackg0") < body.index("badmorestackgsignal") < body.index(
        "CALL\truntime·newstack(SB)")


# ---------------------------------------------------------------------------------------
# The prologue of //go:systemstack code, against the compiler's listing
# ---------------------------------------------------------------------------------------


def test_recorded_systemstack_prologues():
    assert RECORDED["go"] == "go1.27.3"
    fns = {f["func"]: f for f in RECORDED["functions"]}
    cfuncs = [f for f in fns.values() if "cfunc" in f["flags"]]
    assert len(cfuncs) >= 30 and "runtime.scanstack" in fns and "runtime.stackalloc" in fns
    for f in cfuncs:
        nosplit = "nosplit" in f["flags"]
        assert list(prologue.instructions(f["frame"], nosplit, systemstack=True)) == f["lines"]
        assert f["calls"] == (None if nosplit else prologue.slow_path(systemstack=True))
    assert fns["runtime.scanstack"]["lines"] == [
        "LEAQ -144(SP), R12", "CMPQ R12, 24(R14)", "JLS morestack"]  # 272 - 128 = 144
    newstack = fns["runtime.newstack"]  # ordinary code that runs on g0: stackguard0
    assert list(prologue.instructions(newstack["frame"])) == newstack["lines"]
    assert newstack["calls"] == prologue.slow_path() == "runtime.morestack_noctxt"


@pytest.mark.skipif(not realgo.available(), reason="Go is not installed")
def test_recorded_systemstack_prologues_live():
    spec = importlib.util.spec_from_file_location(
        "record_systemstack", ROOT / "scripts" / "record_systemstack.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.extract(mod.listing()) == RECORDED["functions"]


# ---------------------------------------------------------------------------------------
# g0 and gsignal never grow
# ---------------------------------------------------------------------------------------

# Hand-derived: the first call's E is 8 below hi (its return address); each call of a
# 160-byte frame takes 168, so call k enters at E = hi - (8 + 168 (k-1)) and its medium
# check compares E - 32. It fails once 8 + 168 (k-1) + 32 >= size - guard:
#   g0, 16,384, guard 928:      168 (k-1) >= 15,416 -> k - 1 = 92 -> call 93
#   gsignal, 32,768:            168 (k-1) >= 31,800 -> k - 1 = 190 -> call 191
#   g0 of m0, 65,536:           168 (k-1) >= 64,568 -> k - 1 = 385 -> call 386
#   g0 under -race, 32,768, guard 1,728: 168 (k-1) >= 31,000 -> k - 1 = 185 -> call 186
# scanstack ($272, compares E - 144, 280 a call) on g0: 280 (k-1) >= 15,304 -> call 56.
@pytest.mark.parametrize("stack, func, call, error", [
    (lambda: SystemStack.g0(), RECA, 93, MorestackOnG0),
    (lambda: SystemStack.gsignal(), RECA, 191, MorestackOnGsignal),
    (lambda: SystemStack.g0(m0=True), RECA, 386, MorestackOnG0),
    (lambda: SystemStack.g0(race=True), RECA, 186, MorestackOnG0),
    (lambda: SystemStack.g0(), SCANSTACK, 56, SystemStackOnUserStack),
])
def test_the_call_that_would_grow_dies(stack, func, call, error):
    s = stack()
    n, e = s.depth_reached(func)
    assert (n, type(e)) == (call, error)
    assert s.frames == (func.name,) * (call - 1)  # nothing was pushed by the failed call
    assert s.size == {MorestackOnGsignal: 32768}.get(error, s.size)


def test_g0_error_names_the_stack_and_sp():
    s = SystemStack.g0()
    with pytest.raises(MorestackOnG0) as info:
        for _ in range(93):
            s.call(RECA)
    e = info.value
    assert (e.lo, e.hi, e.func) == (s.lo, s.lo + 16384, "main.recA")
    assert e.sp == e.hi - (8 + 92 * 168)  # E of call 93: g.sched.sp as morestack saves it
    assert f"sp={e.sp:#x}" in str(e)


def test_nosplit_code_runs_into_the_guard_on_g0():
    """No check, no morestack: 92 recA calls bring SP down to the guard (92 * 168 = 15,456);
    a NOSPLIT leaf then runs below it."""
    s = SystemStack.g0()
    for _ in range(92):
        s.call(RECA)
    s.call(gs.Func("runtime.leaf", frame=120, nosplit=True))
    assert s.sp < s.stackguard0
    s.ret()
    assert s.check_fails(RECA)  # the next checked call dies


def test_specs_table():
    rows = {s.name: s for s in systemstack.specs()}
    assert rows["g0 of another M"].size == 16384 and not rows["g0 of another M"].grows
    assert rows["gsignal"].size == 32768 and rows["gsignal"].guard1 == 928
    assert rows["goroutine (new)"].guard1 is None and rows["goroutine (new)"].grows
    assert {s.name: s.size for s in systemstack.specs(race=True, cgo=True)}[
        "g0 of another M"] is None
    assert {s.name: s.guard0 for s in systemstack.specs(race=True)}["gsignal"] == 1728


# ---------------------------------------------------------------------------------------
# //go:systemstack code on a goroutine's stack: morestackc
# ---------------------------------------------------------------------------------------


def test_systemstack_code_dies_on_a_fresh_goroutine():
    """stackguard1 = ~0 is above every SP: even the first call on an empty 2 KiB stack."""
    g = gs.Runtime().go(gs.Func("main.worker", frame=40))
    with pytest.raises(SystemStackOnUserStack) as info:
        systemstack.call_on_goroutine(g, SystemFunc("runtime.stackalloc", frame=128))
    assert info.value.sp == g.hi - 88 and info.value.stackguard1 == 2**64 - 1
    systemstack.call_on_goroutine(g, RECA)  # ordinary code: an ordinary call
    systemstack.call_on_goroutine(g, SystemFunc("runtime.tryAllocMSpan", frame=8,
                                                nosplit=True))  # a leaf: no check at all
    assert g.used == 80 + 168 + 16


# ---------------------------------------------------------------------------------------
# Mutants the tests above catch
# ---------------------------------------------------------------------------------------


class _NeverSetGuard1(SystemStack):
    """Mutant: g0 keeps malg's stackguard1 = ~0 (mstart0's line forgotten)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.stackguard1 = arch.STACKGUARD1_USER


def test_mutants_are_caught(monkeypatch):
    assert _NeverSetGuard1.g0().depth_reached(SCANSTACK)[0] == 1  # not 56
    real = prologue.morestack_needed

    def strict(sp, frame, guard):  # Mutant: < where Go's JLS is <=
        return real(sp + 1, frame, guard)

    monkeypatch.setattr(systemstack.prologue, "morestack_needed", strict)
    # A run that lands exactly on the guard: 0-byte frames (small form, 8 B a call) enter
    # 8 + 8 (k-1) below hi, which is 15,456 = 16,384 - 928 at k = 1,932: <= fails there.
    n, _ = SystemStack.g0().depth_reached(gs.Func("runtime.f", frame=0))
    assert n == 1933  # the mutant (<) fires one call late: caught below
    monkeypatch.undo()
    assert SystemStack.g0().depth_reached(gs.Func("runtime.f", frame=0))[0] == 1932


def test_goroutine_call_itself_refuses_system_stack_code():
    # Goroutine.call runs a SystemFunc's stackguard1 check: ~0 on a goroutine (proc.go malg),
    # so morestackc throws whatever the depth; a NOSPLIT one has no check and runs.
    g = gs.Runtime().go(RECA)
    with pytest.raises(SystemStackOnUserStack):
        g.call(SystemFunc("runtime.stackalloc", frame=128))
    assert g.depth == 1
    g.call(SystemFunc("runtime.tryAllocMSpan", frame=8, nosplit=True))
    assert g.depth == 2
