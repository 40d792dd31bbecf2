"""A real measurement for lesson 11: a goroutine locked to its thread keeps that thread
while it waits, so locked goroutines cost threads.

go1.27.3 proc.go: ``LockOSThread`` sets ``m.lockedExt`` and wires G and M together
(``dolockOSThread``), and starts the template thread once (``startTemplateThread``).
When a locked G parks, ``schedule`` calls ``stoplockedm``: ``handoffp`` gives the P to
another M (``startm``: an idle one, else a new thread) and the locked M sleeps until its
G is ready again (``startlockedm`` hands it a P).

The program (``GOMAXPROCS=1``, ``GOGC=off``; arguments ``lock|nolock n``): main starts
n goroutines that (with ``lock``) call ``runtime.LockOSThread`` and wait on an unbuffered
channel, then calls ``runtime.Gosched`` so they all run and park; it reads runtime/pprof's
threadcreate count (every M ever created) before, while they wait, and at the end. One
JSON line per run; scripts/record_lock.py runs each configuration N times into
gostack/data/sched_lock_recorded.json.
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
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
)

func main() {
	lock := os.Args[1] == "lock"
	n, _ := strconv.Atoi(os.Args[2])
	start := pprof.Lookup("threadcreate").Count()
	c := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			if lock {
				runtime.LockOSThread()
			}
			<-c
			if lock {
				runtime.UnlockOSThread()
			}
			wg.Done()
		}()
	}
	runtime.Gosched()
	blocked := pprof.Lookup("threadcreate").Count()
	for i := 0; i < n; i++ {
		c <- i
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(map[string]any{"lock": lock, "n": n, "threads_start": start,
		"threads_blocked": blocked, "threads_end": pprof.Lookup("threadcreate").Count()})
}
'''

#: configuration name -> (lock, n)
CONFIGS: dict[str, tuple[bool, int]] = {f"{k}_{n}": (k == "lock", n)
                                        for k in ("nolock", "lock") for n in (1, 5, 10)}

PATH = Path(__file__).resolve().parent.parent / "data" / "sched_lock_recorded.json"


@dataclass(frozen=True)
class Run:
    """Threads created (threadcreate) before the goroutines, while they wait, at the end."""

    lock: bool
    n: int
    threads_start: int
    threads_blocked: int
    threads_end: int

    @property
    def added(self) -> int:
        """Threads created between main's first ``go`` and the waiters all parked."""
        return self.threads_blocked - self.threads_start


def build(progress=lambda _: None) -> Path:
    return build_main(GO_SOURCE, "sched:lock", progress)


def run_once(binary: Path, name: str, timeout: float = 60) -> Run:
    """``GOMAXPROCS=1 GOGC=off <binary> lock|nolock n``."""
    lock, n = CONFIGS[name]
    return Run(**run_json(binary, ("lock" if lock else "nolock", n), 1, timeout))


def load_recorded(path: Path | None = None) -> dict:
    return json.loads((path or PATH).read_text())


def recorded_runs(name: str, recorded: dict | None = None) -> list[Run]:
    return [Run(**r) for r in (recorded or load_recorded())["configs"][name]["runs"]]
