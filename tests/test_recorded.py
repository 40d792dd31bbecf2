"""The simulator against what the real go1.27.3 runtime did, without Go.

gostack/data/recorded.json holds, for every program of gostack.program.CORPUS,
the frame sizes the compiler chose and every stack move the real runtime made
(scripts/record_go.py regenerates it; tests/test_realgo.py checks it is still
true when Go is installed). Here the simulator, driven with the recorded frame
sizes, must reproduce every growth (call index and new size), every shrink
(which GC, from which call index, new size), every growth inside runtime.GC()
and the overflow (call index and the runtime's first line), exactly.
"""

from __future__ import annotations

import json

import pytest

from gostack import realgo
from gostack.program import (
    CORPUS,
    INITIAL_STACK,
    Function,
    Observation,
    OverflowAt,
    Program,
    ShrinkAt,
    render_go,
    run_simulator,
)

RECORDED = realgo.load_recorded()
CASES = RECORDED["cases"]

# Frame sizes each boundary case was designed to hit (the -S TEXT lines of go1.27.3).
FRAME_TARGETS = {
    "rec_small_120": {"main.rec": 120},
    "rec_small_128": {"main.rec": 128},
    "rec_medium_136": {"main.rec": 136},
    "rec_medium_168": {"main.rec": 168},
    "rec_medium_4088": {"main.rec": 4088},
    "rec_medium_4096": {"main.rec": 4096},
    "rec_huge_4104": {"main.rec": 4104},
    "rec_huge_10280": {"main.rec": 10280},
    "leaf_frame0_below_guard": {"main.leaf": 0},
    "leaf_120_below_guard": {"main.leaf": 120},
    "leaf_128_checked": {"main.leaf": 128},
    "entry_fits_1200": {"main.worker": 1200},
    "entry_grows_1208": {"main.worker": 1208},
    "entry_huge_10k": {"main.worker": 10280},
    "mutual_2": {"main.mutS": 64, "main.mutM": 616},
    "gc_after_floor_4096": {"main.worker": 48},
    "gc_after_floor_2048": {"main.worker": 40},
    "gc_shrink_edge_no": {"main.keep": 1024},
    "gc_shrink_edge_yes": {"main.keep": 1016},
    "gc_first_edge_fits": {"main.worker": 320},
    "gc_first_edge_grows": {"main.worker": 328},
    "gc_later_edge_fits": {"main.gz": 480},
    "gc_later_edge_grows": {"main.gz": 488},
    "default_limit_overflow": {"main.rec": 10280},
    "maxstack_entry": {"main.worker": 10280},
}


def test_header_names_the_toolchain():
    assert RECORDED["go_version"] == "go1.27.3"
    assert (RECORDED["goos"], RECORDED["goarch"]) == ("linux", "amd64")
    assert RECORDED["run_env"]["GOMAXPROCS"] == "1"
    assert RECORDED["run_env"]["GODEBUG"] == "adaptivestackstart=0"
    assert RECORDED["recorded"][:2] == "20"


def test_every_corpus_case_is_recorded_and_current():
    assert len(CORPUS) >= 25
    assert set(CASES) == set(CORPUS), "run scripts/record_go.py"
    stale = [n for n, p in CORPUS.items() if CASES[n]["fingerprint"] != p.fingerprint()]
    assert not stale, f"probes changed since recording: {stale}; run scripts/record_go.py"
    for name, program in CORPUS.items():
        assert CASES[name]["program"] == program.to_dict()


@pytest.mark.parametrize("name", list(CORPUS))
def test_simulator_matches_real_go(name):
    """The heart of the kit: every recorded stack move, reproduced exactly."""
    c = realgo.compare_recorded(CORPUS[name], RECORDED)
    if not c.agree:
        pytest.fail("the simulator differs from go1.27.3:\n" + c.table(), pytrace=False)


@pytest.mark.parametrize("name", sorted(FRAME_TARGETS))
def test_boundary_cases_hit_their_frame_sizes(name):
    frames = CASES[name]["frames"]
    for func, size in FRAME_TARGETS[name].items():
        assert frames[func] == size, f"{name}: {func} is ${frames[func]}, meant ${size}"


@pytest.mark.parametrize("name", list(CORPUS))
def test_nosplit_is_what_the_rules_predict(name):
    """NOSPLIT: //go:nosplit, or a leaf (no calls) whose frame is under 128 bytes."""
    program, case = CORPUS[name], CASES[name]
    predicted = sorted(
        f.qualname for f in program.functions
        if f.nosplit or (program.is_leaf(f) and case["frames"][f.qualname] < 128)
    )
    assert case["nosplit"] == predicted


@pytest.mark.parametrize("name", list(CORPUS))
def test_recorded_moves_are_plausible(name):
    case = CASES[name]
    sizes = [INITIAL_STACK] + [s for _, s in case["growths"]]
    assert all(b > a and b & (b - 1) == 0 for a, b in zip(sizes, sizes[1:], strict=False))
    calls = [i for i, _ in case["growths"]]
    assert calls == sorted(calls)
    if case["overflow"]:
        assert case["exit_status"] == 2
        assert case["overflow"][1].startswith("runtime: goroutine stack exceeds ")
        reached = max(sizes + [s for *_, s in case["gc_growths"]])
        assert case["overflow_size"] == reached  # the size that could not grow
    elif case.get("link_error"):  # never ran: the linker refused it
        assert case["exit_status"] == 1 and not case["growths"] and case["link_report"]
    else:
        assert case["exit_status"] == 0


