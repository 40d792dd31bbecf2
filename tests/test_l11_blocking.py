"""gostack.lessons.l11_blocking: every number lesson 11 states, its timelines and its explorer.

Expected values come from the recordings read here directly (sched_netpoll_recorded.json:
10 real go1.27.3 runs per configuration of gostack.sched.netprobe's program;
sched_stats_recorded.json for the channel waiters), from go1.27.3's source (runtime/proc.go,
runtime/netpoll.go, internal/poll, os), or from arithmetic written out here; never from the
code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402

import lesson_sources as sources  # noqa: E402
import pytest  # noqa: E402
from lesson_widgets import kinds as _kinds  # noqa: E402

from gostack.lessons import l11_blocking as l11  # noqa: E402
from gostack.sched import netprobe, procs  # noqa: E402
from gostack.sched.sysmon import Retake  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "11-blocking.ipynb"
_runs = partial(sources.recorded_runs, "sched_netpoll_recorded.json")  # config -> its real runs
_prose = partial(sources.prose, LESSON)  # the lesson's markdown


# ---- the recorded runs ------------------------------------------------------------------------

# (min, max, median) threads created, and runs, read off the recording by hand.
RECORDED = {
    "osfile_p1_n20": (0, 0, 0, 10),
    "osfile_p1_n100": (0, 0, 0, 10),
    "raw_p1_n20": (18, 20, 20, 10),
    "raw_p1_n100": (73, 99, 89.5, 10),
}


def test_the_recording_is_go1_27_3_with_gomaxprocs_1():
    d = sources.recording("sched_netpoll_recorded.json")
    assert d["go"] == "go1.27.3" and set(d["configs"]) == set(RECORDED)
    for name, c in d["configs"].items():
        mode, _, n = name.split("_")
        assert (c["mode"], c["n"], c["gomaxprocs"]) == (mode, int(n[1:]), 1)
        # every reader got its byte: the runs measured what they claim to
        assert all(r["read"] == r["n"] == c["n"] for r in c["runs"]), name


@pytest.mark.parametrize("config", sorted(RECORDED))
def test_recorded_threads_are_the_real_runs(config):
    lo, hi, mid, runs = RECORDED[config]
    created = [sources.created(r) for r in _runs(config)]
    assert (min(created), max(created), median(created), len(created)) == (lo, hi, mid, runs)
    mode, _, n = config.split("_")
    rec = l11.recorded(mode, int(n[1:]))
    assert sorted(rec.created) == sorted(created)


def test_channel_waiters_come_from_lesson_09s_recording():
    runs = sources.recording("sched_stats_recorded.json")["configs"]["chan_p1_n20"]["runs"]
    assert {sources.created(r) for r in runs} == {0} and len(runs) == 20
    assert l11.recorded("chan", 20).created == (0,) * 20
    assert l11.recorded("chan", 100) is None and l11.recorded("raw", 2) is None


# Each claim the lesson prints, and how often it held in the 10 real runs, counted here.
HELD = {
    "osfile_none_20": ("osfile_p1_n20", lambda r: sources.created(r) == 0, 10),
    "osfile_none_100": ("osfile_p1_n100", lambda r: sources.created(r) == 0, 10),
    "raw_each_20": ("raw_p1_n20", lambda r: sources.created(r) >= 18, 10),
    "raw_most_100": ("raw_p1_n100", lambda r: sources.created(r) >= 70, 10),
}


def test_claims_held_as_often_as_the_lesson_prints():
    assert [c.name for c in l11.CLAIMS] == list(HELD)
    lines = l11.claim_lines()
    rows = zip(HELD.items(), l11.CLAIMS, lines, strict=True)
    for (name, (config, holds, times)), c, line in rows:
        assert c.config == config
        assert sum(map(holds, _runs(config))) == times, name
        assert line == f"real {times}/10  {c.text}"


def test_threads_table_real_against_the_simulator():
    rows = {line[:48].strip(): line[48:].split(None, 3)
            for line in l11.threads_table().splitlines()[3:]}
    assert rows["20 x channel receive"][:3] == ["0", "(0-0),", "20"]
    assert rows["100 x pipe read through os.File (netpoller)"] == [
        "0", "(0-0),", "10", "0 as a channel wait"]
    assert rows["20 x pipe read by syscall.Read (blocking)"][:3] == ["20", "(18-20),", "10"]
    assert rows["100 x pipe read by syscall.Read (blocking)"][:3] == ["89.5", "(73-99),", "10"]
    # Tolerance: the simulator's count lies in the real runs' range for every row (it has
    # every M run at once, so for 100 raw readers it sits at the top of that range).
    for name, cells in rows.items():
        lo, hi = (int(x) for x in cells[1].strip("(),").split("-"))
        assert lo <= int(cells[3].split()[0]) <= hi, name


def test_the_lesson_text_states_the_recorded_numbers():
    text = _prose()
    raw20 = [sources.created(r) for r in _runs("raw_p1_n20")]
    raw100 = [sources.created(r) for r in _runs("raw_p1_n100")]
    assert f"20 raw readers created {min(raw20)} to {max(raw20)}" in text
    assert f"the runs created {min(raw100)} to {max(raw100)}" in text
    assert f"The real runs created {min(raw100)} to {max(raw100)}" in text  # the answer
    osfile = [sources.created(r) for c in ("osfile_p1_n20", "osfile_p1_n100") for r in _runs(c)]
    assert len(osfile) == 20 and set(osfile) == {0}
    assert "created no thread in any of 20 runs" in text
    assert "created no thread in 20 of 20 real runs" in text  # the summary
    assert "The simulator has no netpoller" in text


# ---- go1.27.3's source, as the lesson cites it --------------------------------------------

def test_the_lesson_follows_go_source():
    src = sources.goroot() / "src"
    proc = (src / "runtime" / "proc.go").read_text()
    assert "handoffp(releasep())" in sources.func(proc, "entersyscallblock")
    assert "at least 20us" in sources.func(proc, "retake")
    assert "handoffp(pp)" in sources.func(proc, "retake")
    assert "lastpoll+10*1000*1000 < now" in sources.func(proc, "sysmon")  # sysmon polls after 10 ms
    assert "injectglist(&list)" in sources.func(proc, "sysmon")
    assert "netpoll(" in sources.func(proc, "findRunnable")
    chan = (src / "runtime" / "chan.go").read_text()
    assert "gopark(chanparkcommit" in sources.func(chan, "chanrecv")
    netpoll = (src / "runtime" / "netpoll.go").read_text()
    assert "gopark(netpollblockcommit" in sources.func(netpoll, "netpollblock")
    assert "netpollblock(pd, int32(mode), false)" in sources.func(netpoll, "poll_runtime_pollWait")
    fd = (src / "internal" / "poll" / "fd_unix.go").read_text()
    read = fd[fd.index("func (fd *FD) Read("):]
    read = read[:read.index("\n}\n")]
    assert "err == syscall.EAGAIN && fd.pd.pollable()" in read and "fd.pd.waitRead" in read
    assert "kindPipe" in (src / "os" / "pipe2_unix.go").read_text()
    assert "kind == kindPipe" in (src / "os" / "file_unix.go").read_text()
    assert '"at least 20us"' in _prose()
    # ... but retake's test is syscalltick against the count of its previous look, and only
    # exitsyscall moves it: a call that began after that look is taken at once
    assert "int64(pd.syscalltick) != syst" in sources.func(proc, "retake")
    enter = sources.func(proc, "reentersyscall")  # entersyscall's body
    assert "gp.m.syscalltick = gp.m.p.ptr().syscalltick" in enter
    assert "syscalltick++" not in enter
    assert "pp.syscalltick++" in sources.func(proc, "exitsyscall")
    assert "`syscalltick` (one more at each `exitsyscall`)" in _prose()


def test_the_probe_reads_through_os_file_or_the_raw_descriptor():
    go = netprobe.GO_SOURCE
    assert "os.Pipe()" in go and "files[i][0].Read(b[:])" in go
    assert "syscall.Pipe(p[:])" in go and "syscall.Read(fds[i][0], b[:])" in go


# ---- the timelines -------------------------------------------------------------------------

def test_short_syscalls_keep_the_p_long_ones_are_handed_off():
    short, long = l11.syscall_pair()
    # 5 µs sleeps return before sysmon's first look: one M, never without its P
    assert list(short.lanes) == [0] and short.retakes == ()
    assert {s for _, _, s, _ in short.lanes[0]} == {"go", "sys+P"}
    # 1 ms sleeps: sysmon's first look is 20 µs in ("start with 20us sleep"); it takes P0
    assert list(long.lanes) == [0, 1, 2] and long.retakes[0] == 20_000
    m0 = {s: (a, b) for a, b, s, _ in long.lanes[0]}
    assert m0["sys"][0] == 20_000 and m0["sys"][1] - m0["sys+P"][0] == pytest.approx(
        1_000_000, abs=1_000)  # the whole 1 ms in the kernel, most of it without a P
    # M1 (runtime.main's idle thread) gets P0 and runs G6, which blocks in turn; M2 only
    # looks for work (its lane never enters a system call)
    # (goids as real Go numbers them: G2-G5 are the runtime's, main's two are G6 and G7)
    assert [g for _, _, s, g in long.lanes[1] if s == "sys"] == [6]
    assert {s for _, _, s, _ in long.lanes[2]} == {"go"}
    text = _prose()
    assert "`M1`, the idle thread runtime.main left, runs `G6`" in text
    assert "A new thread, `M2`, gets `P0` and finds nothing to run" in text
    # retaken at sysmon's next look, however young the call: G7 15.4 µs in, G6 7 µs in
    m1 = {s: (a, b) for a, b, s, _ in long.lanes[1]}
    assert m0["sys"][0] - m0["sys+P"][0] == pytest.approx(15_400, abs=100)
    assert m1["sys"][0] - m1["sys+P"][0] == pytest.approx(7_000, abs=100)  # < 20 µs
    assert "15.4 µs into `G7`'s call" in text and "retaken 7 µs in" in text


def test_syscall_story_lines():
    lines = l11.syscall_story(l11.syscall_pair()[1])
    assert lines[2] == ("M0     20.0-  1004.9 µs  G7 in a system call, P handed off "
                        "(thread in the kernel)")


@pytest.mark.parametrize("kind", ["chan", "osfile"])
def test_parked_readers_use_one_m(kind):
    for n in l11.NS:
        b = l11.blocking_state(kind, n)
        assert (b.created, b.handoffs, list(b.line.lanes)) == (0, 0, [0])


def test_raw_readers_one_handoff_each():
    # N readers: N handoffs; the first takes the idle M runtime.main left (recorded:
    # threads at main's start, median 3 = m0 + sysmon + 1), so N - 1 threads are created
    for n in l11.NS:
        b = l11.blocking_state("raw", n)
        assert (b.handoffs, b.created) == (n, n - 1)
        # the timeline stops when main wakes (30 ms): each M on it came from one retake
        assert len(b.line.lanes) == len(b.line.retakes) + 1
        if n <= 20:  # all of them in the window
            assert len(b.line.lanes) == n + 1


def test_readouts():
    assert l11.blocking_state("osfile", 100).lines() == [
        "100 goroutines in a pipe read through os.File (netpoller), GOMAXPROCS=1",
        "simulator (seed 0): 0 threads created, 0 handoffs by sysmon (no netpoller in the "
        "model: run as a channel wait, both gopark)",
        "real go1.27.3: median 0, range 0 in 10 runs"]
    assert l11.blocking_state("raw", 2).lines()[1:] == [
        "simulator (seed 0): 1 thread created, 2 handoffs by sysmon",
        "real go1.27.3: no run recorded for this N"]


def test_figures_draw_the_lanes():
    short_ax, long_ax = l11.syscall_pair_figure().axes
    assert [t.get_text() for t in short_ax.get_yticklabels()] == ["M0", "sysmon"]
    assert [t.get_text() for t in long_ax.get_yticklabels()] == ["M0", "M1", "M2", "sysmon"]
    fig = l11.TimelinePainter()(l11.blocking_state("raw", 100))
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == l11.MAX_LANES + 1
    # 100 readers, 100 handoffs; the timeline ends when main wakes (30 ms), so it holds
    # M0, M1 (the idle one) and one M per handoff before then, of the 99 threads created
    state = l11.blocking_state("raw", 100)
    before = sum(1 for a in procs.simulate(l11.workload("raw", 100)).trace
                 if isinstance(a.what, Retake) and a.t < 30_000_000)
    assert len(state.line.lanes) == before + 1 < state.created + 2
    assert ax.get_title(loc="left") == (
        f"N=100, pipe read by syscall.Read (blocking): 99 threads created (first 10 of the "
        f"{before + 1} Ms up to 30 ms)")


# ---- the explorer -------------------------------------------------------------------------

def test_blocking_explorer_follows_its_controls():
    box = l11.blocking_explorer()
    assert sorted(set(_kinds(box))) == ["Dropdown", "HTML", "Image"]
    (wait, count), text, image = box.children[0].children, box.children[1], box.children[2]
    assert (wait.value, count.value) == ("raw", 20)
    assert (wait.layout.width, count.layout.width) == ("24em", "10em")  # no option clipped
    assert "19 threads created, 20 handoffs" in text.value
    assert "median 20, range 18-20 in 10 runs" in text.value
    first = image.value
    wait.value = "osfile"
    assert "0 threads created, 0 handoffs" in text.value and image.value != first
    assert "no netpoller in the model" in text.value
    count.value = 100
    assert "100 goroutines in a pipe read through os.File" in text.value
    wait.value = "raw"
    assert "99 threads created, 100 handoffs" in text.value
    assert "median 89.5, range 73-99 in 10 runs" in text.value


def test_blocking_explorer_options_give_nothing_away():
    wait, count = l11.blocking_explorer().children[0].children
    assert [label for label, _ in wait.options] == list(l11.KINDS.values())
    assert [v for _, v in count.options] == [2, 20, 100]


def test_live_rerun_checks_the_recorded_claims():
    sources.goroot()
    lines = l11.live_lines(runs=1)
    assert [line.split("  ", 1)[1] for line in lines] == [c.text for c in l11.CLAIMS]
    # the os.File readers created no thread in 20 of 20 recorded runs
    assert lines[0] == "live 1/1  20 goroutines reading os.File pipes: no thread created"
