"""gostack.oscost: parsing /proc, the child-process protocol, fallbacks, and a few live
measurements with bounds wide enough for a busy shared 2-core VM.

Expected values come from the thread-cost reference sheet (glibc 2.36 on x86_64, go1.27.3)
or are derived in the test from the sample text, never from the code under test.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import pytest

from gostack import oscost
from gostack.oscost import GIB, KIB, MIB

# ---------------------------------------------------------------------------
# Fixed samples, written by hand after real files of a glibc 2.36 / Linux 6.x machine
# ---------------------------------------------------------------------------

STATUS = """\
Name:\tpython
Umask:\t0022
State:\tS (sleeping)
Tgid:\t2504
VmPeak:\t  235352 kB
VmSize:\t  235352 kB
VmRSS:\t   11164 kB
VmPTE:\t      84 kB
Threads:\t4
SigQ:\t0/96365
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t10
"""

MEMINFO = """\
MemTotal:       24594912 kB
KernelStack:       11952 kB
PageTables:        10240 kB
SUnreclaim:        98304 kB
Committed_AS:    3145728 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""

# Three thread stacks (4 KiB guard + 8 MiB rw-p), three malloc arenas (132 KiB + the rest of
# 64 MiB, inaccessible), the main stack, a library, and two decoys: an 8 MiB rw-p mapping
# without a guard below it, and a file-backed 8 MiB mapping above a guard.
MAPS = """\
55d0c0a00000-55d0c0a01000 r--p 00000000 fe:01 1311  /usr/bin/python3.11
7f9f64000000-7f9f64021000 rw-p 00000000 00:00 0
7f9f64021000-7f9f68000000 ---p 00000000 00:00 0
7f9f68000000-7f9f68021000 rw-p 00000000 00:00 0
7f9f68021000-7f9f6c000000 ---p 00000000 00:00 0
7f9f6c000000-7f9f6c021000 rw-p 00000000 00:00 0
7f9f6c021000-7f9f70000000 ---p 00000000 00:00 0
7f9f70b1b000-7f9f70b1c000 ---p 00000000 00:00 0
7f9f70b1c000-7f9f7131c000 rw-p 00000000 00:00 0
7f9f7131c000-7f9f7131d000 ---p 00000000 00:00 0
7f9f7131d000-7f9f71b1d000 rw-p 00000000 00:00 0
7f9f71b1d000-7f9f71b1e000 ---p 00000000 00:00 0
7f9f71b1e000-7f9f7231e000 rw-p 00000000 00:00 0
7f9f7231e000-7f9f72b1e000 rw-p 00000000 00:00 0
7f9f72c00000-7f9f72c01000 ---p 00000000 00:00 0
7f9f72c01000-7f9f73401000 rw-p 00000000 fe:01 77  /tmp/some file with spaces
7f9f73dbf000-7f9f73e31000 rw-p 00000000 00:00 0
7ffc1a2f0000-7ffc1a311000 rw-p 00000000 00:00 0                          [stack]
"""


def test_parse_status_fields_in_bytes_and_counts_as_is():
    f = oscost.parse_kib_fields(STATUS)
    assert f["VmSize"] == 235352 * 1024
    assert f["VmRSS"] == 11164 * 1024
    assert f["VmPTE"] == 84 * 1024
    assert f["Threads"] == 4
    assert f["voluntary_ctxt_switches"] == 10
    for skipped in ("Name", "State", "SigQ", "Cpus_allowed_list"):
        assert skipped not in f


def test_parse_meminfo():
    f = oscost.parse_kib_fields(MEMINFO)
    assert f["KernelStack"] == 11952 * 1024
    assert f["SUnreclaim"] == 98304 * 1024
    assert f["Committed_AS"] == 3 * GIB
    assert f["HugePages_Total"] == 0
    assert f["Hugepagesize"] == 2 * MIB


def test_parse_maps_sizes_perms_and_paths():
    maps = oscost.parse_maps(MAPS)
    assert len(maps) == 18
    assert maps[0].path == "/usr/bin/python3.11" and maps[0].perms == "r--p"
    assert maps[1].size == 0x21000 == 132 * KIB
    assert maps[7].size == 4 * KIB and maps[8].size == 8 * MIB
    assert maps[15].path == "/tmp/some file with spaces"
    assert maps[-1].path == "[stack]"
    assert maps[8].path == ""


