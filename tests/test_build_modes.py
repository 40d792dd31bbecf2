"""Build and debug modes (issue 14): -race, GODEBUG=gcshrinkstackoff=1.

Expected values are derived by hand from go1.27.3's sources (internal/runtime/sys
consts.go: the stack guard multiplier is 2 under -race; runtime/stack.go
shrinkstack) or come from the recorded real runs (tests/test_recorded.py and
tests/test_scene.py run every recorded case).
"""

from __future__ import annotations

import pytest

import gostack as gs
from gostack import arch, realgo
from gostack.program import CORPUS
from gostack.symtab import compiler_nosplit

RECORDED = realgo.load_recorded()


def test_race_constants_follow_the_multiplier():
    assert arch.STACK_GUARD_MULTIPLIER_RACE == 2
    assert arch.STACK_NOSPLIT_RACE == 1600
    assert arch.STACK_GUARD_RACE == 1728
    assert arch.NOSPLIT_LINK_LIMIT_RACE == 1592


def test_race_park_depths_are_the_measured_ones():
    # read from g.sched.sp of parked goroutines in a -race build of go1.27.3
    assert arch.PARK_DEPTH_RACE == {"recv": 192, "send": 200, "select": 384, "sleep": 120,
                                    "gosched": 24, "mutex": 328, "wg": 256}


@pytest.mark.parametrize("frame, grows", [(400, False), (408, True)])
def test_race_guard_line_is_lo_plus_1728(frame, grows):
    rt = gs.Runtime(race=True)
    g = rt.go(gs.Func("worker", frame=frame))
    # E = hi - 40 = lo + 2008; the medium check compares E - (F - 128) with lo + 1728
    assert g.stack_size == (4096 if grows else 2048)
    assert g.stackguard0 == g.lo + 1728
    assert g.snapshot().guard == g.lo + 1728


def test_race_newstack_fits_frame_plus_1728():
    rt = gs.Runtime(race=True)
    g = rt.go(gs.Func("worker", frame=40))
    g.call(gs.Func("big", frame=2400))
    # used at big's E = 40 + 40 + 8 = 88; 4096 - 88 < 2400 + 1728, 8192 - 88 >= 4128
    assert g.stack_size == 8192
    rt2 = gs.Runtime()
    g2 = rt2.go(gs.Func("worker", frame=40))
    g2.call(gs.Func("big", frame=2400))
    assert g2.stack_size == 4096  # 4096 - 88 >= 2400 + 928


@pytest.mark.parametrize("race, keep, shrinks", [
    (False, 2048 - 800 - 88 - 136, False), (False, 2048 - 800 - 88 - 136 - 8, True),
    (True, 2048 - 1600 - 88 - 136, False), (True, 2048 - 1600 - 88 - 136 - 8, True),
])
def test_shrink_budget_is_stack_nosplit(race, keep, shrinks):
    rt = gs.Runtime(race=race)
    g = rt.go(gs.Func("worker", frame=40))
    g.call(gs.Func("keep", frame=keep))
    g.call(gs.Func("grow", frame=5000))
    g.ret()
    assert g.stack_size == 8192
    g.runtime_gc()  # parked in runtime.GC: 136 below keep's SP
    assert (g.stack_size == 4096) is shrinks


def test_gcshrinkstackoff_never_shrinks():
    for off in (False, True):
        rt = gs.Runtime(gcshrinkstackoff=off)
        g = rt.go(gs.Func("worker", frame=40))
        for _ in range(100):
            g.call(gs.Func("rec", frame=160))
        for _ in range(100):
            g.ret() if g.depth > 1 else None
        g.runtime_gc()
        assert (g.stack_size == 32768) is off


def test_race_park_depth_in_the_model():
    rt = gs.Runtime(race=True)
    g = rt.go(gs.Func("worker", frame=40))
    g.park("select")
    assert [e.used for e in g.trace if isinstance(e, gs.Park)] == [80 + 384]


def test_recorded_race_cases_differ_from_a_normal_build():
    """The simulator in a normal build would get the race cases wrong (the mutant test)."""
    from gostack.program import run_simulator
    wrong = []
    for name, p in CORPUS.items():
        if not p.race:
            continue
        case = RECORDED["cases"][name]
        normal = run_simulator(p.__class__(**{**p.__dict__, "race": False}), case["frames"],
                               case["nosplit"])
        if normal != realgo.Observation.from_dict(case):
            wrong.append(name)
    assert {"race_entry_grows_408", "race_gc_after_floor", "race_gc_shrink_edge_no",
            "race_rec"} <= set(wrong)


