"""The numbers the lessons state, checked here instead of by asserts in the lessons' cells.

One test per claim. Each expected value comes from a source independent of the code under
test: arithmetic done by hand from the runtime's constants (written out in the test), or what
go1.27.3 did, as recorded in gostack/data/recorded.json, lessons_recorded.json and
prologues.json.
"""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

import gostack as gs
from gostack import realgo
from gostack.program import CORPUS

GUARD = 800 + 0 + 128  # StackNosplit + stackSystem + StackSmall on linux/amd64
ENTRY = 32 + 8  # what newproc leaves at the top of a new stack, plus the entry's return address
WORKER, REC_A = 40, 160  # the running example's frames, from the probe's TEXT lines
CALL = REC_A + 8  # one call of recA: its frame and its return address


def _recorded(name: str) -> dict:
    return json.loads(files("gostack").joinpath(f"data/{name}").read_text())


def _growth_calls(worker: int, frame: int, calls: int) -> list[tuple[int, int]]:
    g = gs.Runtime().go(gs.Func("main.worker", frame=worker))
    rec = gs.Func("main.rec", frame=frame)
    for _ in range(calls):
        g.call(rec)
    return [(e.call_index, e.new_size) for e in g.trace.grows]


# --- the running example (lessons 00 and 03 to 08) -------------------------------------------

def test_running_example_frames_are_the_probes():
    frames = _recorded("lessons_recorded.json")["cases"]["lesson_running"]["frames"]
    assert frames == {"main.worker": WORKER, "main.recA": REC_A}


def test_running_example_grows_where_go_did():
    """Lesson 00: growths at calls 7, 20, 44, 93, 190 and 385 in 400 calls, each a doubling."""
    real = _recorded("lessons_recorded.json")["cases"]["lesson_running"]["growths"]
    assert [c for c, _ in real] == [7, 20, 44, 93, 190, 385]
    assert [s for _, s in real] == [4096 * 2**k for k in range(6)]
    assert _growth_calls(WORKER, REC_A, 400) == [tuple(x) for x in real]


def test_running_example_after_six_calls_ends_32_bytes_above_the_guard():
    """Lessons 00 and 03: 6 calls use 80 + 6 * 168 = 1,088 bytes; the guard is 1,120 below hi."""
    used = ENTRY + WORKER + 6 * CALL
    assert used == 1088
    assert (2048 - GUARD) - used == 32
    g = gs.Runtime().go(gs.Func("main.worker", frame=WORKER))
    for _ in range(6):
        g.call(gs.Func("main.recA", frame=REC_A))
    assert (g.hi - g.sp, g.stack_size, g.trace.grows) == (used, 2048, ())


def test_running_example_call_7_misses_by_8_bytes():
    """Lesson 03: call 7 enters at E = hi - 1,096 and compares E - 32 = hi - 1,128 with the
    guard at hi - 1,120: it fails by 8 bytes, so the running example never hits equality."""
    e_used = ENTRY + WORKER + 6 * CALL + 8
    assert e_used + (REC_A - 128) - (2048 - GUARD) == 8


# --- lesson 03 --------------------------------------------------------------------------------

def test_recorded_prologues_match_the_model():
    """Lesson 03: gostack.prologue gives the instructions go1.27.3 emitted for each frame."""
    recorded = _recorded("prologues.json")
    assert recorded["go"] == "go1.27.3"
    for p in recorded["prologues"]:
        assert gs.prologue.instructions(p["frame"]) == tuple(p["lines"]), p["func"]


@pytest.mark.skipif(not realgo.available(), reason="Go is not installed")
def test_live_compiler_matches_the_recorded_prologues():
    for p in _recorded("prologues.json")["prologues"]:
        live = realgo.prologue(p["func"].split(".")[-1], CORPUS[p["case"]])
        assert (list(live.lines), live.frame) == (p["lines"], p["frame"])


def test_equality_fires_rec_small_128_at_call_114():
    """Lesson 03, `<=` measured: worker 40 and a 128-byte frame (small form: SP itself is
    compared). Call n enters 40 + 40 + 8 + (n - 1) * 136 bytes below hi; at n = 114 that is
    15,456, exactly 16,384 - 928. go1.27.3 grew there, to 32 KiB."""
    case = _recorded("recorded.json")["cases"]["rec_small_128"]
    assert case["frames"] == {"main.rec": 128, "main.worker": 40}
    assert ENTRY + 40 + 8 + 113 * (128 + 8) == 16384 - GUARD
    assert ENTRY + 40 + 8 + 112 * (128 + 8) == 15320 < 16384 - GUARD  # call 113 still fits
    assert [114, 32768] in case["growths"]
    assert (114, 32768) in _growth_calls(40, 128, 120)
    assert not gs.prologue.morestack_needed(0x10000 + 16384 - 15320, 128, 0x10000 + GUARD)
    assert gs.prologue.morestack_needed(0x10000 + 16384 - 15456, 128, 0x10000 + GUARD)


def test_prologue_widget_answer_fires_at_1088():
    """Lesson 03's question: with a 160-byte frame on a 2 KiB stack, E 1,000 below hi fits
    (1,000 + 32 < 1,120) and the check fires from E = 1,120 - 32 = 1,088 below hi."""
    lo = 0x10000
    hi = lo + 2048

    def fires(e_used):
        return gs.prologue.morestack_needed(hi - e_used, REC_A, lo + GUARD)
    assert 1000 + (REC_A - 128) < 2048 - GUARD
    assert (fires(1000), fires(1080), fires(1088)) == (False, False, True)


def test_nosplit_leaf_runs_below_the_guard_without_growth():
    """Lesson 03: after 6 calls of recA, a NOSPLIT leaf with a 120-byte frame enters 8 bytes
    lower and ends 32 - 8 - 120 = -96: 96 bytes below the guard, and nothing grows; the next
    checked call (the 8th) grows the stack."""
    g = gs.Runtime().go(gs.Func("main.worker", frame=WORKER))
    rec = gs.Func("main.recA", frame=REC_A)
    for _ in range(6):
        g.call(rec)
    g.call(gs.Func("main.leaf", frame=120, nosplit=True))
    assert g.snapshot().guard - g.sp == 120 + 8 - 32 == 96
    assert not g.trace.grows
    g.ret()
    g.call(rec)
    assert g.trace.grows[-1].call_index == 8


# --- lesson 02 --------------------------------------------------------------------------------

def test_32_bit_address_space_holds_under_400_thread_stacks():
    """Lesson 02: about 3 GiB of address space per 32-bit process, 8 MiB stacks: 384 < 400."""
    assert (3 << 30) // (8 << 20) == 384 < 400


@pytest.mark.parametrize(("scanned", "start"), [
    ([1619], 4096),  # lesson 02's population: 1,619 + 928 = 2,547, rounded up to 4,096
    ([100], 2048),  # 1,028: never below 2 KiB
    ([1120], 2048),  # 2,048 exactly: already a power of two
    ([1121], 4096),
    ([0, 2000], 2048),  # the average of what was scanned: 1,000 + 928
])
def test_adaptive_start_is_average_plus_928_rounded_up(scanned, start):
    """Lessons 02 and 08: gcComputeStartingStackSize averages hi - sp over the scanned
    goroutines, adds stackGuard (928) and rounds up to a power of two (runtime/stack.go,
    func gcComputeStartingStackSize, go1.27.3)."""
    assert gs.stackalloc.adaptive_start_size(scanned) == start