def test_count_thread_stacks_needs_the_guard_below_and_an_anonymous_mapping():
    maps = oscost.parse_maps(MAPS)
    # the three guarded stacks; not the unguarded 8 MiB one, not the file-backed one
    assert oscost.count_thread_stacks(maps, 8 * MIB, 4 * KIB) == 3
    assert oscost.count_thread_stacks(list(reversed(maps)), 8 * MIB, 4 * KIB) == 3
    assert oscost.count_thread_stacks(maps, 2 * MIB, 4 * KIB) == 0
    assert oscost.count_thread_stacks(maps, 8 * MIB, 8 * KIB) == 0


def test_glibc_default_stack_rule():
    assert oscost.glibc_default_stack(None) == 2 * MIB  # unlimited: x86_64 fallback
    assert oscost.glibc_default_stack(8 * MIB) == 8 * MIB
    assert oscost.glibc_default_stack(1 * MIB) == 1 * MIB
    assert oscost.glibc_default_stack(16 * MIB) == 16 * MIB
    assert oscost.glibc_default_stack(1000) == 16 * KIB  # at least PTHREAD_STACK_MIN
    assert oscost.glibc_default_stack(10_000 * KIB + 1) == 10_000 * KIB + 4096  # page up


def test_formatting():
    assert oscost.fmt_bytes(2048) == "2 KiB"
    assert oscost.fmt_bytes(16.2 * KIB) == "16.2 KiB"
    assert oscost.fmt_bytes(8 * MIB) == "8 MiB"
    assert oscost.fmt_bytes(300 * MIB) == "300 MiB"
    assert oscost.fmt_bytes(79.3 * GIB) == "79.3 GiB"
    assert oscost.fmt_bytes(512) == "512 B"
    assert oscost.fmt_ns(4100) == "4.1 µs"
    assert oscost.fmt_ns(335) == "340 ns"
    assert oscost.fmt_ns(28) == "28 ns"
    assert oscost.fmt_ns(158_000) == "160 µs"
    assert oscost.fmt_ns(1.2e9) == "1.2 s"


# ---------------------------------------------------------------------------
# Limits and plans
# ---------------------------------------------------------------------------


def fake_proc(root: Path, *, pid_max=32768, threads_max=192730, maps=65530, overcommit=0,
              tasks=120) -> Path:
    for rel, value in [("sys/kernel/pid_max", pid_max), ("sys/kernel/threads-max", threads_max),
                       ("sys/vm/max_map_count", maps), ("sys/vm/overcommit_memory", overcommit)]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"{value}\n")
    (root / "loadavg").write_text(f"0.50 0.40 0.30 2/{tasks} 4242\n")
    return root


def limits(**kw) -> oscost.Limits:
    base = dict(stack_soft=8 * MIB, stack_hard=None, as_soft=None, nproc_soft=96365,
                root=True, threads_max=192730, pid_max=32768, max_map_count=65530,
                overcommit=0, tasks=120)
    base.update(kw)
    return oscost.Limits(**base)


def test_read_limits_from_a_fake_proc(tmp_path):
    lim = oscost.read_limits(fake_proc(tmp_path, pid_max=4096, tasks=300))
    assert (lim.pid_max, lim.threads_max, lim.max_map_count, lim.tasks) == (4096, 192730,
                                                                            65530, 300)
    assert lim.thread_headroom == 4096 - 300
    broken = tmp_path / "nothing"
    broken.mkdir()
    lim = oscost.read_limits(broken)  # unreadable files fall back to the usual defaults
    assert lim.pid_max == 32768 and lim.tasks == 0


def test_headroom_takes_the_tightest_limit():
    assert limits().thread_headroom == 32768 - 120
    assert limits(threads_max=20_000).thread_headroom == 20_000 - 120
    assert limits(max_map_count=30_000).threads_per_process == 10_000
    assert limits(root=False, nproc_soft=5_000).thread_headroom == 5_000 - 120
    assert limits(root=True, nproc_soft=5_000).thread_headroom == 32768 - 120  # root: no
    assert limits(tasks=40_000).thread_headroom == 0


