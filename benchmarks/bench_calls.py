"""Simulated calls per second, trace on and off, against a bare-loop ceiling.

The ceiling is a plain Python loop that evaluates the same growth rule (prologue
check, doubling fit loop) on integers for the same recursion: the fastest any
Python simulator of this rule could go. Printed as ratios taken in one run.
Run: python benchmarks/bench_calls.py
"""

from __future__ import annotations

import time

import gostack as gs
from gostack.arch import ENTRY_USED, STACK_GUARD, STACK_MIN, STACK_SMALL

CALLS = 200_000
FRAME = 168
ENTRY = 56
REPEATS = 7


def ceiling(calls: int, frame: int) -> list[tuple[int, int]]:
    """The growth rule alone: integers only, no frames, no memory, no events."""
    size, used, growths = STACK_MIN, ENTRY_USED + ENTRY, []
    for i in range(1, calls + 1):
        e = used + 8
        if size - e - max(0, frame - STACK_SMALL) <= STACK_GUARD:
            new = 2 * size
            while new - e < frame + STACK_GUARD:
                new *= 2
            growths.append((i, new))
            size = new
        used = e + frame
    return growths


def simulate(calls: int, frame: int, trace: bool) -> list[tuple[int, int]]:
    g = gs.Runtime(trace=trace).go(gs.Func("main.entry", frame=ENTRY))
    f = gs.Func("main.rec", frame=frame)
    for _ in range(calls):
        g.call(f)
    return g.trace.growth_points()


def best_of(runs: dict) -> dict[str, float]:
    """Best time of each run, the runs interleaved so machine load hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS):
        for name, (fn, *args) in runs.items():
            t = time.perf_counter()
            fn(*args)
            times[name].append(time.perf_counter() - t)
    return {name: min(ts) for name, ts in times.items()}


def main() -> None:
    assert ceiling(CALLS, FRAME) == simulate(CALLS, FRAME, False), "the ceiling must agree"
    t = best_of({"base": (ceiling, CALLS, FRAME), "off": (simulate, CALLS, FRAME, False),
                 "on": (simulate, CALLS, FRAME, True)})
    base, off, on = t["base"], t["off"], t["on"]
    print(f"{CALLS:,} calls of a {FRAME}-byte recursion, best of {REPEATS}")
    print(f"  bare-loop ceiling : {CALLS / base:>12,.0f} calls/s   1.00x")
    for label, t, aim in (("off", off, "   (aim: within 3x)"), ("on ", on, "")):
        print(f"  gostack trace {label} : {CALLS / t:>12,.0f} calls/s   "
              f"{t / base:.2f}x the ceiling's time{aim}")


if __name__ == "__main__":
    main()
