"""Go's default adaptive stack start (GODEBUG=adaptivestackstart=1), issue 14.

The rule, from go1.27.3's src/runtime:

* mgcmark.go scanstack: for every goroutine the GC scans (not _Gdead ones: it returns
  before counting them; the GC's caller, parked in runtime.GC -> gcWaitOnMark, and the
  runtime's own goroutines, the mark worker included, are scanned like any other), it
  adds ``gp.stack.hi - sp`` to p.scannedStackSize and 1 to p.scannedStacks, with sp
  = gp.syscallsp in a system call, else gp.sched.sp; before any shrink.
* mgc.go gcMarkDone calls stack.go gcComputeStartingStackSize once marking is done:
  when debug.adaptivestackstart (runtime1.go, default 1) is set, startingStackSize =
  round2(max(min(sum / count + stackGuard, maxstacksize), fixedStack)); fixedStack
  if nothing was scanned.
* proc.go: a goroutine's exit (goexit0 -> gdestroy -> gfput) frees its stack unless its
  size is startingStackSize, and pushes the G on the P's free list (a gList: LIFO; at 64
  Gs, all but 31 move to sched.gFree, each kind through a gQueue that push()es at its
  head). newproc1 takes gfget's G: the P's list first, else a batch of up to 32 from
  sched.gFree (Gs with stacks first); a kept stack whose size is no longer
  startingStackSize is freed, and a G without one gets stackalloc(startingStackSize).
  No free G: malg(stackMin), 2 KiB, whatever startingStackSize is.

Expected values are derived by hand from that rule (a second model below) and checked
against the real runs recorded in gostack/data/recorded.json.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import gostack as gs
from gostack import realgo
from gostack.scene import MAIN_FRAME, SCENES, ParkAt, Scene, render_go, run_simulator

RECORDED = realgo.load_recorded()["scenes"]
ADAPTIVE = [n for n, s in SCENES.items() if s.adaptive_start]

# main in runtime.GC: hi - E(main.main) = 40 + runtime.main's $288 + 8 (objdump), its
# frame, then runtime.GC $48, gcWaitOnMark $40, gopark $24, each + 8.
MAIN_BASE, GC_PARK = 336, 56 + 48 + 32
# forcegc, bgsweep, bgscavenge, GOMAXPROCS updater, finalizers, mark worker: printed by a
# scanstack patched to print them (scripts/measure_scanned_stacks.py), go1.27.3.
RUNTIME_OWN = (120, 152, 168, 152, 512, 208)
RECV_DEPTH = 192  # chanrecv1 $32, chanrecv $112, gopark $24, + 8 each


def round2(n: int) -> int:
    x = 1
    while x < n:
        x <<= 1
    return x


def start_size(scanned: list[int], max_stack: int, guard: int) -> int:
    """gcComputeStartingStackSize, written again from stack.go."""
    if not scanned:
        return 2048
    avg = sum(scanned) // len(scanned) + guard
    if avg > max_stack:
        avg = max_stack
    if avg < 2048:
        avg = 2048
    return round2(avg)


def second_model(name: str) -> dict[int, int]:
    """Each goroutine's starting size in a recorded adaptive scene, from the rule above.
    A goroutine parked at call index D of worker -> D x rec in recv is scanned at
    40 + worker + D * (rec + 8) + 192; the stack it exits with is the last size the
    real run recorded for it."""
    case = RECORDED[name]
    sc, frames = case["scene"], case["frames"]
    guard = 1728 if sc.get("race") else 928
    max_stack = sc["max_stack"] if sc["max_stack"] is not None else 1_000_000_000
    start, free, starts = 2048, [], {}
    parked: dict[int, int] = {}  # goroutine -> scanned size while parked
    runs: dict[int, int] = {}
    main = MAIN_BASE + frames[MAIN_FRAME] + GC_PARK
    for step in sc["steps"]:
        if step == "gc":
            start = start_size([main, *RUNTIME_OWN, *parked.values()], max_stack, guard)
            continue
        if step.startswith("maxstack "):
            max_stack = int(step.split()[1])
            continue
        k = int(step.split()[1])
        g = sc["goroutines"][k - 1]
        worker = frames[f"main.{g['entry']['name']}"]
        rec = frames[f"main.{g['cycle'][0]['name']}"]
        parks = sc["parks"][k - 1]
        r = runs[k] = runs.get(k, 0) + 1
        if r == 1:  # go: gfget or a fresh G
            if free:
                kept = free.pop()
                starts[k] = kept if kept == start else start
            else:
                starts[k] = 2048
        if r <= len(parks):
            d = parks[r - 1][0]
            parked[k] = 40 + worker + d * (rec + 8) + RECV_DEPTH
        else:  # returns from its entry: gfput
            parked.pop(k, None)
            sizes = [m[4] for m in case["moves"] if m[0] == k]
            end = sizes[-1] if sizes else 2048
            free.append(end if end == start else None)
    return starts


def recorded_starts(name: str) -> dict[int, int]:
    case = RECORDED[name]
    started = {k for k in range(1, len(case["scene"]["goroutines"]) + 1)
               if any(s == f"run {k}" for s in case["scene"]["steps"])}
    got = dict.fromkeys(started, 2048)
    for k, where, call, _, size in case["moves"]:
        if where == "entry" and call == 0:
            got[k] = size
    return got


def test_there_are_enough_recorded_adaptive_scenes():
    assert len(ADAPTIVE) >= 5
    assert all(RECORDED[n]["scene"].get("adaptive_start") for n in ADAPTIVE)
    # a recycled G started above 2 KiB in most of them
    assert sum(any(s > 2048 for s in recorded_starts(n).values()) for n in ADAPTIVE) >= 5


@pytest.mark.parametrize("name", ADAPTIVE)
def test_the_source_rule_predicts_real_go(name):
    """The second model (this file) against go1.27.3's recorded starting sizes."""
    assert second_model(name) == recorded_starts(name)