def test_plan_keeps_what_fits_and_says_why_it_drops():
    assert oscost.plan_threads((100, 1000, 10_000), limits()).counts == (100, 1000, 10_000)
    plan = oscost.plan_threads((100, 1000, 10_000), limits(pid_max=12_000))
    assert plan.counts == (100, 1000)
    assert [n for n, _ in plan.dropped] == [10_000] and "headroom" in plan.dropped[0][1]
    plan = oscost.plan_threads((100, 1000), limits(pid_max=170, tasks=120))
    assert plan.counts == (10,)  # nothing asked for fits: fall back to 10 threads
    assert oscost.plan_threads((100,), limits(pid_max=125, tasks=120)).counts == ()
    strict = oscost.plan_threads((100,), limits(overcommit=2))
    assert strict.counts == () and "overcommit" in strict.dropped[0][1]
    assert "ulimit -v" in oscost.plan_threads((100,), limits(as_soft=GIB)).dropped[0][1]
    maps = oscost.plan_threads((1000, 10_000), limits(max_map_count=6000))
    assert maps.counts == (1000,) and "max_map_count" in maps.dropped[0][1]


# ---------------------------------------------------------------------------
# The child protocol
# ---------------------------------------------------------------------------

PY = sys.executable


def test_run_json_reads_the_last_line():
    r = oscost.run_json([PY, "-c", "print('warming up'); print('{\"a\": 1}')"], timeout=30)
    assert r.ok and r.data == {"a": 1} and r.error is None and r.returncode == 0
    assert r.get() == {"a": 1}


def test_run_json_reports_a_childs_own_error():
    r = oscost.run_json([PY, "-c", "print('{\"error\": \"no room\"}')"], timeout=30)
    assert not r.ok and r.error == "no room"
    with pytest.raises(oscost.MeasurementError, match="no room"):
        r.get()


def test_a_crash_is_reported_not_raised():
    r = oscost.run_json([PY, "-c", "import os; os.abort()"], timeout=30)
    assert not r.ok and not r.timed_out
    assert r.returncode == -6 and "SIGABRT" in r.error


def test_an_exit_status_carries_the_end_of_stderr():
    r = oscost.run_json([PY, "-c", "import sys; sys.exit('out of threads')"], timeout=30)
    assert not r.ok and "status 1" in r.error and "out of threads" in r.error
    r = oscost.run_json([PY, "-c", "print('not json')"], timeout=30)
    assert not r.ok and "no JSON" in r.error
    r = oscost.run_json(["/nonexistent/gocost"], timeout=30)
    assert not r.ok and "cannot start" in r.error


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_a_hung_child_and_its_children_are_killed_and_reported(tmp_path):
    pidfile = tmp_path / "grandchild"
    script = (f"import subprocess, sys, time\n"
              f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
              f"time.sleep(60)\n")
    t0 = time.monotonic()
    r = oscost.run_json([PY, "-c", script], timeout=1.5)
    assert time.monotonic() - t0 < 15
    assert not r.ok and r.timed_out and "timed out after 1.5 s" in r.error
    assert r.returncode == -9
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        if _gone(grandchild):
            break
        time.sleep(0.1)
    assert _gone(grandchild), "the whole process group must be killed"


def test_grace_lets_a_child_clean_up_on_sigterm(tmp_path):
    mark = tmp_path / "cleaned"
    script = ("import signal, sys, time\n"
              f"signal.signal(signal.SIGTERM, lambda *a: (open({str(mark)!r}, 'w'), "
              "sys.exit(143)))\n"
              "time.sleep(60)\n")
    r = oscost.run_json([PY, "-c", script], timeout=1.0, grace=5.0)
    assert r.timed_out and r.returncode == 143 and mark.exists()


def test_a_child_side_exception_comes_back_as_an_error():
    r = oscost.run_python("no-such-measurement", timeout=30)
    assert not r.ok and r.error.startswith("KeyError")


# ---------------------------------------------------------------------------
# Turning raw child output into per-unit figures
# ---------------------------------------------------------------------------


