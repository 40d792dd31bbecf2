"""Random probes, seeded: for differential runs of the model against real Go.

``random_probe(seed)`` builds a small program from the probe statements: up to four
goroutine functions whose bodies mix records, Gosched, channel sends and receives
(buffered or not, some tagged), Mutex sections (Lock ... Unlock, maybe yielding
inside), a WaitGroup gate, loops and nested ``go`` statements. Every goroutine ends
with ``wg.Done()`` and main waits for all of them, so a probe ends unless its channels
deadlock (the model then raises Deadlock, and every real run must die with "all
goroutines are asleep - deadlock!").

    python -m gostack.sched fuzz --seed 1 --count 50   # model vs real Go
    python -m gostack.sched fuzz --big --count 50      # with a crowd of 200-700
    python -m gostack.sched fuzz --sync --count 50     # Cond, LockOSThread, goids, close

``random_sync_probe(seed)`` uses every statement; its lost wake-ups deadlock and its
misuses panic (send on a closed channel), and real Go must end the same way.

The real side is built with realrun.SYSMON_PATCHES and MUTEX_PATCHES: sysmon's
preemptions and Mutex starvation mode depend on wall time, which the model does not
have. (Without the Mutex patch, ``--big`` seeds 48 and 172 differ: a waiter queued
behind a crowd waits over 1 ms and the Mutex turns to starvation mode; with it, every
run agrees.)
"""

from __future__ import annotations

import random

from . import probe as pr

_TAGS = "abcdefgh"


def _body(rng: random.Random, k: int, chans: list[str], funcs: list[str],
          in_loop: bool = False) -> list:
    out: list = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.25:
            out.append(pr.Emit(_TAGS[k]))
        elif r < 0.4:
            out.append(pr.Gosched())
        elif r < 0.55 and chans:
            out.append(pr.Send(rng.choice(chans)))
        elif r < 0.7 and chans:
            out.append(pr.Recv(rng.choice(chans), rng.choice((None, "r" + _TAGS[k]))))
        elif r < 0.8:
            inner = [pr.Emit(_TAGS[k])] + ([pr.Gosched()] if rng.random() < 0.5 else [])
            out += [pr.Lock(), *inner, pr.Unlock()]
        elif r < 0.88 and not in_loop:
            out.append(pr.Loop(rng.randint(2, 3), tuple(_body(rng, k, chans, funcs, True))))
        elif r < 0.95 and k + 1 < len(funcs):
            out.append(pr.Go(funcs[k + 1], rng.randint(1, 3)))
        else:
            out.append(pr.Emit(_TAGS[k]))
    return out


def random_probe(seed: int) -> pr.Probe:
    """A random probe; the same seed gives the same probe."""
    rng = random.Random(seed)
    nf = rng.randint(1, 4)
    funcs = [f"f{k}" for k in range(nf)]
    chans = {f"c{k}": rng.choice((0, 0, 1, 2)) for k in range(rng.randint(0, 2))}
    bodies = {f: tuple(_body(rng, k, list(chans), funcs)) + (pr.WgDone(),)
              for k, f in enumerate(funcs)}
    starts = [(f, rng.randint(1, 4)) for f in funcs[:rng.randint(1, nf)]]
    main: list = []
    for f, n in starts:
        main.append(pr.Go(f, n))
        if rng.random() < 0.3:
            main.append(pr.Gosched())
    if chans and rng.random() < 0.5:
        main.append(pr.Recv(rng.choice(list(chans)), "m"))
    main += [pr.WgWait(), pr.Emit("end")]
    p = pr.Probe(f"fuzz_{seed}", main=(), funcs=bodies, chans=chans, wgs=("wg",),
                 mutexes=("mu",))
    total = _goroutines(p, starts)
    return pr.Probe(f"fuzz_{seed}", main=(pr.WgAdd(total), *main), funcs=bodies,
                    chans=chans, wgs=("wg",), mutexes=("mu",),
                    summary=f"random probe, seed {seed}")


def _goroutines(p: pr.Probe, starts: list[tuple[str, int]]) -> int:
    """How many goroutines the program starts in all (each ends with wg.Done())."""
    memo: dict[str, int] = {}

    def spawned(body: tuple) -> int:
        n = 0
        for s in body:
            if isinstance(s, pr.Loop):
                n += s.count * spawned(s.body)
            elif isinstance(s, pr.Go):
                n += s.count * (1 + of(s.func))
        return n

    def of(f: str) -> int:
        if f not in memo:
            memo[f] = spawned(p.funcs[f])
        return memo[f]

    return sum(n * (1 + of(f)) for f, n in starts)


