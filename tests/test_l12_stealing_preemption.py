"""gostack.lessons.l12_stealing_preemption and gostack.sched.timeline: every claim lesson 12
states, its timeline and its explorer.

Expected values come from stage 2's recording read here directly
(sched_stats_recorded.json, 20 real go1.27.3 runs per configuration), from go1.27.3's
runtime/proc.go, or from hand derivations written out here; never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402
import subprocess  # noqa: E402
from dataclasses import replace  # noqa: E402
from functools import partial  # noqa: E402
from importlib.resources import files  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402

import lesson_sources as sources  # noqa: E402
import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack import realgo  # noqa: E402
from gostack.lessons import l12_stealing_preemption as l12  # noqa: E402
from gostack.sched import procs, stats, timeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "12-stealing-and-preemption.ipynb"
SPIN4 = "100 goroutines of ~33 µs, 4 Ps"
HOG = "a 20 ms loop without calls, 1 P"
HOG_OFF = "the same, GODEBUG=asyncpreemptoff=1"
HOG2 = "a 20 ms loop without calls, 2 Ps"
_runs = partial(sources.recorded_runs, "sched_stats_recorded.json")  # config -> its real runs
_prose = partial(sources.prose, LESSON)  # the lesson's markdown


def _off_main(r: dict) -> float:
    return (r["n"] - r["per_p"].get(str(r["main_p"]), 0)) / r["n"]


def _overlap(r: dict) -> int:
    return r["hog"]["end_ns"] - r["hog"]["first_other_ns"]


# ---- how often each claim held in the 20 real runs, counted here from the raw records -------

HELD = {
    "every_p_ran_p4": ("spin_p4_w20000", lambda r: sum(1 for v in r["per_p"].values() if v) == 4,
                       20),
    "four_threads_ran_them_p4": ("spin_p4_w20000", lambda r: len(r["per_m"]) == 4, 20),
    "spin_no_new_threads": ("spin_p4_w20000",
                            lambda r: r["threadcreate"] - r["threads_start"] <= 1, 20),
    "stolen_share_p4": ("spin_p4_w20000", lambda r: 0.6 <= _off_main(r) <= 0.9, 18),
    "stolen_share_p2": ("spin_p2_w20000", lambda r: 0.35 <= _off_main(r) <= 0.65, 19),
    "short_work_every_p": ("spin_p4_w2000",
                           lambda r: sum(1 for v in r["per_p"].values() if v) == 4, 6),
    "hog_preempted": ("hog_p1_n20", lambda r: _overlap(r) > 100_000, 17),
    "hog_asyncpreemptoff": ("hog_p1_n20_asyncoff", lambda r: _overlap(r) < 100_000, 20),
}


def test_claims_held_as_often_as_the_lesson_prints():
    rows = {r.name: r for r in l12.claim_rows(seeds=range(30))}
    assert set(rows) == set(HELD) == set(l12.CLAIMS)
    sources.check_held(rows, HELD, _runs, miss="short_work_every_p")


def test_the_lesson_text_states_the_recorded_numbers():
    text = _prose()
    assert "in only 6 of 20 runs" in text  # short_work_every_p
    assert "4 threads in 20 of 20 real runs" in text  # four_threads_ran_them_p4
    assert "In 3 of 20 runs no other goroutine started" in text  # 20 - 17
    assert "(17 of 20 runs; never with `asyncpreemptoff=1`)" in text
    assert "never stopped the loop in any of 20 runs" in text
    assert "(20 of 20 runs, with no signal)" in text
    # "about three quarters started off main's P": the median share, 4 Ps
    mid = median(_off_main(r) for r in _runs("spin_p4_w20000"))
    assert 0.7 <= mid <= 0.8 and "about three quarters" in text


def test_median_lines_quote_the_recording():
    lines = l12.median_lines(seeds=range(20))
    share = median(_off_main(r) for r in _runs("spin_p4_w20000"))
    delay = median((r["hog"]["first_other_ns"] - r["hog"]["start_ns"]) / 1e6
                   for r in _runs("hog_p1_n20"))
    assert lines[0].startswith(f"median real {share:.3g},")  # 0.767
    assert lines[1].startswith(f"median real {delay:.3g},")  # 14.6
    assert 10 <= delay <= 20  # sysmon: 10 ms on one schedtick, then its next look


# ---- stealing by hand ------------------------------------------------------------------------

def test_steal_orders_visit_every_p_once():
    lines = l12.steal_orders(4, range(8))
    assert lines[0] == "4 Ps: steps coprime with 4: 1, 3"
    # randomEnum: pos = i % 4, inc = coprimes[i / 4 % 2]; derived by hand
    assert lines[1] == "start(0): first P0, step 1: P0 P1 P2 P3"
    assert lines[6] == "start(5): first P1, step 3: P1 P0 P3 P2"
    assert lines[8] == "start(7): first P3, step 3: P3 P2 P1 P0"
    for line in lines[1:]:
        assert sorted(line.split(": ")[-1].split()) == ["P0", "P1", "P2", "P3"]


def test_runqgrab_takes_half_and_runnext_last():
    # runqgrab: n = t - h; n = n - n/2: 7 -> 4, 8 -> 4, 1 -> 1; runnext only on the last pass
    rows = {(g.ring, g.last_pass): g for g in
            (l12.grab(7), l12.grab(8), l12.grab(1), l12.grab(0), l12.grab(0, last_pass=True))}
    assert (rows[7, False].taken, rows[7, False].left) == (4, 3)
    assert (rows[8, False].taken, rows[8, False].left) == (4, 4)
    assert (rows[1, False].taken, rows[1, False].left) == (1, 0)
    assert rows[0, False].taken == 0 and not rows[0, False].took_runnext
    assert rows[0, True].taken == 1 and rows[0, True].took_runnext


# ---- go1.27.3's source, as the lesson cites it ------------------------------------------------

def test_the_lesson_cites_proc_go():
    src = sources.runtime_source("proc.go")
    assert "const forcePreemptNS = 10 * 1000 * 1000 // 10ms" in src
    steal = sources.func(src, "stealWork")
    assert "const stealTries = 4" in steal
    assert "stealTimersOrRunNextG := i == stealTries-1" in steal
    assert "stealOrder.start(cheaprand())" in steal
    grab = sources.func(src, "runqgrab")
    assert "n = n - n/2" in grab and "usleep(3)" in grab
    assert "P might either call into the scheduler soon" in grab
    assert '"might either call into the scheduler soon"' in _prose()
    one = sources.func(src, "preemptone")
    assert "gp.stackguard0 = stackPreempt" in one
    assert "debug.asyncpreemptoff == 0" in one and "preemptM(mp)" in one
    assert "preemptone(pp)" in sources.func(src, "retake")
    assert "wakep()" in sources.func(src, "resetspinning")
    assert "sigPreempt" in sources.func(sources.runtime_source("signal_unix.go"), "preemptM")
    assert "func asyncPreempt()" in sources.runtime_source("preempt.go")


# ---- the timeline -----------------------------------------------------------------------------

def test_timeline_is_the_same_run_as_procs():
    wl = l12.workload(SPIN4)
    tl = timeline.run(wl, 3)
    assert tl.outcome == procs.simulate(wl, 3)


@pytest.mark.parametrize("name", list(l12.WORKLOADS))
def test_timeline_slices_do_not_overlap_and_every_goroutine_ran(name):
    tl = l12.timeline_run(name, 1).tl
    for p in range(tl.gomaxprocs):
        lane = sorted(tl.lane(p), key=lambda s: s.start)
        assert all(a.end <= b.start for a, b in zip(lane, lane[1:], strict=False))
        assert all(0 <= s.start < s.end <= tl.end for s in lane)
    workers = {s.goid for s in tl.slices if s.goid > 2}
    assert len(workers) == tl.outcome.workload.goroutines
    assert {s.goid for s in tl.slices if s.ended == "dead"} == workers
    # the first slice of each worker is on the P that procs counted it on
    per_p = {}
    for g in workers:
        per_p[tl.of(g)[0].p] = per_p.get(tl.of(g)[0].p, 0) + 1
    assert {p: n for p, n in tl.outcome.per_p.items() if n} == per_p


def test_hog_is_cut_by_the_signal_only():
    on, off = l12.timeline_run(HOG).tl, l12.timeline_run(HOG_OFF).tl
    hog = l12.hog_goid(on)
    assert hog == 23  # goids 3..22 are the 20 others, spawned first
    cut = on.of(hog)
    assert [s.ended for s in cut] == ["runnable", "dead"]
    # sysmon preempts after forcePreemptNS = 10 ms on one schedtick
    (req,) = on.preempts
    assert req.what.ran_ns >= 10_000_000 and req.what.how == "stackguard0+signal"
    assert cut[0].end >= req.t
    # without the signal: one slice to the end; the 20 start after it
    assert [s.ended for s in off.of(hog)] == ["dead"]
    assert off.preempts[0].what.how == "stackguard0"
    others = [s.start for s in off.slices if s.goid not in (1, 2, hog)]
    assert min(others) >= off.of(hog)[0].end


def test_two_ps_run_the_others_while_the_loop_runs():
    tl = l12.timeline_run(HOG2).tl
    hog = l12.hog_goid(tl)
    others = [s for s in tl.slices if s.goid not in (1, 2, hog)]
    assert all(s.p != tl.of(hog)[0].p for s in others)
    assert max(s.end for s in others) < tl.preempts[0].t < tl.of(hog)[-1].end


def test_the_lesson_reads_seed_0_and_1_right():
    s0, s1 = l12.timeline_run(SPIN4, 0).tl, l12.timeline_run(SPIN4, 1).tl
    assert (s0.steals[0].what.n, s0.steals[0].what.victim) == (47, 0)
    assert [a.what.n for a in s1.steals[:2]] == [8, 46]
    text = _prose()
    assert "steals 47 of its queue" in text and "takes 8, then 46" in text


def test_figure_and_lines():
    st = l12.timeline_run(SPIN4)
    lines = st.lines()
    assert lines[0] == f"{SPIN4}, seed 0"
    assert f"{len(st.tl.steals)} steals" in lines[2]
    fig = l12.timeline_figure([st, l12.timeline_run(HOG)])
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["P0", "P1", "P2", "P3"]
    assert "1 preemption" in fig.axes[1].get_title(loc="left")
    # real Go numbers it G26: main G1, the runtime's G2-G5, the 20 others G6-G25, the loop last
    assert l12.timeline_run(HOG).lines()[-1] == "G26, the loop, stopped at 11.22 ms by the signal"
    assert "nothing stopped it" in l12.timeline_run(HOG_OFF).lines()[-1]


def test_workloads_are_the_recorded_calibrations():
    assert l12.workload(HOG) == stats.workload("hog_p1_n20")
    assert l12.workload(HOG_OFF) == stats.workload("hog_p1_n20_asyncoff")
    assert l12.workload(SPIN4) == replace(stats.workload("spin_p4_w20000"), n=100)


# ---- the explorer -----------------------------------------------------------------------------

def test_readout_counts_wakep_calls_and_says_which_steals_it_lists():
    lines = l12.timeline_run(SPIN4).lines()
    tl = l12.timeline_run(SPIN4).tl
    # 4 wakep calls with 3 idle Ps: counted as calls, not as Ms
    assert len(tl.spinning_starts) == 4 and len(tl.outcome.per_p) - 1 == 3
    assert lines[2] == f"wakep started a spinning M 4 times; {len(tl.steals)} steals, the first 3:"
    assert lines[3].endswith("P3 steals 47 of P0's ring (after looking at 1 victim)")


@pytest.mark.parametrize("name", [HOG, HOG_OFF])
def test_one_p_runs_do_not_depend_on_the_seed(name):
    runs = {tuple(l12.timeline_run(name, s).lines()[1:]) for s in l12.SEEDS}
    assert len(runs) == 1
    assert any("every seed gives this run" in line for line in runs.pop())
    assert not any("every seed" in line for line in l12.timeline_run(SPIN4).lines())


def test_timeline_explorer_follows_its_controls():
    box = l12.timeline_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "Image", "IntSlider"]
    (pick, seed), text, image = box.children[0].children, box.children[1], box.children[2]
    assert (pick.value, seed.value) == (SPIN4, 0)
    assert "P3 steals 47 of P0&#x27;s ring" in text.value  # (HTML-escaped)
    first = image.value
    seed.value = 1
    assert "seed 1" in text.value and "P3 steals 8 of P0" in text.value
    assert image.value != first
    pick.value = HOG_OFF
    assert "nothing stopped it" in text.value
    pick.value = HOG
    assert "stopped at 11.22 ms by the signal" in text.value


def test_timeline_explorer_options():
    box = l12.timeline_explorer()
    pick, seed = box.children[0].children
    assert [value for _label, value in pick.options] == list(l12.WORKLOADS)  # (label, key)
    assert (seed.min, seed.max) == (0, 9)


# ---- preemptprobe: which loops preemption stops (its own recording) -------------------------

def _preempt_runs(config: str) -> list[dict]:
    data = json.loads(files("gostack").joinpath("data/sched_preempt_recorded.json").read_text())
    assert data["go"] == "go1.27.3"
    return data["configs"][config]["runs"]


# Runs in which another goroutine started more than 0.1 ms before the loop's end, counted here
CUT = {"nocall": 20, "nocall_asyncoff": 0, "leaf_asyncoff": 0, "call_asyncoff": 20, "call": 20}


def test_preempt_table_counts_the_recorded_runs():
    for config, times in CUT.items():
        runs = _preempt_runs(config)
        assert len(runs) == 20
        assert sum(r["end_ns"] - r["first_other_ns"] > 100_000 for r in runs) == times, config
    lines = l12.preempt_table()
    rows = [line.split() for line in lines[1:]]
    assert [r[-2] for r in rows] == ["20/20", "0/20", "0/20", "20/20", "20/20"]
    assert lines[3].startswith("calls a leaf (NOSPLIT)") and "asyncpreemptoff=1" in lines[3]
    text = _prose()
    assert "only the loop whose calls pass a prologue was stopped: 20 of 20 runs, against 0 of " \
           "20 for the other two" in text
    # the loops without a check ran to their end: the first other started after it
    for config in ("nocall_asyncoff", "leaf_asyncoff"):
        assert all(r["first_other_ns"] >= r["end_ns"] - 100_000 for r in _preempt_runs(config))


def test_preemptprobe_leaf_has_no_prologue_and_call_has_one():
    """The compiler's own output: the leaf has no morestack call (NOSPLIT), the function
    that calls another has one (lesson 03's check)."""
    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    from gostack.sched import preemptprobe

    binary = preemptprobe.build()

    def dis(name):
        return subprocess.run([a.go, "tool", "objdump", "-s", f"^main.{name}$", str(binary)],
                              capture_output=True, text=True, check=True).stdout

    assert "TEXT main.leaf" in dis("leaf") and "morestack" not in dis("leaf")
    assert "runtime.morestack" in dis("withCall")


def test_preemptprobe_live_leaf_and_call():
    """Live runs of the two loops that differ only in their prologue, with no signal: the
    leaf's can never be cut; the checked one was cut in 20 of 20 recorded runs (live: in
    one of up to 3, since a loaded machine can shorten its calibrated loop under 10 ms)."""
    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    from gostack.sched import preemptprobe as pp

    binary = pp.build()
    assert any(pp.run_once(binary, pp.CONFIGS["call_asyncoff"]).cut for _ in range(3))
    assert not pp.run_once(binary, pp.CONFIGS["leaf_asyncoff"]).cut