def raw_threads(n=1000, **kw):
    d = {"n": n, "stack": 8 * MIB, "guard": 4096, "stack_mappings": n,
         "VmSize": n * 8312 * KIB, "VmRSS": n * 16 * KIB, "VmPTE": n * 4 * KIB,
         "Threads": n, "KernelStack": n * 16 * KIB, "SUnreclaim": n * 7 * KIB,
         "Committed_AS": n * 8 * MIB, "utime_ns": 0, "stime_ns": 0, "cpu_ns": n * 70_000,
         "wall_ns": n * 190_000, "csw": 0, "minflt": 0, "maps": 2 * n}
    d.update(kw)
    return d


def test_thread_memory_per_thread():
    m = oscost.ThreadMemory.from_child("python", raw_threads(), 1.5)
    assert m.reserved == 8312 * KIB and m.stack_reserved == 8 * MIB + 4096
    assert m.resident == 16 * KIB and m.kernel == (16 + 4 + 7) * KIB
    assert m.real == 43 * KIB and m.maps == 2 and not m.noisy
    assert m.create_cpu_ns == 70_000 and m.create_wall_ns == 190_000
    assert oscost.ThreadMemory.from_child("python", raw_threads(100), 0.1).noisy


def fake_memory(n, seconds):
    return oscost.ThreadMemory.from_child("python", raw_threads(n), seconds)


def test_series_skips_a_count_that_would_blow_the_budget(monkeypatch):
    monkeypatch.setattr(oscost.threads, "thread_memory", lambda n, **kw: fake_memory(n, 0.002 * n))
    s = oscost.thread_memory_series([10_000, 100, 1000], budget=15)
    assert sorted(s.results) == [100, 1000] and s.largest.n == 1000
    assert "skipped" in s.failed[10_000] and "63 s" in s.failed[10_000]  # 2 s * 10**1.5
    s = oscost.thread_memory_series([100, 1000, 10_000], budget=None)
    assert sorted(s.results) == [100, 1000, 10_000]


def test_series_records_a_failure_and_goes_on(monkeypatch):
    def measure(n, **kw):
        if n == 1000:
            raise oscost.MeasurementError("timed out after 24 s; the child was killed")
        return fake_memory(n, 0.1)

    monkeypatch.setattr(oscost.threads, "thread_memory", measure)
    s = oscost.thread_memory_series([100, 1000])
    assert list(s.results) == [100] and "timed out" in s.failed[1000]
    assert "timed out" in oscost.memory_table(s)


def test_verdict_measured_and_extrapolated():
    s = oscost.Series({10_000: fake_memory(10_000, 5)}, {})
    v = oscost.verdict(s)
    assert not v.extrapolated and v.virtual == 10_000 * 8312 * KIB
    assert v.real == 10_000 * 43 * KIB  # 0.44 GB: 23x below 10 GB
    assert "23x below" in v.text()
    v = oscost.verdict(oscost.Series({1000: fake_memory(1000, 1)}, {10_000: "skipped"}))
    assert v.extrapolated and v.measured_n == 1000 and v.real == 10_000 * 43 * KIB
    assert "extrapolated x10 from 1,000" in v.text()


def test_rung_is_half_a_round_trip_with_medians():
    reps = [{"rounds": 1000, "wall_ns": 4_000_000, "cpu_ns": 3_000_000, "stime_ns": 2_000_000,
             "csw": 2000},
            {"rounds": 1000, "wall_ns": 8_000_000, "cpu_ns": 4_000_000, "stime_ns": 2_000_000,
             "csw": 2010},
            {"rounds": 1000, "wall_ns": 5_000_000, "cpu_ns": 3_500_000, "stime_ns": 2_100_000,
             "csw": 2004}]
    r = oscost.Rung.from_reps("pipe", "pipe", reps)
    assert r.ns == 2500 and r.ns_range == (2000, 4000) and r.cpu_ns == 1750
    assert r.csw_per_round_trip == 2.004
    assert r.kernel_share == pytest.approx(0.6)
    no_split = [{k: v for k, v in x.items() if k != "stime_ns"} for x in reps]
    assert oscost.Rung.from_reps("chan", "chan", no_split).kernel_share is None


# ---------------------------------------------------------------------------
# Goroutines: recorded numbers and the fallback to them
# ---------------------------------------------------------------------------