@pytest.mark.parametrize("name", ADAPTIVE)
def test_simulator_matches_real_go(name):
    c = realgo.compare_recorded(SCENES[name])
    assert c.agree, "\n" + c.table()


def test_recorded_fresh_and_recycled_starts():
    moves = RECORDED["adaptive_start_fresh_or_recycled"]["moves"]
    # (1848 + 2 * 17872) / 9 + 928 = 5104 -> 8192 for the recycled G; the fresh one: 2 KiB
    assert [3, "entry", 0, 1, 8192] in moves
    assert not [m for m in moves if m[0] == 4 and m[2] == 0]
    # from 8 KiB, goroutine 3 first grows at call 42 (a fresh G: 7, 19, 42)
    assert [m[2] for m in moves if m[0] == 3] == [0, 42]


def test_recorded_start_above_the_limit_overflows():
    case = RECORDED["adaptive_start_above_maxstack"]
    assert [3, "entry", 0, 1, 8192] in case["moves"]  # round2(min(5104, 5000))
    assert case["overflow"] == [3, 42, "runtime: goroutine stack exceeds 5000-byte limit"]


def test_recorded_back_to_2k_reallocates_the_kept_stack():
    moves = RECORDED["adaptive_start_back_to_2k"]["moves"]
    assert [5, "entry", 0, 1, 4096] in moves  # g4's kept 4 KiB stack
    assert [m[2:] for m in moves if m[0] == 6] == [[7, 2, 4096], [19, 2, 8192]]  # 2 KiB


def test_recorded_race_start_needs_the_race_guard():
    # main.main is $120 under -race: main 336 + 120 + 136 = 592; each goroutine
    # 40 + 152 + 50 * (208 + 8) + 192 = 11184
    assert [3, "entry", 0, 1, 8192] in RECORDED["race_adaptive_start"]["moves"]
    scanned = [592, *RUNTIME_OWN, 11184, 11184]  # 24272 / 9 = 2696
    assert start_size(scanned, 10**9, 1728) == 8192
    assert start_size(scanned, 10**9, 928) == 4096


# ---- the runtime model ---------------------------------------------------------------


