"""The scheduler model against what go1.27.3 printed (gostack/data/sched_recorded.json).

No Go needed. For each probe the model allows two outputs (machine.predictions): the
usual startup and the one where sysmon's first look preempted the init (one schedtick
more; see gostack/sched/startup.py). The recorded output (the most common of the runs)
must be one of them, exactly, token for token; and every recorded run is counted.
"""

from __future__ import annotations

from functools import cache

import pytest

from gostack.sched import machine
from gostack.sched.catalog import PROBES, REFUSED
from gostack.sched.realrun import RUN_ENV, check_refused, load_recorded, model_refusal
from gostack.sched.render import digest, fingerprint

REC = load_recorded()


@cache
def predictions(name: str) -> dict[str, tuple[str, ...]]:
    return machine.predictions(PROBES[name])


def test_recorded_with_the_kits_go_and_environment():
    assert REC["go_version"] == "go1.27.3"
    assert REC["goos_goarch"] == "linux/amd64"
    assert REC["env"] == RUN_ENV


def test_every_probe_is_recorded_from_its_current_go_source():
    assert set(REC["probes"]) == set(PROBES)
    stale = [n for n, p in PROBES.items() if REC["probes"][n]["fingerprint"] != fingerprint(p)]
    assert stale == [], f"re-record with scripts/record_sched.py --probe: {stale}"


@pytest.mark.parametrize("name", list(PROBES))
def test_the_model_predicts_the_recorded_order(name):
    p, case = PROBES[name], REC["probes"][name]
    pred = predictions(name)
    explained = sum(case["observed"].get(d, 0) for d in {digest(o) for o in pred.values()})
    assert sum(case["observed"].values()) == case["runs"]
    if p.long_slice:
        # main's one long slice often passes sysmon's 10 ms on a loaded machine (stage 2),
        # so stock runs may rarely print the model's order; the quiet_sysmon runs
        # (below) are the check for these probes.
        return
    assert tuple(case["output"]) in pred.values()
    assert explained >= case["runs"] // 2 + 1  # a majority of runs, token for token


def test_most_runs_of_most_probes_are_explained():
    runs = sum(c["runs"] for c in REC["probes"].values())
    explained = sum(c["as_model"] + c["as_model_startup_preempted"]
                    for c in REC["probes"].values())
    assert explained / runs > 0.9


def test_without_sysmons_preemptions_every_recorded_run_is_the_models_order():
    """The same probes built against proc.go with realrun.SYSMON_PATCHES: no first-look
    preemption at schedtick 0, no 10 ms preemption. Then nothing varies, and every run
    printed exactly the model's usual order."""
    from gostack.sched.realrun import SYSMON_PATCHES

    assert REC["sysmon_patches"] == [list(x) for x in SYSMON_PATCHES]
    for name in PROBES:
        quiet = REC["probes"][name]["quiet_sysmon"]
        assert quiet["runs"] >= 5
        assert quiet["observed"] == {digest(predictions(name)["model"]): quiet["runs"]}, name


def test_every_refused_probe_is_recorded_from_its_current_go_source():
    assert set(REC["refused"]) == set(REFUSED)
    assert all(REC["refused"][n]["fingerprint"] == fingerprint(p) for n, p in REFUSED.items())


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_model_refuses_or_crashes_as_real_go_justifies(name):
    """Refused: a runtime without sysmon's preemptions and Mutex starvation printed the
    model's unrefused order in every run. Crash: every real run died with the model's
    message."""
    ok, line = check_refused(REFUSED[name], REC["refused"][name])
    assert ok, line


def test_the_refusals_were_needed():
    """Without refusing, the model would have been wrong: most stock runs of each refused
    probe (but spawn_6000, preempted in some runs only) print another order."""
    for name, case in REC["refused"].items():
        if model_refusal(REFUSED[name])[0] != "refused" or name == "refused_spawn_6000":
            continue
        assert case["as_unrefused_model"] < case["runs"] // 2, name
    assert REC["refused"]["refused_spawn_6000"]["as_unrefused_model"] < \
        REC["refused"]["refused_spawn_6000"]["runs"]