def test_recorded_numbers_carry_machine_and_date_and_say_so():
    rec = oscost.load_recorded()
    assert rec["machine"] and rec["date"][:2] == "20" and rec["go"].startswith("go1.")
    g = oscost.recorded_costs("Go is not installed")
    assert g.source == "recorded" and g.reason == "Go is not installed"
    assert g.label.startswith("RECORDED on " + rec["date"]) and rec["machine"] in g.label
    assert g.table().splitlines()[0] == g.label
    assert sorted(g.memory) == [10_000, 100_000]
    # what the sheet measured on go1.27.3: exactly stackMin per fresh goroutine, ~2.7 KiB RSS,
    # a handful of OS threads, no kernel switch in a channel ping-pong
    assert all(m.stack == 2048 for m in g.memory.values())
    assert all(1.5 * KIB <= m.resident <= 8 * KIB and m.threads < 20
               for m in g.memory.values())
    assert g.rungs["chan_p1"].csw_per_round_trip < 0.05
    assert g.rungs["locked"].csw_per_round_trip > 1.5
    assert g.rungs["locked"].ns > 5 * g.rungs["chan_p1"].ns


def test_goroutines_fall_back_to_recorded(monkeypatch):
    monkeypatch.setattr(oscost.gocost, "build_go_probe",
                        lambda timeout: oscost.GoBuild(False, reason="no Go toolchain found"))
    g = oscost.goroutines(build_timeout=1)
    assert g.source == "recorded" and g.reason == "no Go toolchain found"

    def broken(*a, **kw):
        raise oscost.MeasurementError("the child was killed by SIGSEGV")

    monkeypatch.setattr(oscost.gocost, "build_go_probe",
                        lambda timeout: oscost.GoBuild(True, "/bin/false", True, 0, "go1.27.3"))
    monkeypatch.setattr(oscost.gocost, "go_measure", broken)
    g = oscost.goroutines()
    assert g.source == "recorded" and "SIGSEGV" in g.reason
    assert oscost.goroutines(use_recorded=True).source == "recorded"


def test_build_timeout_is_reported_as_a_reason(monkeypatch):
    monkeypatch.setattr(oscost.run, "run_json", lambda *a, **kw: oscost.Result(
        False, error="timed out after 10 s; the child was killed", timed_out=True))
    b = oscost.build_go_probe(timeout=10)
    assert not b.ok and "longer than 10 s" in b.reason and "oscost build" in b.reason


def test_go_module_files():
    files = oscost.gocost._go_files("go1.27.3")
    assert files["go.mod"] == "module gocost\n\ngo 1.27\n"
    assert "package main" in files["main.go"] and "StackInuse" in files["main.go"]
    assert oscost.gocost._go_files(None)["go.mod"].endswith("go 1.21\n")


def test_comparison_and_ratios_from_fixed_numbers():
    mem = fake_memory(10_000, 5)
    created = {"python": oscost.Creation("python", 1000, 70_000, 190_000, (1, 2), (1, 2),
                                         16 * KIB),
               "pthread": oscost.Creation("pthread", 1000, 25_000, 25_000, (1, 2), (1, 2),
                                          8 * KIB)}

    def rung(name, ns):
        return oscost.Rung(name, name, ns, ns, 2.0, None, (ns, ns))

    rungs = {"pipe": rung("pipe", 1870), "lock": rung("lock", 4630),
             "generator": rung("generator", 28)}
    go = oscost.recorded_costs()
    r = oscost.ratios(mem, created, rungs, go)
    g10k, chan = go.memory[10_000], go.rungs["chan_p1"].ns
    assert r["resident (VmRSS)"] == pytest.approx(16 * KIB / g10k.resident)
    assert r["resident + kernel"] == pytest.approx(43 * KIB / g10k.resident)
    assert r["reserved (VmSize) / goroutine stack"] == pytest.approx(8312 * KIB / 2048)
    assert r["switch, pipe (kernel handoff)"] == pytest.approx(1870 / chan)
    assert "switch, Event handoff" not in r
    assert "orders of magnitude" in oscost.ratio_table(r)
    panels = oscost.comparison(mem, created, rungs, go)
    assert [p[1] for p in panels] == ["bytes", "ns", "ns"]
    assert [b.value for b in panels[1][2]] == [70_000, 25_000, go.largest.create_cpu_ns]
    assert {b.who for b in panels[2][2]} == {"thread", "goroutine", "other"}

    import matplotlib

    matplotlib.use("Agg")
    from gostack.lessons import l01_thread_cost as l01

    axes = l01.draw_cost_comparison(panels, title="test")
    assert len(axes) == 3 and all(ax.get_xscale() == "log" for ax in axes)
    assert [len(ax.patches) for ax in axes] == [len(p[2]) for p in panels]
    matplotlib.pyplot.close(axes[0].figure)