def _entry(rt: gs.Runtime) -> gs.Goroutine:
    return rt.go(gs.Func("main.worker", frame=40))


def test_default_mode_is_unchanged():
    rt = gs.Runtime(trace=False)
    g = _entry(rt)
    for _ in range(100):
        g.call(gs.Func("main.rec", frame=168))
    g.park("recv")
    rt.gc()
    assert rt.starting_stack_size == 2048
    g.unpark()
    while g.depth:
        g.ret()
    frees = rt.alloc.frees
    assert g.stack.freed and frees >= 1
    assert _entry(rt).stack_size == 2048


def test_nothing_but_the_unmodelled_goroutines():
    rt = gs.Runtime(adaptive_start=True, trace=False)
    rt.gc()  # 1848 / 7 = 264 + 928 = 1192
    assert rt.starting_stack_size == 2048
    rt = gs.Runtime(adaptive_start=True, unmodelled=(), trace=False)
    rt.gc()
    assert rt.starting_stack_size == 2048  # scannedStacks == 0: fixedStack


def test_race_adds_its_own_stack_guard():
    # one scanned goroutine of 1000 bytes: 1928 -> 2048; under -race 2728 -> 4096
    assert start_size([1000], 10**9, 928) == 2048
    for race, want in ((False, 2048), (True, 4096)):
        rt = gs.Runtime(adaptive_start=True, unmodelled=(1000,), race=race, trace=False)
        rt.gc()
        assert rt.starting_stack_size == want


def test_an_explicit_stack_size_bypasses_the_free_list():
    rt = gs.Runtime(adaptive_start=True, trace=False)
    g = _entry(rt)
    g.ret()
    assert rt.go(gs.Func("main.w", frame=40), stack_size=16384).stack_size == 16384
    assert _entry(rt).lo == g.lo  # the dead G, with its kept 2 KiB stack


def test_free_list_order_past_64_dead_goroutines():
    """gfput at the 64th: pops g64..g32 (33) into a gQueue (push at the head: g32 first)
    that goes in front of sched.gFree.stack, leaving g1..g31. gfget: g31..g1, then a
    batch of 32 from the global head (g32..g63, pushed on the P's list: g63 on top), so
    g63..g32, then g64."""
    rt = gs.Runtime(adaptive_start=True, trace=False)
    gs_ = [_entry(rt) for _ in range(64)]
    los = {}
    for k, g in enumerate(gs_, 1):
        los[g.lo] = k
        g.ret()  # 2 KiB == the start size: kept
    order = [los[_entry(rt).lo] for _ in range(64)]
    assert order == [*range(31, 0, -1), *range(63, 31, -1), 64]
    assert _entry(rt).lo not in los  # then a fresh G


# ---- scenes in adaptive mode -----------------------------------------------------------


def test_rendered_adaptive_scene_names_its_godebug():
    src = render_go(SCENES["adaptive_start_above_maxstack"])
    assert "// Built and run with: GODEBUG=adaptivestackstart=1" in src
    assert "\tdebug.SetMaxStack(5000)\n" in src and '"runtime/debug"' in src
    env = realgo.run_env(SCENES["adaptive_start_4k"].godebug)
    assert env["GODEBUG"] == "adaptivestackstart=1"
    assert realgo.run_env()["GODEBUG"] == "adaptivestackstart=0"


def test_scene_steps_and_dict():
    g = SCENES["adaptive_start_4k"].goroutines[0]
    with pytest.raises(ValueError, match="maxstack N"):
        Scene("x", (g,), ((ParkAt(15, "recv"),),), ("run 1", "maxstack lots"))
    d = SCENES["adaptive_start_4k"].to_dict()
    assert d["adaptive_start"] is True
    assert "adaptive_start" not in SCENES["exit_then_start"].to_dict()


