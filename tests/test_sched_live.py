"""The scheduler model against real Go, live: a representative subset of the probes
(catalog.LIVE_SUBSET, one per mechanism), built and run now. Skipped without Go.

A probe agrees when at least one of its runs prints exactly one of the model's two
outputs (machine.predictions); with three runs, the usual startup and the startup race
(startup.py) are both covered, and a run that sysmon preempted after 10 ms on a busy
machine does not fail the test on its own.
"""

from __future__ import annotations

import pytest

from gostack import realgo
from gostack.sched import machine
from gostack.sched.catalog import LIVE_SUBSET, PROBES, REFUSED

pytestmark = pytest.mark.go

_avail = realgo.available()
needs_go = pytest.mark.skipif(not _avail.ok, reason=f"no Go toolchain: {_avail.reason}")


@needs_go
@pytest.mark.parametrize("name", LIVE_SUBSET)
def test_live_probe_agrees_with_the_model(name):
    from gostack.sched.realrun import observe

    o = observe(PROBES[name], runs=3)
    pred = machine.predictions(PROBES[name])
    explained = sum(o.count(out) for out in set(pred.values()))
    assert explained >= 1, (
        f"{name}: no run printed the model's order; most common: {o.output[:12]}, "
        f"model: {pred['model'][:12]}")


@needs_go
@pytest.mark.slow
def test_without_sysmons_preemptions_every_run_prints_the_models_order():
    """spawn_257 is the probe that shows the startup race most; built against a runtime
    with sysmon's first-look and 10 ms preemptions patched out (realrun.SYSMON_PATCHES),
    every run must print exactly the model's usual order. The first build recompiles the
    runtime (tens of seconds)."""
    from gostack.sched.realrun import build_quiet_sysmon, run_once

    p = PROBES["spawn_257"]
    binary = build_quiet_sysmon(p)
    model = machine.run(p).output
    assert [run_once(binary, p) == model for _ in range(5)] == [True] * 5


@needs_go
@pytest.mark.parametrize("name", ["crash_deadlock", "crash_wg_reuse", "crash_close_closed"])
def test_live_crashes_are_the_models(name):
    """The model predicts these crash; every real run must die with its message."""
    from gostack.sched.realrun import declined_live

    ok, line = declined_live(REFUSED[name], runs=2)
    assert ok, line
