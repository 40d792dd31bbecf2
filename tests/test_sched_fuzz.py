"""Random probes (gostack.sched.fuzz): seeded, valid, and run on the model with every
invariant checked after every scheduler round. (Against real Go: `python -m
gostack.sched fuzz`.)"""

from __future__ import annotations

import pytest

from gostack import sched
from gostack.sched.fuzz import random_probe
from gostack.sched.render import render_go
from gostack.sched.schedule import Deadlock


def test_the_same_seed_gives_the_same_probe():
    assert random_probe(7) == random_probe(7)
    assert render_go(random_probe(7)) == render_go(random_probe(7))
    assert random_probe(7) != random_probe(8)


@pytest.mark.parametrize("seed", range(40))
def test_random_probes_keep_the_invariants(seed):
    p = random_probe(seed)
    try:
        r = sched.run(p, check=True)
    except Deadlock:
        return
    # every goroutine the probe started has exited when main's Wait returns
    started = [e.goid for e in r.trace.of(sched.NewProc) if e.name.startswith("main.")]
    assert set(started) <= {e.goid for e in r.trace.of(sched.Exit)}
    assert r.output[-1] == "end0"


def test_big_random_probes_add_a_crowd_that_overflows_the_ring():
    from gostack.sched.fuzz import random_big_probe

    p = random_big_probe(2)
    assert p == random_big_probe(2)
    crowd = next(s for s in p.main if isinstance(s, sched.Go) and s.func == "crowd")
    assert 200 <= crowd.count <= 700
    r = sched.run(p)
    assert r.trace.of(sched.RunqPutSlow)  # more than 256 queued at once


@pytest.mark.parametrize("seed", range(30))
def test_sync_random_probes_use_every_statement_and_keep_the_invariants(seed):
    from gostack.sched.chan import ChanPanic
    from gostack.sched.fuzz import random_sync_probe

    p = random_sync_probe(seed)
    assert p == random_sync_probe(seed) and p.conds == {"cv": "mu"}
    try:
        r = sched.run(p, check=True, preemption=False, starvation=False)
    except (Deadlock, ChanPanic):  # lost wake-ups, sends after main's close
        return
    assert r.output[-1] == "end0"


def test_sync_random_probes_cover_conds_locked_threads_and_goids():
    from gostack.sched.fuzz import random_sync_probe
    from gostack.sched.render import render_go

    text = "".join(render_go(random_sync_probe(s)) for s in range(40))
    for stmt in ("cv.Wait()", "cv.Signal()", "cv.Broadcast()", "runtime.LockOSThread()",
                 "runtime.UnlockOSThread()", "goid()", "close(c"):
        assert stmt in text
