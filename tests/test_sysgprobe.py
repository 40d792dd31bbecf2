"""The GC's mark workers as goroutines: sysgprobe's recorded real runs (go1.27.3) against
what the Go source says, and lesson 12's split of the mark work.

Expected values are derived here from go1.27.3's source, not from gostack:
* mgc.go gcBgMarkStartWorkers: ``for gcBgMarkWorkerCount < gomaxprocs { go
  gcBgMarkWorker(ready) ... }``, called by every gcStart, and workers never exit: after
  GCs started with GOMAXPROCS g1, g2, ... there are max(g1..gk) workers, none before;
* debug.go NumGoroutine is gcount(false), which subtracts sched.ngsys (every goroutine
  whose function is in package runtime, traceback.go isSystemGoroutine): it stays 1;
* mgcpacer.go startCycle's comment: rounding 25% of the Ps to whole dedicated workers is
  more than 30% off "for GOMAXPROCS<=3 or GOMAXPROCS=6", so fractional workers run then.
"""

from __future__ import annotations

import dataclasses

import pytest

from gostack import realgo
from gostack.lessons import l12_sysg
from gostack.sched import sysgprobe

RECORDED = sysgprobe.load_recorded()

#: what the source says, per configuration: the workers after 0, 1, 2, ... GCs
EXPECTED_WORKERS = {"1": [0, 1], "2": [0, 2], "4": [0, 4], "4,2,8": [0, 4, 4, 8]}

#: go1.27.3 runtime.main and its init: forcegchelper (proc.go init), bgsweep and
#: bgscavenge (gcenable), the finalizer goroutine (createfing), the GOMAXPROCS updater
#: (defaultGOMAXPROCSUpdateEnable); the main goroutine has no creator.
BEFORE_ANY_GC = {"(none)": 1, "runtime.init.7": 1, "runtime.gcenable": 2,
                 "runtime.createfing": 1, "runtime.defaultGOMAXPROCSUpdateEnable": 1}


def test_recorded_with_go1_27_3_and_twenty_runs_each():
    assert RECORDED["go"] == "go1.27.3"
    assert set(RECORDED["configs"]) == set(EXPECTED_WORKERS)
    for name in EXPECTED_WORKERS:
        assert len(sysgprobe.recorded_runs(name, RECORDED)) == 20


@pytest.mark.parametrize("name", list(EXPECTED_WORKERS))
def test_one_worker_per_p_started_by_the_gc_and_never_removed(name):
    for run in sysgprobe.recorded_runs(name, RECORDED):
        assert [c.workers for c in run] == EXPECTED_WORKERS[name]
        for c in run:
            # parked in gopark(waitReasonGCWorkerIdle) until findRunnableGCWorker
            assert c.worker_status == ({"GC worker (idle)": c.workers} if c.workers else {})


@pytest.mark.parametrize("name", list(EXPECTED_WORKERS))
def test_numgoroutine_leaves_out_every_runtime_goroutine(name):
    for run in sysgprobe.recorded_runs(name, RECORDED):
        for c in run:
            assert c.num_goroutine == 1
            # two independent counts of all goroutines: gcount(true) and the dump
            assert c.all_goroutines == sum(c.created_by.values())
            assert c.system == 5 + c.workers
            others = {k: v for k, v in c.created_by.items() if k != sysgprobe.WORKER_CREATOR}
            assert others == BEFORE_ANY_GC


def test_claim_holds_on_every_recorded_run_and_fails_on_a_wrong_one():
    for name in sysgprobe.CONFIGS:
        for run in sysgprobe.recorded_runs(name, RECORDED):
            assert l12_sysg.claim_holds(name, run)
    run = sysgprobe.recorded_runs("4,2,8", RECORDED)[0]
    # as if lowering GOMAXPROCS had stopped two workers
    fewer = dict(run[2].created_by, **{sysgprobe.WORKER_CREATOR: 2})
    bad = [*run[:2], dataclasses.replace(run[2], created_by=fewer), run[3]]
    assert not l12_sysg.claim_holds("4,2,8", bad)
    counted = [*run[:1], dataclasses.replace(run[1], num_goroutine=5), *run[2:]]
    assert not l12_sysg.claim_holds("4,2,8", counted)


def test_mark_split_by_hand():
    # 0.25 * procs; dedicated = round half up; fractional goal when that is > 30% off
    by_hand = {1: (0, 0.25), 2: (0, 0.25), 3: (0, 0.25), 4: (1, 0.0), 5: (1, 0.0),
               6: (1, 0.5 / 6), 8: (2, 0.0), 16: (4, 0.0)}
    for procs, (dedicated, fractional) in by_hand.items():
        s = l12_sysg.mark_split(procs)
        assert (s.dedicated, s.fractional) == pytest.approx((dedicated, fractional))


def test_fractional_workers_only_where_the_source_says():
    fractional = {p for p in range(1, 65) if l12_sysg.mark_split(p).fractional}
    assert fractional == {1, 2, 3, 6}
    for p in range(1, 65):
        s = l12_sysg.mark_split(p)
        if s.fractional:  # the two together make exactly 25%
            assert s.dedicated + s.fractional * p == pytest.approx(0.25 * p)


def test_census_table_reads_the_recording():
    lines = l12_sysg.census_table()
    assert lines[-1].split()[:5] == ["4→2→8", "3", "1", "14", "8"]
    assert lines[-2].split()[:5] == ["4→2", "2", "1", "10", "4"]
    assert all(line.endswith("20/20") for line in lines[1:])


@pytest.mark.go
def test_live_runs_show_the_claim():
    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    for name, runs in l12_sysg.live_runs(runs=2).items():
        for run in runs:
            assert l12_sysg.claim_holds(name, run), (name, run)
