"""gostack.lessons.l10_run_queues and gostack.sched.replay: every claim lesson 10 makes,
and its step-through.

Expected values come from the recorded real runs (gostack/data/sched_recorded.json,
read here directly), from go1.27.3's runtime source, or from the queue rules worked out
by hand here; never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import html  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from functools import partial  # noqa: E402
from importlib.resources import files  # noqa: E402
from pathlib import Path  # noqa: E402

import lesson_sources as sources  # noqa: E402
import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack.lessons import l10_run_queues as l10  # noqa: E402
from gostack.sched import catalog, machine, replay  # noqa: E402
from gostack.sched.trace import Queues  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "10-run-queues.ipynb"
_prose = partial(sources.prose, LESSON)  # the lesson's markdown


def _probes() -> dict:
    return json.loads(files("gostack").joinpath("data/sched_recorded.json").read_text())[
        "probes"]


def _w(*ks: int) -> list[str]:
    return [f"w{k}" for k in ks]


# ---- replay: the queues after every event ------------------------------------------------

@pytest.mark.parametrize("name", sorted(catalog.PROBES))
def test_replay_matches_the_machines_own_snapshots(name):
    """After every execute, the fold over the events equals the state the machine had
    (its Queues snapshot): the step-through draws what the simulator did."""
    res = machine.run(catalog.PROBES[name], snapshots=True)
    states = replay.states(res.trace)
    seen = 0
    for e, s in zip(res.trace.events, states, strict=True):
        if isinstance(e, Queues):
            seen += 1
            assert s == replay.QueueState(e.running, e.runnext, e.runq, e.global_,
                                          e.schedtick), (name, e)
    assert seen == len(res.trace.run_order)


# ---- section 1: the constants, as go1.27.3 has them ---------------------------------------

def test_the_ring_has_256_slots_and_the_check_is_every_61_ticks():
    assert re.search(r"\n\trunq +\[256\]guintptr\n", sources.runtime_source("runtime2.go"))
    assert re.search(r"\n\trunnext guintptr\n", sources.runtime_source("runtime2.go"))
    proc = sources.runtime_source("proc.go")
    find = sources.func(proc, "findRunnable")
    assert "if pp.schedtick%61 == 0 && !sched.runq.empty() {" in find
    assert "to ensure fairness" in find and "to ensure fairness" in _prose()
    assert (l10.RUNQ_SIZE, l10.GLOBAL_CHECK_TICKS) == (256, 61)
    assert l10.rules_lines()[0].startswith("local ring: 256 slots per P")


# ---- section 2: ten goroutines -------------------------------------------------------------

def test_ten_goroutines_print_9_then_0_to_8_in_every_real_run():
    p = _probes()["spawn_10"]
    assert p["output"] == [*_w(9, *range(9)), "end0"]
    assert (p["runs"], p["as_model"]) == (11, 11)
    assert l10.recorded("spawn_10").agrees
    assert _probes()["spawn_3"]["output"] == ["w2", "w0", "w1", "end0"]
    lines = l10.compare_lines(("spawn_10",))
    assert lines[1] == "  real:  w9 w0 w1 w2 w3 w4 w5 w6 w7 w8 end0"
    assert lines[2] == "  model: the same"


def test_queues_when_main_parks_ten():
    """By hand: each go kicks runnext to the ring's tail; G5 was in runnext first."""
    s = l10.steps("spawn_10")[l10.main_parks("spawn_10")]
    assert s.label(s.state.runnext) == "w9"
    assert [s.label(g) for g in s.state.runq] == ["G5", *_w(*range(9))]
    assert (s.state.global_, s.state.schedtick, s.state.running) == ((), 4, 0)


def test_w9_inherits_mains_slice_then_each_g_ticks_once():
    runs = [s for s in l10.steps("spawn_10") if s.is_run]
    assert [s.label(s.event.goid) for s in runs] == ["w9", "G5", *_w(*range(9)), "main"]
    assert [(s.event.where, s.event.schedtick) for s in runs[:3]] == [
        ("runnext", 4), ("runq", 5), ("runq", 6)]
    assert "inheriting the time slice (schedtick stays 4)" in runs[0].text