def test_default_limit_last_fitting_size_is_512_mib():
    case = CASES["default_limit_overflow"]
    assert case["growths"][-1][1] == 512 * 1024 * 1024
    assert case["overflow"] == [52185,
                                "runtime: goroutine stack exceeds 1000000000-byte limit"]


def test_facts_sheet_experiments_reappear():
    """Cases that mirror the facts sheet give its numbers (a, b, c, e)."""
    a = CASES["mutual_2"]["growths"]  # experiment (c): 4, 10, 22, 46, 92, 186 in M, 375 in S
    assert [i for i, _ in a] == [4, 10, 22, 46, 92, 186, 375]
    b = CASES["rec_huge_10280"]["growths"]  # experiment (b)
    assert b[:2] == [[1, 16384], [2, 32768]]
    e = CASES["maxstack_32k"]["overflow"]  # experiment (e)
    assert e == [182, "runtime: goroutine stack exceeds 32768-byte limit"]


def test_verify_go_recorded_command(capsys):
    assert realgo.verify_main(["--recorded", "--case", "rec_medium_168"]) == 0
    out = capsys.readouterr().out
    assert "rec_medium_168" in out and "AGREE" in out and "all 1 cases agree" in out


def test_verify_go_lists_cases(capsys):
    assert realgo.verify_main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "default_limit_overflow" in out and "(heavy)" in out


def test_verify_go_rejects_unknown_case(capsys):
    assert realgo.verify_main(["--recorded", "--case", "no_such_case"]) == 2
    assert "unknown case" in capsys.readouterr().err


def test_comparison_table_marks_differences():
    program = CORPUS["maxstack_32k"]
    real = Observation.from_dict(CASES["maxstack_32k"])
    wrong = Observation(real.growths[:-1], (), OverflowAt(183, real.overflow.message))
    c = realgo.Comparison(program, CASES["maxstack_32k"]["frames"], (), real, wrong, "test")
    assert not c.agree
    table = c.table()
    assert "DISAGREE" in table
    assert sum(line.startswith("!!") for line in table.splitlines()) == 2


# ---- the program description itself ------------------------------------------------


def test_observation_round_trips_through_json():
    obs = Observation(((0, 4096), (7, 8192)), (ShrinkAt(1, 0, 4096),),
                      OverflowAt(9, "runtime: goroutine stack exceeds 8192-byte limit"),
                      ((3, 2, 16384),))
    assert Observation.from_dict(json.loads(obs.to_json())) == obs


def test_call_pattern_indexes():
    p = Program("x", Function("worker"), chain=(Function("a"),),
                cycle=(Function("b"), Function("c")), depth=5, leaf=Function("z"))
    assert [f.name for _, f in p.calls()] == ["worker", "a", "b", "c", "b", "c", "z"]
    assert p.is_leaf(p.leaf) and not p.is_leaf(p.cycle[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cycle": (Function("a"),)}, "needs a depth"),
        ({"chain": (Function("a"), Function("a"))}, "appear once"),
        ({"cycle": (Function("a"),), "depth": 3, "gc_descending": (4,)}, "not a chain"),
        ({"cycle": (Function("a", nosplit=True),), "depth": 3, "gc_unwinding": (2,)},
         "cannot call runtime.GC"),
    ],
)
def test_program_rejects_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Program("bad", Function("worker"), **kwargs)


def test_function_rejects_reserved_and_heap_sized():
    with pytest.raises(ValueError, match="reserved"):
        Function("probeSeen")
    with pytest.raises(ValueError, match="heap"):
        Function("big", words=16385)


def test_rendered_probe_is_deterministic_and_instrumented():
    program = CORPUS["pointers_adjusted"]
    src = render_go(program)
    assert src == render_go(program)
    assert src.count("probeSeen(1, d, p)") == 1  # one observer at the top of rec
    assert "debug.SetMaxStack" not in src
    assert "debug.SetMaxStack(32768)" in render_go(CORPUS["maxstack_32k"])


def test_run_simulator_accepts_short_or_qualified_names():
    program = CORPUS["rec_medium_168"]
    frames = CASES["rec_medium_168"]["frames"]
    short = {k.removeprefix("main."): v for k, v in frames.items()}
    assert run_simulator(program, short) == run_simulator(program, frames)


# ---- frame pointers and the closure context (issue 14) --------------------------------
FP = RECORDED.get("frame_pointers", {})


def test_every_frame_pointer_case_is_recorded():
    assert set(FP) == set(realgo.FP_CASES)


@pytest.mark.parametrize("name", sorted(realgo.FP_CASES))
def test_frame_pointer_chain_and_closure_context_as_recorded(name):
    """The saved-BP chain (hi - slot, walk's frame up to the entry's BP 0) is what the
    simulator's snapshot shows, before and after a growth of the same size; a closure
    whose context is on the stack reads its captured variable in the new stack after
    its own prologue grew it (adjustctxt), as call_closure's returned context does."""
    rec = FP[name]
    assert realgo.simulate_fp(name, rec["frames"]) == rec
    before, after = rec["before"], rec["after"]
    assert after[0] > before[0] and after[1] == before[1]  # moved, offsets kept
    assert rec["ctxt"][1] > rec["ctxt"][0] and rec["ctxt"][2:] == [True, True]


def test_verify_go_recorded_frame_pointer_case(capsys):
    assert realgo.verify_main(["--recorded", "--case", "fp_chain_grow_8k"]) == 0
    out = capsys.readouterr().out
    assert "fp_chain_grow_8k: AGREE" in out and "all 1 cases agree" in out
    assert realgo.verify_main(["--list"]) == 0
    assert "fp_chain_grow_32k" in capsys.readouterr().out
