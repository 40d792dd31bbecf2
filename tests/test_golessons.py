"""gostack.golessons: the lessons' real-Go programs, recorded and live.

The tests marked ``go`` rerun the lessons' real-Go programs and compare with the recording.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import os

import pytest  # noqa: E402

from gostack import golessons  # noqa: E402
from gostack.lessons import l06_stack_maps as l06  # noqa: E402
from gostack.lessons import running  # noqa: E402

GiB = 1 << 30


# ---- real Go: the recording, and live runs --------------------------------------------------


@pytest.fixture(scope="module")
def recorded():
    return golessons.load_recorded()


def test_recorded_cases_agree_with_the_simulator(recorded):
    assert set(recorded["cases"]) == set(golessons.lesson_programs())
    for name in golessons.lesson_programs():
        c = golessons.comparison(name, recorded=recorded)
        assert c.agree, c.table()
        assert not c.notes, f"{name}: run scripts/record_lessons.py ({c.notes})"
    assert recorded["cases"]["lesson_running"]["frames"] == running.RUNNING_FRAMES
    assert golessons.recorded_label(recorded).startswith("recorded with go1.27.3 on ")


def test_recorded_demos_are_consistent(recorded):
    p = recorded["pointer"]
    size, moves = l06.pointer_sim(p["frames"])
    assert f"after:  stack {size} bytes" in p["stable"][1] and moves >= 1
    assert p["moved_to_heap"] == []  # x stayed on the stack
    assert recorded["escapes"] == ["14:2: moved to heap: y", "20:2: moved to heap: z"]
    assert recorded["adaptive"]["default"] == {"5": 2048, "20": 8192, "50": 16384, "100": 32768}
    for setup in ("adaptivestackstart=0", "fresh G"):
        assert set(recorded["adaptive"][setup].values()) == {2048}


def _have_go() -> bool:
    from gostack import realgo

    return bool(realgo.available())


needs_go = pytest.mark.skipif(
    not _have_go() and os.environ.get("GOSTACK_REQUIRE_GO") != "1",
    reason="no Go toolchain (pip install 'gostack[go]')")


@pytest.mark.go
@needs_go
def test_live_programs_still_do_what_was_recorded(recorded):
    for name in ("lesson_running", "lesson_big_frame", "lesson_small_limit", "lesson_shrink"):
        live = golessons.comparison(name, live=True)
        assert live.agree, live.table()
        assert live.real == golessons.comparison(name, recorded=recorded).real


@pytest.mark.go
@needs_go
def test_live_demos_still_do_what_was_recorded(recorded):
    assert golessons.escape_decisions() == recorded["escapes"]
    demo = golessons.pointer_demo()
    assert demo["stable"] == recorded["pointer"]["stable"]
    assert demo["varies"][0].startswith("p - u = ")
    assert golessons.adaptive_sizes() == recorded["adaptive"]


def test_live_go_waits_for_a_warm_build_cache(monkeypatch, tmp_path):
    from gostack import realgo

    monkeypatch.setenv("GOSTACK_CACHE", str(tmp_path))
    cold = golessons.live_go()
    assert not cold and "recorded results stand" in cold.reason
    if realgo.available():
        assert "nothing was built" in cold.reason and golessons.live_go(force=True)
        (tmp_path / "go" / "cache").mkdir(parents=True)
        assert golessons.live_go()
