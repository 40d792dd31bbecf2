"""gostack.lessons.l09_why_scheduler: every number lesson 09 states, and its explorer.

Expected values come from the recordings read here directly (lesson 01's
thread_cost_recorded.json and oscost_recorded.json; stage 2's sched_stats_recorded.json,
20 real go1.27.3 runs per configuration), from go1.27.3's runtime/proc.go, or from
arithmetic written out here; never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402

import lesson_sources as sources  # noqa: E402
import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack import realgo  # noqa: E402
from gostack.lessons import l09_why_scheduler as l09  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "09-why-a-scheduler.ipynb"
_runs = partial(sources.recorded_runs, "sched_stats_recorded.json")  # config -> its real runs
_prose = partial(sources.prose, LESSON)  # the lesson's markdown


# ---- section 1: lesson 01's recorded costs ----------------------------------------------

def test_costs_are_lesson_01s_recordings():
    threads = sources.recording("thread_cost_recorded.json")["parts"]
    go = sources.recording("oscost_recorded.json")["raw"]
    c = l09.lesson01_costs()
    assert c.thread_create_ns == threads["creation"]["pthread"]["cpu_ns"] == 42367.698
    assert c.thread_switch_ns == threads["switch"]["pipe"]["ns"] == 2886.84265
    # a goroutine: the median over the 100,000-goroutine runs of CPU / goroutines
    big = go["mem"]["100000"]
    assert c.goroutine_create_ns == median(r["create_cpu_ns"] / 100_000 for r in big)
    # a channel handoff: the median round trip over two switches
    assert c.goroutine_switch_ns == pytest.approx(
        median(r["wall_ns"] / r["rounds"] / 2 for r in go["switch"]["chan_p1"]))
    assert (c.goroutines, c.goroutine_threads) == (100_000, 4)
    assert {r["threads"] for r in big} == {4}


def test_the_lesson_says_18_times_and_the_recordings_agree():
    c = l09.lesson01_costs()
    # 42.4 us / 2.34 us and 2.89 us / 157 ns
    assert 17.5 < c.create_ratio < 18.5 and 17.5 < c.switch_ratio < 18.5
    text = _prose()
    assert "costs 18 times a goroutine to create and 18 times to switch to" in text
    assert "cost 18 times a goroutine to create and to switch to" in text  # the summary
    assert "100,000 parked goroutines lived in a process of 4 threads" in text


# ---- section 2: threads created for N waiting goroutines ----------------------------------

# Sorted threads created, read off the recording by hand (threadcreate - threads_start).
RECORDED = {
    "chan_p1_n20": (0, 0, 0.0),
    "chan_p1_n60": (0, 0, 0.0),
    "read_p1_n20": (2, 20, 19.0),
    "read_p1_n60": (14, 60, 43.5),
    "nanosleep_p1_n20": (14, 20, 19.0),
}


@pytest.mark.parametrize("config", sorted(RECORDED))
def test_recorded_threads_are_the_real_runs(config):
    lo, hi, mid = RECORDED[config]
    created = [sources.created(r) for r in _runs(config)]
    assert (min(created), max(created), median(created)) == (lo, hi, mid)
    kind, _, n = config.split("_")
    rec = l09.recorded(kind, int(n[1:]))
    assert sorted(rec.created) == sorted(created) and len(created) == 20


def test_threads_table_shows_real_and_simulated_medians():
    table = l09.threads_table(seeds=range(40))
    rows = {line[:38].strip(): line[38:].split() for line in table.splitlines()[3:]}
    assert rows["20 x channel receive"] == ["0", "(0-0)", "0"]
    assert rows["60 x channel receive"] == ["0", "(0-0)", "0"]
    assert rows["20 x pipe read (blocking syscall)"][:2] == ["19", "(2-20)"]
    assert rows["60 x pipe read (blocking syscall)"][:2] == ["43.5", "(14-60)"]
    assert rows["20 x syscall.Nanosleep 50 ms"][:2] == ["19", "(14-20)"]
    # the simulator: within one thread of the real median, except the known miss (60 readers)
    for name, cells in rows.items():
        if not name.startswith("60 x pipe"):
            assert abs(float(cells[2]) - float(cells[0])) <= 1, name


# Each claim the lesson prints, and how often it held in the 20 real runs, counted here.
HELD = {
    "chan_no_threads_20": ("chan_p1_n20", lambda r: sources.created(r) == 0, 20),
    "chan_no_threads_60": ("chan_p1_n60", lambda r: sources.created(r) == 0, 20),
    "read_thread_each_20": ("read_p1_n20", lambda r: sources.created(r) >= 18, 19),
    "read_thread_each_60": ("read_p1_n60", lambda r: sources.created(r) >= 58, 6),
    "nanosleep_thread_each": ("nanosleep_p1_n20", lambda r: sources.created(r) >= 18, 18),
    "nanosleep_overlap": ("nanosleep_p1_n20", lambda r: r["drain_ns"] < 100_000_000, 18),
}


def test_claims_held_as_often_as_the_lesson_prints():
    rows = {r.name: r for r in l09.claim_rows(seeds=range(40))}
    assert set(rows) == set(HELD) == set(l09.CLAIMS)
    sources.check_held(rows, HELD, _runs, miss="read_thread_each_60")


def test_the_lesson_text_states_the_recorded_numbers():
    text = _prose()
    created60 = [sources.created(r) for r in _runs("read_p1_n60")]
    assert f"created only {min(created60)} threads" in text
    chan = [sources.created(r) for c in ("chan_p1_n20", "chan_p1_n60") for r in _runs(c)]
    assert len(chan) == 40 and set(chan) == {0}
    assert "no thread in any of 40 real runs" in text
    assert f"median {median(sources.created(r) for r in _runs('read_p1_n20')):g} for 20" in text


# ---- section 3: sysmon and handoffp, as go1.27.3's proc.go has them ------------------------

def test_the_lesson_quotes_proc_go():
    src = sources.runtime_source("proc.go")
    assert "start with 20us sleep" in sources.func(src, "sysmon")
    assert "at least 20us" in sources.func(src, "retake")
    assert "handoffp(pp)" in sources.func(src, "retake")
    assert "startm(pp" in sources.func(src, "handoffp")
    assert "newm(" in sources.func(src, "startm")
    assert 'throw("thread exhaustion")' in sources.func(src, "checkmcount")
    assert re.search(r"sched\.maxmcount = 10000\n", sources.func(src, "schedinit"))
    assert l09.MAX_THREADS == 10_000
    text = _prose()
    for quote in ('"start with 20us sleep"', '"at least 20us"', '"thread exhaustion"'):
        assert quote in text
    # retake's test: syscalltick, moved only by exitsyscall, against its previous look's
    assert "int64(pd.syscalltick) != syst" in sources.func(src, "retake")
    assert "syscalltick++" not in sources.func(src, "reentersyscall")
    assert "pp.syscalltick++" in sources.func(src, "exitsyscall")
    assert "however young the call" in text and "at least 20 µs" not in text


def test_handoff_story_one_retake_and_one_m_per_reader():
    lines = l09.handoff_story("read", 3)
    assert len(lines) == 9
    for i in range(3):
        enter, retake, start = lines[3 * i:3 * i + 3]
        assert "enters a system call" in enter and "keeps P0" in enter
        assert "retake takes P0" in retake and "handoffp" in retake
        assert "startm" in start
    # runtime.main left one idle M (recorded: threads at main's start, median 3 = m0 +
    # sysmon + 1): the first handoff takes it, every later one creates a thread
    assert "an idle thread" in lines[2]
    assert all("a new thread (newm)" in lines[k] for k in (5, 8))
    # goids as real Go gives them (lesson 10's probes: main's first goroutine is G6); the
    # last started waits in runnext and runs first, then the ring's G6 and G7
    assert [line.split()[2] for line in lines[0::3]] == ["G8", "G6", "G7"]
    # each call is retaken at sysmon's next look, well under 20 µs after it began
    at = [float(line.split()[0]) for line in lines]
    assert [round((at[k + 1] - at[k]) * 1000) for k in (0, 3, 6)] == [13, 7, 16]
    assert "13 µs, 7 µs and 16 µs later" in _prose()


def test_channel_waiters_never_need_a_thread():
    for n in l09.NS:
        b = l09.blocking_run("chan", n)
        assert (b.created, b.retake_ms) == (0, ())


def test_readers_need_a_thread_each_up_to_gos_limit():
    # N readers: N handoffs; the first takes the idle M, so N - 1 threads created
    for n in (20, 60, 1_000):
        b = l09.blocking_run("read", n)
        assert (b.created, len(b.retake_ms)) == (n - 1, n)
        assert not any("thread exhaustion" in line for line in b.lines())
    big = l09.blocking_run("read", 10_000)
    assert big.threads == 2 + 1 + 9_999 > 10_000  # m0, sysmon, the idle M, the new ones
    assert any('"thread exhaustion" (checkmcount)' in line for line in big.lines())


def test_sleepers_reuse_threads_once_the_first_sleeps_end():
    b = l09.blocking_run("nanosleep", 1_000)
    assert len(b.retake_ms) == 1_000 and b.created < 1_000
    assert b.created == 264  # the lesson's answer quotes it
    assert "(264 in the simulator)" in _prose()
    assert b.real is None and "no run recorded for this N" in b.lines()[2]


def test_threads_figure_draws_each_state():
    states = [l09.blocking_run("chan", 20), l09.blocking_run("read", 20)]
    ax = l09.threads_figure(states).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["20 x channel receive: 0; real median 0",
                      "20 x pipe read (blocking syscall): 19; real median 19"]
    # the legend sits above the real medians' dashed lines (the axes' top 15% is free)
    bottom, top = ax.get_ylim()
    assert 19 < bottom + 0.85 * (top - bottom)
    assert not any(t.get_visible() and "limit" in t.get_text() for t in ax.texts)


def test_the_big_figure_marks_gos_thread_limit():
    # 10,000 readers pass checkmcount's limit: m0, sysmon and the idle M count, so the
    # line is at 10,000 - 3 threads created (go1.27.3 schedinit: sched.maxmcount = 10000)
    fig = l09.ThreadsPainter()(l09.blocking_run("read", 10_000))
    ax = fig.axes[0]
    (text,) = [t for t in ax.texts if t.get_visible()]
    assert text.get_text() == "Go's limit: 10,000 threads (checkmcount)"
    dashed = [ln for ln in ax.get_lines() if ln.get_visible() and ln.get_linestyle() == "--"
              and list(ln.get_ydata()) == [9_997, 9_997]]
    assert len(dashed) == 1 and ax.get_ylim()[1] > 9_997
    assert fig.axes[0].get_position().x0 >= 0.11  # room for "10000" and the axis label


# ---- the explorer -------------------------------------------------------------------------

def test_blocking_explorer_follows_its_controls():
    box = l09.blocking_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "Image"]
    (wait, count), text, image = box.children[0].children, box.children[1], box.children[2]
    assert (wait.value, count.value) == ("read", 20)
    assert "19 threads created, 20 handoffs" in text.value
    assert "median 19, range 2-20 in 20 runs" in text.value
    first = image.value
    assert first
    wait.value = "chan"
    assert "0 threads created, 0 handoffs" in text.value and image.value != first
    count.value = 10_000
    assert "10,000 goroutines in a channel receive" in text.value
    assert "no run recorded for this N" in text.value
    wait.value = "read"
    assert "thread exhaustion" in text.value


def test_blocking_explorer_options_give_nothing_away():
    box = l09.blocking_explorer()
    wait, count = box.children[0].children
    assert [label for label, _ in wait.options] == list(l09.KINDS.values())
    assert [v for _, v in count.options] == [20, 60, 1_000, 10_000]


def test_live_rerun_checks_the_recorded_claims():
    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    lines = l09.live_lines(runs=1)
    assert [line.split("  ", 1)[1] for line in lines] == [
        c.text for c in l09.stats.CLAIMS if c.name in l09.LIVE_CLAIMS]
    # 20 channel waiters created no thread in 20 of 20 recorded runs
    assert lines[0] == "live 1/1  20 goroutines blocked on a channel: no thread created"


def test_the_explorer_computes_the_big_states_ahead_in_a_thread():
    # N=10,000 takes most of a second to simulate; the explorer's thread does it while the
    # learner reads, so picking it only draws (the state comes from blocking_run's cache)
    import threading

    l09.blocking_explorer()
    for t in [t for t in threading.enumerate() if t.name == "l09-prefetch"]:
        t.join(timeout=120)
    before = l09.blocking_run.cache_info()
    for kind in l09.KINDS:
        l09.blocking_run(kind, 10_000)
    after = l09.blocking_run.cache_info()
    assert (after.hits - before.hits, after.misses) == (3, before.misses)