def random_big_probe(seed: int, sync: bool = False) -> pr.Probe:
    """A random probe plus a crowd: 200-700 goroutines that record, maybe yield, and
    record again, started by main before or after the others. It brings in the ring's
    overflow (runqputslow), the global queue's batches and the 61-tick check. ``sync``:
    around random_sync_probe instead of random_probe."""
    rng = random.Random(10_000_019 * seed + 7)
    base = random_sync_probe(seed) if sync else random_probe(seed)
    n = rng.randint(200, 700)
    crowd: tuple = (pr.Emit("z"),) + ((pr.Gosched(), pr.Emit("z")) if rng.random() < 0.7
                                      else ()) + (pr.WgDone(),)
    (add,), rest = base.main[:1], base.main[1:]
    assert isinstance(add, pr.WgAdd)
    first = rng.random() < 0.5
    spawn = (pr.Go("crowd", n),)
    main = (pr.WgAdd(add.n + n), *(spawn if first else ()), *rest[:-2],
            *(() if first else spawn), *rest[-2:])
    return pr.Probe(f"fuzzbig{'sync' if sync else ''}_{seed}", main=main,
                    funcs={**base.funcs, "crowd": crowd}, chans=base.chans, wgs=base.wgs,
                    mutexes=base.mutexes, conds=base.conds,
                    summary=f"random probe with a crowd of {n}, seed {seed}")


def _sync_body(rng: random.Random, k: int, chans: list[str], funcs: list[str],
               in_loop: bool = False) -> list:
    """A body for random_sync_probe: random_probe's statements plus Cond waits and
    notifications, LockOSThread sections (sometimes left locked at the end), goids."""
    out: list = []
    t = _TAGS[k]
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.12:
            out.append(pr.Emit(t))
        elif r < 0.2:
            out.append(pr.Goid("g" + t))
        elif r < 0.3:
            out.append(pr.Gosched())
        elif r < 0.4 and chans:
            out.append(pr.Send(rng.choice(chans)))
        elif r < 0.5 and chans:
            out.append(pr.Recv(rng.choice(chans), rng.choice((None, "r" + t))))
        elif r < 0.58:
            out += [pr.Lock(), pr.Emit(t), *([pr.Gosched()] * rng.randint(0, 1)), pr.Unlock()]
        elif r < 0.68:  # a Cond waiter (Wait holds the Mutex, as Go requires)
            out += [pr.Lock(), pr.Emit(t), pr.CondWait(), pr.Emit(t), pr.Unlock()]
        elif r < 0.78:
            note = rng.choice((pr.CondSignal(), pr.CondBroadcast()))
            out += [pr.Lock(), note, pr.Unlock()] if rng.random() < 0.7 else [note]
        elif r < 0.85 and not in_loop:
            inner = _sync_body(rng, k, chans, funcs, True)
            out += [pr.LockThread(), *inner] + ([pr.UnlockThread()] if rng.random() < 0.7
                                                 else [])
        elif r < 0.92 and not in_loop:
            out.append(pr.Loop(rng.randint(2, 3),
                               tuple(_sync_body(rng, k, chans, funcs, True))))
        elif k + 1 < len(funcs):
            out.append(pr.Go(funcs[k + 1], rng.randint(1, 3)))
        else:
            out.append(pr.Emit(t))
    return out


def random_sync_probe(seed: int) -> pr.Probe:
    """A random probe over every statement: Cond, LockOSThread (a goroutine may exit
    locked), goids, and main may close a channel or Broadcast before it waits. Lost
    wake-ups deadlock and misuse panics: the model must predict those too."""
    rng = random.Random(20_000_003 * seed + 11)
    nf = rng.randint(1, 4)
    funcs = [f"f{k}" for k in range(nf)]
    chans = {f"c{k}": rng.choice((0, 0, 1, 2)) for k in range(rng.randint(0, 2))}
    bodies = {f: tuple(_sync_body(rng, k, list(chans), funcs)) + (pr.WgDone(),)
              for k, f in enumerate(funcs)}
    starts = [(f, rng.randint(1, 4)) for f in funcs[:rng.randint(1, nf)]]
    main: list = []
    for f, n in starts:
        main += [pr.Go(f, n)] + ([pr.Gosched()] if rng.random() < 0.4 else [])
    if chans and rng.random() < 0.3:
        main.append(pr.Close(rng.choice(list(chans))))
    if rng.random() < 0.7:  # wake Cond waiters a few times (fewer lost wake-ups)
        main.append(pr.Loop(rng.randint(1, 4), (pr.Gosched(), pr.Lock(), pr.CondBroadcast(),
                                                 pr.Unlock())))
    main += [pr.WgWait(), pr.Emit("end")]
    kw = dict(funcs=bodies, chans=chans, wgs=("wg",), mutexes=("mu",), conds={"cv": "mu"})
    total = _goroutines(pr.Probe(f"fuzzsync_{seed}", main=(), **kw), starts)
    return pr.Probe(f"fuzzsync_{seed}", main=(pr.WgAdd(total), *main), **kw,
                    summary=f"random probe over every statement, seed {seed}")
