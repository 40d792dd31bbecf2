"""The probe description, its Go rendering and the parsing of a real run's output."""

from __future__ import annotations

import pytest

from gostack.sched import probe as pr
from gostack.sched.catalog import LIVE_SUBSET, PROBES
from gostack.sched.render import CLOSED, MAGIC, parse_output, render_go


def test_at_least_thirty_probes_and_the_required_kinds():
    assert len(PROBES) >= 30
    for name in ("spawn_1", "spawn_10", "spawn_300", "spawn_5000", "spawn_257",
                 "gosched_3x3", "chan_receivers", "wg_gate", "mutex_3", "tick61_once"):
        assert name in PROBES
    assert set(LIVE_SUBSET) <= set(PROBES)


@pytest.mark.parametrize("bad,match", [
    (dict(main=(pr.Go("nope"),)), "no function"),
    (dict(main=(pr.Send("c"),)), "no channel"),
    (dict(main=(pr.WgWait(),)), "no WaitGroup"),
    (dict(main=(pr.Lock(),)), "no Mutex"),
    (dict(main=(pr.Loop(2, (pr.Loop(2, ()),)),)), "do not nest"),
    (dict(main=(), chans={"out": 0}), "not a usable Go name"),
    (dict(main=(pr.Emit("A1"),)), "lower-case letters only"),
    (dict(main=("print",)), "not a statement"),
])
def test_bad_descriptions_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        pr.Probe("bad", **bad)


def test_max_records_counts_loops_and_spawned_goroutines():
    p = PROBES["spawn_nested"]  # 3 p (1 record each) starting 3 c (1 each), + end
    assert p.max_records() == 3 * (1 + 3) + 1
    assert PROBES["gosched_10x5"].max_records() == 10 * 5 + 1


def test_tokens():
    assert pr.token("w", 3, -1) == "w3"
    assert pr.token("w", 3, 1) == "w3.1"
    assert pr.token("r", 0, -1, value=(4 << 16) | 0) == "r0<4"
    assert pr.token("r", 0, 2, value=(4 << 16) | 3) == "r0.2<4.2"
    assert pr.token("r", 0, -1, closed=True) == "r0<closed"
    assert pr.token("g", 1, -1, goid=7) == "g1@7"


def test_render_go_has_the_statements_in_go():
    src = render_go(PROBES["chan_pingpong"])
    assert "package main" in src and '"sync"' in src and '"runtime"' in src
    assert "var to = make(chan int, 0)" in src
    assert "func ping(i int) {" in src and "\t\tto <- i<<16 | (j + 1)" in src
    assert "if v, ok := <-to; ok {" not in src  # untagged receive
    assert "\t<-fro" in src or "\t\t<-fro" in src
    assert "func main() {" in src and src.rstrip().endswith("}")
    assert "import" in src and '"os"' not in src and '"fmt"' not in src


def test_parse_output_round_trip():
    p = PROBES["chan_close_wakes"]
    tags = ",".join(p.tags)
    w = p.tags.index("w")
    text = (f"noise\n{MAGIC} {tags}\n{w} 4 -1 {CLOSED}\n{w} 3 -1 {(7 << 16) | 0}\n"
            f"{p.tags.index('end')} 0 -1 0\nend 3\n")
    assert parse_output(p, text) == ("w4<closed", "w3<7", "end0")
    with pytest.raises(ValueError, match="no 'end' line"):
        parse_output(p, f"{MAGIC} {tags}\n")
    with pytest.raises(ValueError, match="tags"):
        parse_output(p, f"{MAGIC} x,y\nend 0\n")
    # a print cut short at 64 KB joins a record's head to a later one's tail
    with pytest.raises(ValueError, match="cut short"):
        parse_output(p, f"{MAGIC} {tags}\n{w} 4 -1 {CLOSED}\n{w} 3\nend 2\n")