# ---------------------------------------------------------------------------
# Live, quick, with bounds that hold on a busy shared VM
# ---------------------------------------------------------------------------

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux
def test_live_stack_reservation_follows_the_rule():
    st = oscost.stack_reservation()
    assert st.follows_rule and st.live_thread_stack == st.glibc_default
    assert st.threading_stack_size == 0 and st.guard == st.page


@linux
def test_live_thread_memory_small():
    lim = oscost.read_limits()
    if lim.allows(200):
        pytest.skip(lim.allows(200))
    py = oscost.thread_memory(200)
    raw = oscost.thread_memory(200, kind="pthread")
    for m in (py, raw):
        assert m.stack_reserved == m.stack + 4096  # one guarded stack mapping per thread
        assert m.reserved >= 0.9 * m.stack
        assert 4 * KIB <= m.resident <= 64 * KIB
    assert raw.resident < py.resident  # CPython adds its own state on top of the OS's


@linux
def test_live_address_space_limit_stops_at_the_cap_when_headroom_is_low():
    low = limits(pid_max=160, tasks=120)  # headroom 40: at most 20 threads per child
    demo = oscost.address_space_limit(GIB, limits=low)
    assert demo.default_threads == demo.small_threads == 20
    assert demo.stopped == "reached the cap"


@linux
def test_a_thread_that_never_runs_is_counted_as_the_limit_in_bounded_time(tmp_path):
    """Near an address-space limit a thread can be created and die before its first line
    (its own first allocation fails): Thread.start() would wait for it forever, which hung
    lesson 01 with Debian's python3. Here no new thread ever runs (start_new_thread is made
    a no-op in the child): the child stops after one bounded wait and says why."""
    (tmp_path / "sitecustomize.py").write_text(
        "import _thread\n_thread.start_new_thread = lambda f, args, kw=None: 1\n")
    start = time.monotonic()
    res = oscost.run_json([sys.executable, "-m", "gostack.oscost", "child", "as_limit",
                           json.dumps({"limit": GIB, "cap": 50})], timeout=30,
                          env={**oscost.run._python_env(), "PYTHONPATH": os.pathsep.join(
                              [str(tmp_path), str(oscost.HERE.parent)])})
    data = res.get()
    assert data["threads"] == 0 and "never ran" in data["stopped"]
    assert time.monotonic() - start < oscost.THREAD_START_WAIT + 10


def test_the_address_space_demo_falls_back_to_recorded_numbers_with_a_note(monkeypatch):
    monkeypatch.setattr(oscost.run, "run_json", lambda *a, **kw: oscost.Result(
        False, error="timed out after 60 s; the child was killed", timed_out=True))
    demo = oscost.address_space_limit(GIB, limits=limits())
    assert demo.source == "recorded" and "timed out after 60 s" in demo.reason
    assert demo.note.startswith("(recorded on ") and "Python" in demo.note
    assert demo.default_threads * demo.default_stack <= demo.limit  # the lesson's claims
    assert demo.ratio > 0.5 * demo.default_stack / demo.small_stack
    with pytest.raises(oscost.MeasurementError):
        oscost.address_space_limit(GIB, limits=limits(), fallback=False)


@linux
def test_live_switch_counts():
    rungs = oscost.switch_ladder(reps=1, scale=0.3, rungs=("pipe", "generator"))
    assert 1.8 <= rungs["pipe"].csw_per_round_trip <= 3.0  # pinned: one each way
    assert rungs["generator"].csw_per_round_trip < 0.05
    assert rungs["pipe"].ns > 10 * rungs["generator"].ns


def _go_available() -> bool:
    try:
        from gostack import realgo
    except ImportError:
        return False
    return bool(realgo.available())