# ---- the answer after the widget: Gosched, channel and WaitGroup wake-ups ------------------

def test_gosched_and_wakeups_as_recorded():
    p = _probes()
    assert p["main_gosched"]["output"] == ["m0", "w2", "w0", "w1", "m0", "end0"]
    assert p["chan_ready_runnext"]["output"] == ["w3", "r0<3", "w0", "w1", "w2", "end0"]
    assert p["wg_done_wakes_main"]["output"] == ["w3", "a0", "m0", "w0", "w1", "w2", "end0"]
    for name in ("main_gosched", "chan_ready_runnext", "wg_done_wakes_main"):
        assert (p[name]["runs"], p[name]["as_model"]) == (11, 11)
        assert l10.recorded(name).agrees
    texts = [s.text for s in l10.steps("main_gosched")]
    assert "main calls Gosched: to the global queue" in texts
    assert "globrunqput: main to the global queue's tail" in texts
    # the readied r goes into runnext of the sender's P, and runs next
    texts = [s.text for s in l10.steps("chan_ready_runnext")]
    k = texts.index("w3 readies r0 (goready)")
    assert texts[k + 1:k + 4] == [
        "runqput: r0 into the empty runnext", "w3 returns (goexit0)",
        "schedule: r0 from runnext, inheriting the time slice (schedtick stays 6)"]
    runs = [s for s in l10.steps("chan_ready_runnext") if s.is_run]
    order = [s.label(s.event.goid) for s in runs]
    assert order[order.index("w3") + 1] == "r0"


# ---- section 4: 300 goroutines -------------------------------------------------------------

def test_queues_when_main_parks_300():
    """By hand: 256 kicks fill the ring (G5, w0..w254); w256's kick of w255 finds it full:
    G5, w0..w126 (128) and w255 go to the global queue; w257..w299 kick w256..w298."""
    s = l10.steps("spawn_300")[l10.main_parks("spawn_300")]
    assert s.label(s.state.runnext) == "w299"
    assert [s.label(g) for g in s.state.runq] == _w(*range(127, 255), *range(256, 299))
    assert [s.label(g) for g in s.state.global_] == ["G5", *_w(*range(127)), "w255"]
    assert len(s.state.runq) == 171 and len(s.state.global_) == 129


def test_300_order_positions_are_the_recorded_ones():
    out = _probes()["spawn_300"]["output"]
    # w299, then the ring; the 61-tick checks at 61 (G5, silent) and 122 (w0): ticks 5..61
    # run w127..w183, 63..122 run w184..w243, so w0 is printed 1 + 117 + 1 = 119th
    assert out[:3] == ["w299", "w127", "w128"]
    assert out.index("w0") + 1 == 1 + (243 - 127 + 1) + 1 == 119
    assert out.index("w1") + 1 == 174 and out[-2:] == ["w255", "end0"]
    lines = l10.landmark_lines("spawn_300", ("w299", "w127", "w0", "w1", "w255"))
    assert lines[3].split()[:3] == ["w0", "#119", "#119"]
    assert "the 61-tick check, schedtick 123" in lines[3]  # 2 x 61 + 1
    assert lines[4].split()[:3] == ["w1", "#174", "#174"] and "a batch" in lines[4]
    assert lines[5].split()[:3] == ["w255", "#300", "#300"]
    p = _probes()["spawn_300"]
    assert (p["runs"], p["as_model"], p["as_model_startup_preempted"]) == (11, 8, 3)
    text = _prose()
    assert "w0, the 119th to print" in text
    assert "Eight of 11 real runs printed this order; the other 3" in text


