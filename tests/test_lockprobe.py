"""Locked goroutines cost threads: the model's Ms for lockprobe's scene, derived by hand
from go1.27.3 proc.go, and lockprobe's recorded real runs against them.

By hand: with GOMAXPROCS=1 the startup leaves two Ms (m0 and the M that took the P
while runtime.main was locked to m0: startup.py). Unlocked waiters park (gopark) and
need none. Each locked waiter that parks keeps its M asleep (stoplockedm) and handoffp
needs another M for the P: with n locked waiters, n Ms sleep and one runs main, n + 1.
Real Go adds sysmon's thread, and the template thread once LockOSThread was called.
"""

from __future__ import annotations

import pytest

from gostack.lessons import l11_locked
from gostack.sched import lockprobe

RECORDED = lockprobe.load_recorded()


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_model_threads_by_hand(n):
    assert l11_locked.model_threads(False, n) == 2
    assert l11_locked.model_threads(True, n) == n + 1


def test_recorded_with_go1_27_3():
    assert RECORDED["go"] == "go1.27.3"
    assert all(len(lockprobe.recorded_runs(name, RECORDED)) == 20 for name in lockprobe.CONFIGS)


@pytest.mark.parametrize("n", [1, 5, 10])
def test_unlocked_waiters_add_no_thread(n):
    runs = lockprobe.recorded_runs(f"nolock_{n}", RECORDED)
    assert all(r.added == 0 and r.threads_blocked in (3, 4) for r in runs)


@pytest.mark.parametrize("n", [5, 10])
def test_each_locked_waiter_holds_a_thread(n):
    runs = lockprobe.recorded_runs(f"lock_{n}", RECORDED)
    # m0, sysmon, the template thread, and one per waiter
    assert all(r.threads_blocked == n + 3 for r in runs)
    assert l11_locked.real_expected(True, n) == n + 3


def test_one_locked_waiter_mostly_as_the_model_says():
    runs = lockprobe.recorded_runs("lock_1", RECORDED)
    assert sum(r.threads_blocked == l11_locked.real_expected(True, 1) for r in runs) >= 15


def test_lock_table_reads_the_recording():
    lines = l11_locked.lock_table()
    assert lines[-1].split()[-2:] == ["13:", "20"]


@pytest.mark.go
def test_live_locked_waiters_hold_a_thread_each():
    from gostack import realgo

    a = realgo.available()
    if not a:
        pytest.skip(f"no Go here: {a.reason}")
    binary = lockprobe.build()
    assert lockprobe.run_once(binary, "nolock_5").added == 0
    # 5 threads more than the unlocked run's start (one may be the startup's spare M)
    assert lockprobe.run_once(binary, "lock_5").threads_blocked == 5 + 3