@pytest.mark.go
@pytest.mark.skipif(not _go_available(), reason="no usable Go toolchain")
def test_live_goroutines_with_real_go():
    # a generous timeout: on a cold Go cache this compiles the standard library (and so
    # warms the cache for the lesson, which waits only 10 s)
    b = oscost.build_go_probe(timeout=900)
    assert b.ok, b.reason
    mem = oscost.run_go(b.binary, "mem", 10_000).get()
    # stackMin each: 16 to a 32 KiB span (stackpoolalloc), so the 10,000 fill 625 spans; an M
    # started meanwhile (a loaded machine) adds its g0's span (16 KiB stacks, 2 to a span)
    # and its gsignal's: measured once 626 spans. StackInuse counts whole spans.
    assert mem["stack_inuse"] % 32768 == 0
    assert abs(mem["stack_inuse"] - 2048 * 10_000) <= 4 * 32768
    assert mem["goroutines"] == 10_001 and mem["threads"] < 20
    sw = oscost.run_go(b.binary, "switch", 20_000, 1).get()
    chan = oscost.Rung.from_reps("chan_p1", "", sw["chan_p1"])
    locked = oscost.Rung.from_reps("locked", "", sw["locked"])
    assert chan.csw_per_round_trip < 0.05 and locked.csw_per_round_trip > 1.5
    assert json.loads(json.dumps(sw))["go"].startswith("go1.")
    assert os.path.isfile(b.binary)


def _no_proc_no_glibc(tmp_path, monkeypatch) -> Path:
    """What a Mac learner's machine lacks: /proc, glibc's pthread extensions (libc cannot
    even be found) and sched_setaffinity, for this process and every child it starts."""
    empty = tmp_path / "proc"
    empty.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import ctypes.util, os\n"
        "for name in ('sched_setaffinity', 'sched_getaffinity'):\n"
        "    if hasattr(os, name):\n"
        "        delattr(os, name)\n"
        "ctypes.util.find_library = lambda name: 'libSystem.B.dylib'\n")
    monkeypatch.setenv("GOSTACK_PROC", str(empty))
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setattr(oscost.proc, "PROC", empty)
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    return empty


def test_without_proc_every_part_falls_back_with_a_note(tmp_path, monkeypatch):
    empty = _no_proc_no_glibc(tmp_path, monkeypatch)
    monkeypatch.setattr(oscost.gocost, "build_go_probe",
                        lambda timeout: oscost.GoBuild(False, reason="no Go toolchain found"))
    assert not oscost.read_limits().found
    start = time.monotonic()
    tc = oscost.thread_cost(budget=5, go_build_timeout=1)
    assert time.monotonic() - start < 60  # every child fails fast, nothing waits out a timeout
    # the parts that need /proc or glibc are recorded, each with its reason
    assert set(tc.recorded) == {"limits", "reservation", "threads", "address_space",
                                "creation", "lazy"}
    assert str(empty) in tc.recorded["limits"]
    assert "No such file" in tc.recorded["address_space"]
    notes = "\n".join(tc.notes())
    for part in ("limits", "reservation", "threads", "address_space", "creation", "lazy"):
        assert f"{part}: recorded on " in notes
    assert "goroutines: RECORDED" in notes and "no Go toolchain found" in notes
    # the switch ladder needs neither: it ran live, unpinned, and says so
    assert "switch" not in tc.recorded and not tc.pinned and "not pinned" in notes
    # the lesson's verdict and figure come out of the recorded numbers
    assert tc.verdict.real < 2e9 < 10e9 < tc.verdict.virtual
    assert len(tc.comparison()) == 3 and tc.ratios["resident + kernel"] > 8


@pytest.mark.go
@pytest.mark.skipif(not _go_available(), reason="no usable Go toolchain")
def test_without_proc_the_go_probe_keeps_its_own_numbers(tmp_path, monkeypatch):
    """Go's own figures (stack in use, creation CPU, switches) need no /proc: they stay live
    and only the probe's three /proc fields come from the recorded run."""
    _no_proc_no_glibc(tmp_path, monkeypatch)
    go = oscost.goroutines(build_timeout=900, counts=(10_000,), reps=1)
    assert go.source == "live" and "no /proc" in go.partial
    assert go.memory[10_000].stack == 2048
    rec = oscost.load_recorded()["raw"]["mem"]["10000"][0]
    assert go.memory[10_000].resident == rec["vmrss_kib"] * KIB / 10_000
    assert go.rungs["chan_p1"].csw_per_round_trip < 0.05