@pytest.mark.parametrize("n", [255, 256, 257, 300, 1000, 5000])
def test_overflows_follow_the_ring_rule(n):
    """n spawns make n kicks (G5, w0..w(n-2)); the first overflow is kick 257, and each
    overflow leaves 128 in the ring: one more per 129 kicks."""
    expected = 0 if n < 257 else (n - 257) // 129 + 1
    assert l10.overflows(f"spawn_{n}") == expected
    if n == 5000:
        assert expected == 37 and "overflows the ring 37 times" in _prose()


# ---- section 5: 5,000 ------------------------------------------------------------------------

def test_5000_real_runs_disagree_unless_sysmon_is_quiet():
    p = _probes()["spawn_5000"]
    assert (p["runs"], p["as_model"], p["other"]) == (11, 1, 10)
    assert len(p["observed"]) == 11  # every run printed its own order
    assert (p["quiet_sysmon"]["runs"], p["quiet_sysmon"]["as_model"]) == (5, 5)
    tree = _probes()["spawn_5000_tree"]
    assert (tree["runs"], tree["as_model"]) == (11, 8)
    text = _prose()
    assert "Only 1 of 11 real runs of `spawn_5000`" in text and "all 11 differed" in text
    assert "5 of 5 runs printed the simulator's order" in text and "8 of 11" in text
    assert l10.compare_lines(("spawn_5000",))[1].startswith("  one:   ")


# ---- the figure and the step-through --------------------------------------------------------

def test_queues_figure_names_the_first_slots_and_counts_the_rest():
    ax = l10.queues_figure("spawn_300").axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "w299" in texts and "w127" in texts and "G5" in texts
    assert "+157" in texts and "+115" in texts  # 171 - 14, 129 - 14
    assert "171/256" in texts and "129" in texts


def test_steps_start_at_main_and_follow_the_trace():
    for name in l10.EXPLORER_PROBES:
        st = l10.steps(name)
        assert st[0].text == "main.main starts" and st[0].state.runnext == 5
        ex = [s.event.goid for s in st if s.is_run]
        assert tuple(ex) == l10.run(name).trace.run_order[-len(ex):]


def test_explorer_steps_and_jumps_to_the_next_run():
    box = l10.queues_explorer("spawn_10")
    assert sorted(set(_kinds(box))) == ["Button", "Dropdown", "HTML", "Image", "IntSlider"]
    (probe, back, fwd, nxt), (slider,) = box.children[0].children, box.children[1].children
    image, html_ = box.children[2].children[0], box.children[2].children[1].children[0]

    class _Text:  # the readout as a learner reads it (HTML entities decoded)
        @property
        def value(self) -> str:
            return html.unescape(html_.value)
    text = _Text()
    assert (probe.value, slider.value, back.disabled) == ("spawn_10", 1, True)
    assert "step 1 of 58" in text.value and "runnext    G5" in text.value
    first = image.value
    fwd.click()
    assert slider.value == 2 and "go w(0): newproc" in text.value and not back.disabled
    # the question: after main parks, who runs? next run twice: w9, then G5
    slider.value = l10.main_parks("spawn_10") + 1
    nxt.click()
    assert "schedule: w9 from runnext" in text.value and image.value != first
    nxt.click()
    assert "schedule: G5 from the ring's head (schedtick 5)" in text.value
    back.click()
    assert "w9 records w9" in text.value or "w9 returns" in text.value
    slider.value = slider.max
    assert fwd.disabled and nxt.disabled
    probe.value = "main_gosched"
    # a fresh slider (the browser's keeps its first range for End and PageUp), wired as
    # the first was
    (fresh,) = box.children[1].children
    assert fresh is not slider and fresh.value == 1
    assert fresh.max == len(l10.steps("main_gosched")) != slider.max
    assert f"step 1 of {fresh.max}" in text.value
    fresh.value = fresh.max
    assert f"step {fresh.max} of {fresh.max}" in text.value and fwd.disabled
    back.click()
    assert fresh.value == fresh.max - 1


def test_explorer_offers_catalog_probes_only():
    box = l10.queues_explorer()
    probe = box.children[0].children[0]
    assert set(probe.options) <= set(catalog.PROBES)
    assert "spawn_10" in probe.options and "spawn_300" in probe.options
