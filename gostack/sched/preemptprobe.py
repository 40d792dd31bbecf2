"""A real measurement for lesson 12: which loops sysmon's preemption can stop, and how.

statprobe's ``hog`` mode has one loop without calls. This program runs the same scene
(``GOMAXPROCS=1``: ``n`` goroutines that note when they start, then a 50 ms loop spawned
last, so it runs first when main waits) with three loops:

* ``nocall``: xorshift rounds, no calls: no prologue is ever reached;
* ``leaf``: each round calls a ``//go:noinline`` leaf function with a small frame, which
  the compiler marks NOSPLIT (no prologue check: part 1's lesson 03);
* ``call``: each round calls a ``//go:noinline`` function that itself calls another:
  not a leaf, so it has the prologue that compares SP with ``stackguard0``.

Run with and without ``GODEBUG=asyncpreemptoff=1``, the claims (go1.27.3 proc.go
``preemptone``: ``gp.stackguard0 = stackPreempt``, then ``preemptM`` unless
asyncpreemptoff): with the signal every loop is stopped; without it only ``call`` is,
at its next prologue. One JSON line per run; scripts/record_preempt.py runs each
configuration N times into gostack/data/sched_preempt_recorded.json.

Invariants: the loop's length is calibrated on main before any goroutine starts (the
kind's own rate); ``GOGC=off``; times are ns since main started the goroutines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .statprobe import build_main, run_json

GO_SOURCE = r'''package main

import (
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"time"
)

//go:noinline
func leaf(x uint64) uint64 { x ^= x << 13; x ^= x >> 7; return x ^ x<<17 }

//go:noinline
func inner(x uint64) uint64 { return x ^ x<<17 }

//go:noinline
func withCall(x uint64) uint64 { x ^= x << 13; x ^= x >> 7; return inner(x) }

func loop(kind string, iters int) uint64 {
	x := uint64(iters) | 1
	switch kind {
	case "nocall":
		for i := 0; i < iters; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	case "leaf":
		for i := 0; i < iters; i++ {
			x = leaf(x)
		}
	case "call":
		for i := 0; i < iters; i++ {
			x = withCall(x)
		}
	}
	return x
}

func main() {
	kind := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	ms, _ := strconv.Atoi(os.Args[3])
	t := time.Now()
	calib := loop(kind, 1<<22)
	iters := int(int64(ms) * 1_000_000 * (1 << 22) / time.Since(t).Nanoseconds())
	starts := make([]int64, n)
	var wg sync.WaitGroup
	wg.Add(n + 1)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) { starts[i] = time.Since(t0).Nanoseconds(); wg.Done() }(i)
	}
	var start, end int64
	var out uint64
	go func() {
		start = time.Since(t0).Nanoseconds()
		out = loop(kind, iters)
		end = time.Since(t0).Nanoseconds()
		wg.Done()
	}()
	wg.Wait()
	first, during := int64(-1), 0
	for _, s := range starts {
		if first < 0 || s < first {
			first = s
		}
		if s < end {
			during++
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"kind": kind, "n": n, "ms": ms,
		"start_ns": start, "end_ns": end, "first_other_ns": first, "others_during": during,
		"parity": (calib ^ out) & 1})
}
'''

KINDS = ("nocall", "leaf", "call")


@dataclass(frozen=True)
class Config:
    kind: str
    asyncpreemptoff: bool
    n: int = 20
    ms: int = 50

    @property
    def godebug(self) -> str:
        return "asyncpreemptoff=1" if self.asyncpreemptoff else ""


CONFIGS: dict[str, Config] = {
    "nocall": Config("nocall", False),
    "nocall_asyncoff": Config("nocall", True),
    "leaf_asyncoff": Config("leaf", True),
    "call_asyncoff": Config("call", True),
    "call": Config("call", False),
}

PATH = Path(__file__).resolve().parent.parent / "data" / "sched_preempt_recorded.json"


@dataclass(frozen=True)
class Run:
    """One run: the loop's start and end, and the first other goroutine's start (ns)."""

    kind: str
    n: int
    ms: int
    start_ns: int
    end_ns: int
    first_other_ns: int
    others_during: int
    parity: int = 0

    @property
    def cut(self) -> bool:
        """Another goroutine started while the loop ran (more than 0.1 ms before its end):
        it was preempted."""
        return self.end_ns - self.first_other_ns > 100_000

    @property
    def delay_ms(self) -> float:
        """From the loop's start to the first other goroutine's start."""
        return (self.first_other_ns - self.start_ns) / 1e6


def build(progress=lambda _: None) -> Path:
    return build_main(GO_SOURCE, "sched:preempt", progress)


def run_once(binary: Path, c: Config, timeout: float = 60) -> Run:
    """``GOMAXPROCS=1 GOGC=off [GODEBUG=asyncpreemptoff=1] <binary> kind n ms``."""
    assert c.kind in KINDS
    return Run(**run_json(binary, (c.kind, c.n, c.ms), 1, timeout, c.godebug))


def load_recorded(path: Path | None = None) -> dict:
    return json.loads((path or PATH).read_text())


def recorded_runs(name: str, recorded: dict | None = None) -> list[Run]:
    return [Run(**r) for r in (recorded or load_recorded())["configs"][name]["runs"]]
