"""The recorded scheduler probes: each described once, run on the model and on real Go.

Every probe runs with one P (realrun.RUN_ENV). Main waits for what it wants to see
(a WaitGroup or channel receives) and the goroutines record tokens; the recorded
order is what ``gostack/data/sched_recorded.json`` holds and the model must predict.
"""

from __future__ import annotations

from .probe import (
    Close,
    CondBroadcast,
    CondSignal,
    CondWait,
    Emit,
    Go,
    Goid,
    Gosched,
    Lock,
    LockThread,
    Loop,
    Probe,
    Recv,
    Send,
    Unlock,
    UnlockThread,
    WgAdd,
    WgDone,
    WgWait,
)


def spawn(n: int) -> Probe:
    """main starts n goroutines that record their number, then waits for all."""
    return Probe(
        f"spawn_{n}",
        main=(WgAdd(n), Go("w", n), WgWait(), Emit("end")),
        funcs={"w": (Emit("w"), WgDone())},
        wgs=("wg",),
        summary=f"main starts {n} goroutines w(i) that record i, then waits (WaitGroup)",
        long_slice=n >= 5000,
    )


def _probes() -> list[Probe]:
    ps = [spawn(n) for n in (1, 2, 3, 10, 100, 255, 256, 257, 258, 300, 513, 1000, 5000)]
    ps += [
        Probe("spawn_5000_tree",
              main=(WgAdd(5000), Go("s", 10), WgWait(), Emit("end")),
              funcs={"s": (Go("w", 500), Emit("s")), "w": (Emit("w"), WgDone())},
              wgs=("wg",),
              summary="5,000 goroutines started by 10 spawners of 500 each: every time "
                      "slice stays short (main alone starting 5,000 can take over 10 ms "
                      "on a loaded machine, and sysmon then preempts it)"),
        Probe("spawn_goids", main=(WgAdd(5), Goid("m"), Go("w", 5), WgWait()),
              funcs={"w": (Goid("w"), WgDone())}, wgs=("wg",),
              summary="goids: main is 1, the runtime's four helpers 2-5, so w0 is 6"),
        Probe("spawn_nested",
              main=(WgAdd(12), Go("p", 3), WgWait(), Emit("end")),
              funcs={"p": (Emit("p"), Go("c", 3, 0), WgDone()),
                     "c": (Emit("c"), WgDone())},
              wgs=("wg",),
              summary="three goroutines each start three more: runnext chains"),
        Probe("main_gosched",
              main=(WgAdd(3), Go("w", 3), Emit("m"), Gosched(), Emit("m"), WgWait(),
                    Emit("end")),
              funcs={"w": (Emit("w"), WgDone())}, wgs=("wg",),
              summary="main yields after starting 3: Gosched sends it to the global "
                      "queue, behind the whole local queue"),
        Probe("gosched_main_alone", main=(Loop(3, (Emit("m"), Gosched())), Emit("end")),
              summary="main yields with nothing else runnable: it comes straight back"),
        Probe("gosched_3x3",
              main=(WgAdd(3), Go("w", 3), WgWait(), Emit("end")),
              funcs={"w": (Loop(3, (Emit("w"), Gosched())), WgDone())}, wgs=("wg",),
              summary="3 goroutines record and yield 3 times: round robin through the "
                      "global queue"),
        Probe("gosched_10x5",
              main=(WgAdd(10), Go("w", 10), WgWait(), Emit("end")),
              funcs={"w": (Loop(5, (Emit("w"), Gosched())), WgDone())}, wgs=("wg",),
              summary="10 goroutines x 5 yields"),
        Probe("gosched_300",
              main=(WgAdd(300), Go("w", 300), WgWait(), Emit("end")),
              funcs={"w": (Emit("a"), Gosched(), Emit("b"), WgDone())}, wgs=("wg",),
              summary="300 goroutines yield once: the global queue comes back in batches "
                      "of 128 (globrunqgetbatch) and at every 61st tick"),
        Probe("chan_senders",
              main=(Go("w", 5), Loop(5, (Recv("c", "m"),)), Emit("end")),
              funcs={"w": (Send("c"),)}, chans={"c": 0},
              summary="5 goroutines send on an unbuffered channel; main receives 5 times"),
        Probe("chan_receivers",
              main=(WgAdd(5), Go("w", 5), Gosched(), Loop(5, (Send("c"),)), WgWait(),
                    Emit("end")),
              funcs={"w": (Recv("c", "w"), WgDone())}, chans={"c": 0}, wgs=("wg",),
              summary="5 receivers wait on an unbuffered channel (main yields so they "
                      "block); main sends 5 values: FIFO receivers, each readied to runnext"),
        Probe("chan_buffered_senders",
              main=(Go("w", 10), Gosched(), Loop(10, (Recv("c", "m"),)), Emit("end")),
              funcs={"w": (Send("c"), Emit("w"))}, chans={"c": 3},
              summary="10 senders into a 3-slot channel: 3 fit, 7 block; receiving from "
                      "a full buffer moves the first blocked sender's value in"),
        Probe("chan_buffered_fits",
              main=(Go("w", 4), Loop(4, (Recv("c", "m"),)), Emit("end")),
              funcs={"w": (Send("c"), Emit("w"))}, chans={"c": 8},
              summary="4 senders into an 8-slot channel: nobody blocks; main's receives "
                      "block until the first send"),
        Probe("chan_pingpong",
              main=(WgAdd(3), Go("z", 1), Go("ping", 1), Go("pong", 1), WgWait(),
                    Emit("end")),
              funcs={"ping": (Loop(5, (Emit("ping"), Send("to"), Recv("fro"))), WgDone()),
                     "pong": (Loop(5, (Recv("to"), Emit("pong"), Send("fro"))), WgDone()),
                     "z": (Emit("z"), WgDone())},
              chans={"to": 0, "fro": 0}, wgs=("wg",),
              summary="ping-pong over two unbuffered channels: each side readies the "
                      "other into runnext"),
        Probe("chan_pingpong_holds_the_slice",
              main=(WgAdd(5), Go("pong", 1), Go("ping", 1), WgWait(), Emit("end")),
              funcs={"ping": (Go("z", 3), Loop(6, (Emit("ping"), Send("to"), Recv("fro"))),
                              WgDone()),
                     "pong": (Loop(6, (Recv("to"), Emit("pong"), Send("fro"))), WgDone()),
                     "z": (Emit("z"), WgDone())},
              chans={"to": 0, "fro": 0}, wgs=("wg",),
              summary="ping starts 3 goroutines, then ping-pongs with pong: each readies "
                      "the other into runnext, so the 3 wait until the exchange ends"),
        Probe("chan_buffered_receivers",
              main=(WgAdd(3), Go("w", 3), Gosched(), Loop(5, (Send("c"), Emit("m"))),
                    WgWait(), Emit("end")),
              funcs={"w": (Recv("c", "w"), WgDone())}, chans={"c": 2}, wgs=("wg",),
              summary="3 receivers wait on a 2-slot channel: the first 3 sends go straight "
                      "to them (no buffering), the last 2 into the buffer"),
        Probe("chan_close_wakes",
              main=(WgAdd(5), Go("w", 5), Gosched(), Close("c"), WgWait(), Emit("end")),
              funcs={"w": (Recv("c", "w"), WgDone())}, chans={"c": 0}, wgs=("wg",),
              summary="5 receivers wait; close readies them from a gList (a stack): "
                      "w0 lands in runnext, the others on the ring last-first"),
        Probe("chan_ready_runnext",
              main=(WgAdd(5), Go("r", 1), Gosched(), Go("w", 4), WgWait(), Emit("end")),
              funcs={"r": (Recv("c", "r"), WgDone()),
                     "w": (Emit("w"), Send("c"), WgDone()),
                     },
              chans={"c": 4}, wgs=("wg",),
              summary="r waits first; the send that readies it puts it in runnext, so it "
                      "runs right after the sender, ahead of the queue"),
        Probe("chan_pipeline",
              main=(Go("s3", 1), Go("s2", 1), Go("s1", 1), Loop(3, (Recv("c3", "m"),)),
                    Emit("end")),
              funcs={"s1": (Loop(3, (Emit("a"), Send("c1"))),),
                     "s2": (Loop(3, (Recv("c1"), Emit("b"), Send("c2"))),),
                     "s3": (Loop(3, (Recv("c2"), Emit("c"), Send("c3"))),)},
              chans={"c1": 0, "c2": 0, "c3": 0},
              summary="a three-stage pipeline over unbuffered channels"),
        Probe("chan_producer_consumer",
              main=(WgAdd(2), Go("cons", 1), Go("prod", 1), WgWait(), Emit("end")),
              funcs={"prod": (Loop(8, (Send("c"), Emit("p"))), WgDone()),
                     "cons": (Loop(8, (Recv("c", "c"),)), WgDone())},
              chans={"c": 2}, wgs=("wg",),
              summary="a producer and a consumer over a 2-slot channel"),
        Probe("wg_gate",
              main=(WgAdd(1, "gate"), WgAdd(5), Go("w", 5), Gosched(), Emit("m"),
                    WgDone("gate"), WgWait(), Emit("end")),
              funcs={"w": (Emit("a"), WgWait("gate"), Emit("b"), WgDone())},
              wgs=("wg", "gate"),
              summary="5 goroutines wait at a WaitGroup gate; main's Done releases them "
                      "head first, each into runnext: the last released runs first"),
        Probe("wg_done_wakes_main",
              main=(WgAdd(1, "first"), WgAdd(5), Go("a", 1), Go("w", 4), WgWait("first"),
                    Emit("m"), WgWait(), Emit("end")),
              funcs={"a": (Emit("a"), WgDone("first"), WgDone()),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg", "first"),
              summary="the Done that releases main puts it in runnext, ahead of the queue"),
        Probe("wg_many_waiters",
              main=(WgAdd(4), WgAdd(3, "seen"), Go("x", 3), Go("w", 4), WgWait("seen"),
                    Emit("end")),
              funcs={"x": (WgWait(), Emit("x"), WgDone("seen")),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg", "seen"),
              summary="three goroutines Wait on one WaitGroup; the last Done readies all"),
        Probe("mutex_3",
              main=(WgAdd(3), Go("w", 3), WgWait(), Emit("end")),
              funcs={"w": (Lock(), Emit("a"), Gosched(), Emit("b"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",),
              summary="3 goroutines take a Mutex and yield while holding it"),
        Probe("mutex_5x2",
              main=(WgAdd(5), Go("w", 5), WgWait(), Emit("end")),
              funcs={"w": (Loop(2, (Lock(), Emit("w"), Gosched(), Unlock())), WgDone())},
              wgs=("wg",), mutexes=("mu",),
              summary="5 goroutines take a Mutex twice each, yielding inside"),
        Probe("mutex_requeue_front",
              main=(WgAdd(3), Go("h", 1), Go("w", 2), WgWait(), Emit("end")),
              funcs={"h": (Lock(), Emit("h"), Gosched(), Unlock(), Lock(), Emit("h"),
                           Gosched(), Unlock(), WgDone()),
                     "w": (Emit("try"), Lock(), Emit("w"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",),
              summary="a woken waiter that finds the Mutex taken again queues at the "
                      "front (lifo): normal mode is not FIFO"),
        Probe("mutex_main",
              main=(Lock(), WgAdd(4), Go("w", 4), Gosched(), Emit("m"), Unlock(),
                    WgWait(), Emit("end")),
              funcs={"w": (Emit("a"), Lock(), Emit("b"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",),
              summary="main holds a Mutex while 4 goroutines queue on it"),
        Probe("cond_signal",
              main=(WgAdd(3), Go("w", 3), Gosched(),
                    Loop(3, (Lock(), CondSignal(), Unlock(), Emit("m"))), WgWait(),
                    Emit("end")),
              funcs={"w": (Lock(), Emit("a"), CondWait(), Emit("b"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",), conds={"cv": "mu"},
              summary="3 goroutines Wait on a Cond; main Signals 3 times without yielding: "
                      "each Signal readies the oldest waiter into runnext"),
        Probe("cond_signal_yield",
              main=(WgAdd(3), Go("w", 3), Gosched(),
                    Loop(3, (Lock(), CondSignal(), Unlock(), Emit("m"), Gosched())),
                    WgWait(), Emit("end")),
              funcs={"w": (Lock(), Emit("a"), CondWait(), Emit("b"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",), conds={"cv": "mu"},
              summary="the same, main yielding after each Signal"),
        Probe("cond_broadcast",
              main=(WgAdd(4), Go("w", 4), Gosched(), Lock(), Emit("m"), CondBroadcast(),
                    Unlock(), WgWait(), Emit("end")),
              funcs={"w": (Lock(), Emit("a"), CondWait(), Emit("b"), Unlock(), WgDone())},
              wgs=("wg",), mutexes=("mu",), conds={"cv": "mu"},
              summary="4 goroutines Wait on a Cond; Broadcast readies them oldest first, "
                      "each into runnext, and they then queue on the Mutex main still holds"),
        *(Probe(f"tick61_{'locked' if locked else 'unlocked'}_wake",
                main=(WgAdd(102), Go("l", 1), Gosched(), Go("y", 1), Go("w", 100), Send("c"),
                      WgWait(), Emit("end")),
                funcs={"l": ((LockThread(),) if locked else ()) + (
                           Recv("c", "l"), *((UnlockThread(),) if locked else ()), WgDone()),
                       "y": (Emit("y"), Gosched(), Emit("y"), WgDone()),
                       "w": (Emit("w"), WgDone())},
                chans={"c": 0}, wgs=("wg",),
                summary=("l locks its thread, then" if locked else "l") + " waits on a "
                        "channel; main's send readies it into runnext. "
                        + ("Being locked, it runs on its own M: startlockedm hands the P "
                           "over and execute(lockedg, false) starts a new slice: one tick "
                           "more, so y comes back from the global queue one G earlier"
                           if locked else "It inherits main's slice: no tick"))
          for locked in (False, True)),
        Probe("tick61_once",
              main=(WgAdd(101), Go("y", 1), Go("w", 100), WgWait(), Emit("end")),
              funcs={"y": (Emit("y"), Gosched(), Emit("y"), WgDone()),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg",),
              summary="y yields to the global queue while 100 goroutines fill the local "
                      "one: y comes back at the schedtick % 61 check"),
        Probe("tick61_period",
              main=(WgAdd(251), Go("y", 1), Go("w", 250), WgWait(), Emit("end")),
              funcs={"y": (Loop(6, (Emit("y"), Gosched())), WgDone()),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg",),
              summary="y yields 6 times among 250 queued goroutines: it runs once every "
                      "61 ticks"),
        Probe("tick61_two_yielders",
              main=(WgAdd(202), Go("y", 2), Go("w", 200), WgWait(), Emit("end")),
              funcs={"y": (Loop(4, (Emit("y"), Gosched())), WgDone()),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg",),
              summary="two yielders share the global queue: one comes back per 61 ticks"),
        Probe("tick61_overflow",
              main=(WgAdd(601), Go("y", 1), Go("w", 600), WgWait(), Emit("end")),
              funcs={"y": (Loop(12, (Emit("y"), Gosched())), WgDone()),
                     "w": (Emit("w"), WgDone())},
              wgs=("wg",),
              summary="600 goroutines overflow to the global queue while y yields: the "
                      "61-tick check and the batches take from the same global queue"),
    ]
    return ps


PROBES: dict[str, Probe] = {p.name: p for p in _probes()}

#: A few probes, one per mechanism, for the live check with real Go (each builds in ~1 s).
LIVE_SUBSET = ("spawn_10", "spawn_300", "spawn_goids", "gosched_3x3", "chan_close_wakes",
               "wg_gate", "mutex_requeue_front", "tick61_once")