def test_recorded_lesson_numbers_support_the_lessons_claims():
    """Lesson 01's claims, held against the recording it falls back to (hand-set bounds
    from the reasoning in the lesson: a page or a few per thread, one kernel stack)."""
    rec = oscost.load_recorded_threads()
    st = rec["reservation"]
    assert st.follows_rule and st.live_thread_stack == st.glibc_default
    assert st.threading_stack_size == 0
    series = rec["threads"]
    for m in series.results.values():
        assert 4 * KIB <= m.resident <= 64 * KIB and m.reserved >= 0.9 * m.stack
    big = series.largest
    assert 4 * KIB <= big.kernel_stack <= 64 * KIB and big.reserved > 20 * big.resident
    demo = rec["address_space"]
    assert demo.ratio > 0.5 * demo.default_stack / demo.small_stack
    assert demo.default_threads * demo.default_stack <= demo.limit
    py, raw = rec["creation"]["python"], rec["creation"]["pthread"]
    assert py.cpu_ns > raw.cpu_ns and py.resident > raw.resident
    pipe, lock, gen = (rec["switch"][k] for k in ("pipe", "lock", "generator"))
    assert 1.8 <= pipe.csw_per_round_trip <= 3 and gen.csw_per_round_trip < 0.05
    assert lock.csw_per_round_trip > pipe.csw_per_round_trip and pipe.ns > 10 * gen.ns
    lazy = rec["lazy"]
    # a guard page splits each stack's mapping: max_map_count / 2 stacks, minus what the
    # interpreter itself maps; one page resident however little of it is used
    assert lazy.maps == 2 and lazy.limited
    assert 0.45 * lazy.max_map_count <= lazy.n <= 0.5 * lazy.max_map_count
    assert lazy.resident == pytest.approx(lazy.page, rel=0.05)


@linux
def test_live_lazy_stacks_cost_a_page_each_and_run_out_of_mappings():
    lazy = oscost.lazy_stacks(n=40_000, reserve=MIB, touch=1)
    assert lazy.maps == pytest.approx(2, abs=0.01)
    assert lazy.resident == pytest.approx(lazy.page, rel=0.05)  # 1 byte used, a page paid
    if 40_000 * 2 > lazy.max_map_count:
        assert lazy.limited and "Cannot allocate memory" in lazy.stopped


def test_lesson_01_runs_top_to_bottom_without_proc(tmp_path, monkeypatch):
    """The whole notebook, in a kernel that has no /proc, no libc and no sched_setaffinity:
    no cell errors, and the first measured cell says which numbers are recorded."""
    from gostack import nbtools

    _no_proc_no_glibc(tmp_path, monkeypatch)
    nb = nbtools.execute(oscost.HERE.parent / "notebooks" / "01-thread-cost.ipynb")
    first = next(c for c in nb.cells if c.cell_type == "code")
    text = "".join(o.get("text", "") for o in first.outputs)
    assert "note: limits: recorded on " in text and "note: lazy: recorded on " in text
    assert "10,000 threads take 10-20 GB" in text


@linux
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc arenas")
def test_live_reserve_beyond_the_stacks_is_mallocs_arenas():
    """Lesson 01's 100-thread row reserved 17.6 MiB per thread next to 8 MiB stacks. Each new
    thread's first malloc takes a new glibc arena, a 64 MiB reservation (HEAP_MAX_SIZE = 2 *
    DEFAULT_MMAP_THRESHOLD_MAX on 64-bit), until there are 8 per CPU (malloc/arena.c
    arena_get2, NARENAS_FROM_NCORES), the main arena among them; MALLOC_ARENA_MAX=1 keeps
    every thread on the main arena, and the extra reserve goes."""
    lim = oscost.read_limits()
    if lim.allows(100):
        pytest.skip(lim.allows(100))

    def beyond_stacks(env):
        d = oscost.run.run_python("threads", 60, env=env, n=100).get()
        return d["VmSize"] - d["stack_mappings"] * (d["stack"] + d["guard"])

    arenas = min(100, 8 * (os.cpu_count() or 1) - 1)
    assert beyond_stacks(None) >= 0.9 * arenas * 64 * MIB
    assert beyond_stacks({"MALLOC_ARENA_MAX": "1"}) < 16 * MIB