def test_adaptive_simulation_needs_main_frame():
    case = RECORDED["adaptive_start_4k"]
    frames = {k: v for k, v in case["frames"].items() if k != MAIN_FRAME}
    with pytest.raises(ValueError, match="main.main"):
        run_simulator(SCENES["adaptive_start_4k"], frames)
    starts: list[int] = []
    run_simulator(SCENES["adaptive_start_back_to_2k"],
                  RECORDED["adaptive_start_back_to_2k"]["frames"], starts=starts)
    assert starts == [4096, 2048]


# ---- live (Go) --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def go():
    a = realgo.available()
    if not a.ok:
        pytest.skip(a.reason)
    if a.version != realgo.load_recorded()["go_version"]:
        pytest.skip(f"the toolchain is {a.version}")
    return a


@pytest.mark.go
@pytest.mark.parametrize("name", ["adaptive_start_fresh_or_recycled",
                                  "adaptive_start_back_to_2k"])
def test_live_adaptive_scenes_match_the_recording(go, name):
    from gostack.scene import SceneObservation
    run = realgo.run_scene(SCENES[name], fresh=True)
    case = RECORDED[name]
    assert run.frames == case["frames"]
    assert run.observation == SceneObservation.from_dict(case)


@pytest.mark.go
def test_live_scanned_sizes_are_the_table(go, capsys):
    """scanstack patched to print what it adds: the runtime's goroutines and main as in
    stackalloc.RUNTIME_SCANNED / main_gc_scanned, and each GC's startingStackSize as
    the simulator's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import measure_scanned_stacks

    assert measure_scanned_stacks.main(["adaptive_start_back_to_2k"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"startingStackSize (\d+)", out) == ["4096", "2048"]
    assert "runtime.runFinalizers                512" in out


# Which dead G each of 65 new goroutines reuses after 64 exited in order 1..64 (all on
# kept 2 KiB stacks), by stack address; 0: a fresh G. go1.27.3 printed exactly the
# order test_free_list_order_past_64_dead_goroutines derives, in both modes.
GFREE_ORDER_GO = """\
// The order in which new goroutines reuse dead Gs (proc.go gfput/gfget).
package main

import (
	"fmt"
	"runtime"
	"unsafe"
)

func curg() uintptr

type stk struct{ lo, hi uintptr }

const n, m = 64, 65

var (
	los [n + m]uintptr
	ch  [n + m]chan int
)

//go:noinline
func w(i int) {
	los[i] = (*stk)(unsafe.Pointer(curg())).lo
	<-ch[i]
}

func main() {
	for i := range ch {
		ch[i] = make(chan int)
	}
	base := runtime.NumGoroutine()
	for i := 0; i < n; i++ {
		go w(i)
		for los[i] == 0 {
			runtime.Gosched()
		}
	}
	for i := 0; i < n; i++ {
		ch[i] <- 1
		for runtime.NumGoroutine() > base+n-1-i {
			runtime.Gosched()
		}
	}
	old := map[uintptr]int{}
	for i := 0; i < n; i++ {
		old[los[i]] = i + 1
	}
	for j := n; j < n+m; j++ {
		go w(j)
		for los[j] == 0 {
			runtime.Gosched()
		}
		fmt.Print(old[los[j]], " ")
	}
	fmt.Println()
}
"""


def _model_gfree_order() -> list[int]:
    rt = gs.Runtime(adaptive_start=True, trace=False)
    los = {}
    for k in range(1, 65):
        g = _entry(rt)
        los[g.lo] = k
    for g in list(rt.goroutines):
        g.ret()
    return [los.get(_entry(rt).lo, 0) for _ in range(65)]


@pytest.mark.go
@pytest.mark.parametrize("godebug", [(), ("adaptivestackstart=1",)])
def test_live_free_list_order(go, godebug):
    import subprocess

    from gostack import program as P

    files = {"go.mod": P.go_mod(go.version or ""), "main.go": GFREE_ORDER_GO,
             "curg_amd64.s": P.CURG_ASM}
    b = realgo.build_files(files, label="gfree-order")
    r = subprocess.run([str(b.binary)], env=realgo.run_env(godebug), capture_output=True,
                       text=True, timeout=60, check=True)
    assert [int(x) for x in r.stdout.split()] == _model_gfree_order()