def test_race_programs_render_their_mode():
    from gostack.program import render_go
    src = render_go(CORPUS["race_rec"])
    assert "Built and run with: -race" in src and "//go:nocheckptr" in src
    assert "GODEBUG=gcshrinkstackoff=1" in render_go(CORPUS["gcshrinkstackoff_after"])
    assert CORPUS["race_rec"].build_flags == ("-race",)
    assert realgo.run_env(("gcshrinkstackoff=1",))["GODEBUG"] == \
        "adaptivestackstart=0,gcshrinkstackoff=1"


# ---- the linker's NOSPLIT check (cmd/link/internal/ld/stackcheck.go) ---------------------

LINK_CASES = [n for n, c in RECORDED["cases"].items() if "link_report" in c]


def test_link_cases_are_recorded():
    assert set(LINK_CASES) == {"link_nosplit_800", "link_nosplit_chain", "link_nosplit_cycle"}


@pytest.mark.parametrize("name", LINK_CASES)
def test_the_simulator_says_what_the_linker_said(name):
    """The whole report, chain and all, as go1.27.3's linker printed it."""
    import gostack.program as P
    case = RECORDED["cases"][name]
    program = CORPUS[name]
    funcs = {f.name: gs.Func(f.qualname, frame=case["frames"][f.qualname],
                             nosplit=f.qualname in case["nosplit"]) for f in program.functions}
    err = P.link_check(program, funcs, arch.NOSPLIT_LINK_LIMIT)
    assert str(err).splitlines() == case["link_report"]


@pytest.mark.parametrize("race, frame, links", [
    (False, 792, True), (False, 800, False), (True, 1592, True), (True, 1600, False),
])
def test_runtime_refuses_a_nosplit_call_that_would_not_link(race, frame, links):
    rt = gs.Runtime(race=race)
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.big", frame=4000))  # room below: only the linker can object
    f = gs.Func("main.nsp", frame=frame, nosplit=True)
    if links:
        g.call(f)
        assert g.frame().func is f
    else:
        with pytest.raises(gs.NosplitLinkError) as e:
            g.call(f)
        limit = 1592 if race else 792
        assert e.value.over == frame - limit
        assert str(e.value).splitlines()[0] == f"main.nsp: nosplit stack over {limit} byte limit"


def test_runtime_link_check_follows_the_chain():
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.nsa", frame=432, nosplit=True))
    with pytest.raises(gs.NosplitLinkError) as e:
        g.call(gs.Func("main.nsb", frame=392, nosplit=True))
    assert e.value.chain == (("main.nsa", 440), ("main.nsb", 392)) and e.value.over == 40
    g.call(gs.Func("main.nsc", frame=352, nosplit=True))  # 440 + 352 = 792: links


def test_runtime_without_link_check_runs_the_frame():
    rt = gs.Runtime(link_check=False)
    g = rt.go(gs.Func("main.worker", frame=40))
    g.call(gs.Func("main.nsp", frame=1000, nosplit=True))
    assert g.depth == 2


# ---- the compiler's automatic NOSPLIT (cmd/internal/obj/x86/obj6.go preprocess) ----------

@pytest.mark.parametrize("frame, calls, nosplit", [
    (0, (), True), (88, (), True), (120, (), True), (128, (), False),  # facts sheet, corpus
    (112, ("runtime.panicBounds",), True), (120, ("runtime.panicBounds",), False),
    (112, ("DUFFZERO",), True), (120, ("DUFFCOPY",), False),
    (8, ("main.f",), False), (0, ("runtime.panicdivide", "runtime.morestack"), False),
])
def test_compiler_nosplit_rule(frame, calls, nosplit):
    assert compiler_nosplit(frame, calls) is nosplit
    assert gs.Func("f", frame=frame, calls=calls).leaf_nosplit_eligible is nosplit


def test_leaf_nosplit_needs_the_calls_said():
    assert not gs.Func("f", frame=0).leaf_nosplit_eligible


def test_recorded_nosplit_marks_follow_the_rule():
    """Every compiler-marked NOSPLIT function of the normal-build corpus is a leaf under 128
    bytes, and every leaf under 128 bytes is marked (program.is_leaf says who calls)."""
    for name, p in CORPUS.items():
        case = RECORDED["cases"][name]
        if p.race or "link_report" in case:
            continue
        for f in p.functions:
            if f.nosplit:
                continue
            calls = () if p.is_leaf(f) else ("main.callee",)
            assert (f.qualname in case["nosplit"]) is \
                compiler_nosplit(case["frames"][f.qualname], calls), (name, f.name)
