"""Real programs for stage 2's measured claims: several Ps, blocking system calls.

With GOMAXPROCS > 1 the run order is not deterministic (which M wakes first, when the
OS runs it, ``cheaprand`` in ``stealWork``), so these programs print *counters*, one
JSON line per run, and the harness (scripts/record_sched_stats.py) runs each N times
and keeps the distribution (gostack/data/sched_stats_recorded.json).

Invariants:

* one program (:data:`GO_SOURCE`), four modes, selected by its arguments
  ``<mode> <n> <work>``: ``spin`` (main spawns n goroutines, each spins ``work``
  xorshift rounds and records its P and its thread), ``nanosleep`` (each calls
  ``syscall.Nanosleep`` for ``work`` µs: a blocking system call), ``read`` (each reads a
  blocking pipe from ``syscall.Pipe``: not the netpoller), ``chan`` (each waits on a
  channel receive), ``hog`` (n goroutines that only record when they start, then
  one spawned last that spins ``work`` µs in a loop without calls: it runs first, and
  only sysmon's preemption by signal lets the others in before it ends);
* a goroutine's P is read with ``runtime.procPin`` (pushed by ``//go:linkname procPin``
  in proc.go) and unpinned at once; its thread with ``syscall.Gettid``;
* threads are counted two ways: ``runtime/pprof``'s ``threadcreate`` profile (every M
  ever created, ``mcount``) and ``Threads:`` in ``/proc/self/status`` (live now), read
  by main while the n goroutines are blocked (after ``settle_ms``) and at the end;
* ``GOGC=off`` as in stage 1; GOMAXPROCS is the run's parameter.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import program as _program
from .. import realgo

#: Go: the threads the process has now (``Threads:`` in /proc/self/status); netprobe's
#: program has it too.
LIVE_THREADS_GO = r'''func liveThreads() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(l[8:]))
			return n
		}
	}
	return -1
}
'''

GO_SOURCE = r'''package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "unsafe"
)

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

func curP() int { p := procPin(); procUnpin(); return p }

func spin(n int) uint64 {
	x := uint64(n) | 1
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

''' + LIVE_THREADS_GO + r'''
func main() {
	mode := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	work, _ := strconv.Atoi(os.Args[3])
	settle := 30 * time.Millisecond
	res := map[string]any{"mode": mode, "n": n, "work": work,
		"gomaxprocs": runtime.GOMAXPROCS(0)}
	// calibrate: one goroutine's work alone, on main (median of 21)
	if mode == "spin" {
		var ts []int64
		var acc uint64
		for r := 0; r < 21; r++ {
			t := time.Now()
			acc += spin(work + r) // used below, so the loop is not dead code
			ts = append(ts, time.Since(t).Nanoseconds())
		}
		res["calib_parity"] = acc & 1
		for i := range ts {
			for j := i + 1; j < len(ts); j++ {
				if ts[j] < ts[i] {
					ts[i], ts[j] = ts[j], ts[i]
				}
			}
		}
		res["work_ns"] = ts[len(ts)/2]
	}
	res["threads_start"] = pprof.Lookup("threadcreate").Count()
	ps := make([]int32, n)
	tids := make([]int32, n)
	out := make([]uint64, n)
	fds := make([][2]int, n)
	ch := make(chan int)
	if mode == "read" {
		for i := range fds {
			var p [2]int
			if err := syscall.Pipe(p[:]); err != nil {
				panic(err)
			}
			fds[i] = p
		}
	}
	starts := make([]int64, n)
	hogIters := 0
	if mode == "hog" { // work = the hog's length in µs: calibrate spin's rate first
		t := time.Now()
		x := spin(1 << 22)
		el := time.Since(t).Nanoseconds()
		hogIters = int(int64(work) * 1000 * (1 << 22) / el)
		res["calib_parity"] = x & 1
	}
	mainP := curP()
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) {
			ps[i] = int32(curP())
			tids[i] = int32(syscall.Gettid())
			switch mode {
			case "spin":
				out[i] = spin(work)
			case "nanosleep":
				ts := syscall.NsecToTimespec(int64(work) * 1000)
				syscall.Nanosleep(&ts, nil)
			case "read":
				var b [1]byte
				syscall.Read(fds[i][0], b[:])
			case "chan":
				out[i] = uint64(<-ch)
			case "hog":
				starts[i] = time.Since(t0).Nanoseconds()
			}
			wg.Done()
		}(i)
	}
	var hogStart, hogEnd int64
	if mode == "hog" { // spawned last: runnext, it runs first when main waits
		wg.Add(1)
		go func() {
			hogStart = time.Since(t0).Nanoseconds()
			out[0] = spin(hogIters) // no calls in the loop: only a signal stops it
			hogEnd = time.Since(t0).Nanoseconds()
			wg.Done()
		}()
	}
	res["spawn_ns"] = time.Since(t0).Nanoseconds()
	if mode != "spin" && mode != "hog" {
		time.Sleep(settle)
		res["threads_blocked"] = liveThreads()
		res["threadcreate_blocked"] = pprof.Lookup("threadcreate").Count()
		switch mode {
		case "read":
			for i := range fds {
				syscall.Write(fds[i][1], []byte{1})
			}
		case "chan":
			close(ch)
		}
	}
	wg.Wait()
	res["drain_ns"] = time.Since(t0).Nanoseconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	res["cpu_ns"] = ru.Utime.Nano() + ru.Stime.Nano()
	res["main_p"] = mainP
	perP := map[string]int{}
	perM := map[int32]int{}
	for i := range ps {
		perP[strconv.Itoa(int(ps[i]))]++
		perM[tids[i]]++
	}
	var perMs []int
	for _, c := range perM {
		perMs = append(perMs, c)
	}
	res["per_p"] = perP
	res["per_m"] = perMs
	res["threadcreate"] = pprof.Lookup("threadcreate").Count()
	res["threads_end"] = liveThreads()
	if mode == "hog" {
		first := int64(-1)
		during := 0
		for _, s := range starts {
			if first < 0 || s < first {
				first = s
			}
			if s < hogEnd {
				during++
			}
		}
		res["hog"] = map[string]int64{"start_ns": hogStart, "end_ns": hogEnd,
			"first_other_ns": first, "others_during": int64(during)}
	}
	json.NewEncoder(os.Stdout).Encode(res)
}
'''

MODES = ("spin", "nanosleep", "read", "chan", "hog")


@dataclass(frozen=True)
class Run:
    """One run's counters, as the program printed them."""

    mode: str
    gomaxprocs: int
    n: int
    work: int
    main_p: int
    per_p: dict  # P id (str) -> goroutines that started on it
    per_m: tuple[int, ...]  # goroutines per thread (any order)
    threadcreate: int
    threads_end: int
    drain_ns: int
    spawn_ns: int
    work_ns: int = 0
    threads_start: int = 0
    threads_blocked: int = 0
    threadcreate_blocked: int = 0
    cpu_ns: int = 0  # the process's user+system CPU time at the end (getrusage)
    calib_parity: int = 0
    hog: dict | None = None  # hog mode: start_ns, end_ns, first_other_ns, others_during

    @property
    def off_main_p(self) -> int:
        """Goroutines that started on a P other than main's (stolen, or taken from the
        global queue by another P)."""
        return self.n - self.per_p.get(str(self.main_p), 0)

    @property
    def ps_used(self) -> int:
        return sum(1 for c in self.per_p.values() if c)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["per_m"] = sorted(self.per_m, reverse=True)
        return d


def build_main(source: str, label: str, progress=lambda _: None) -> Path:
    """Build one ``main.go`` with this toolchain's ``go.mod`` (realgo caches it)."""
    a = realgo.require()
    files = {"go.mod": _program.go_mod(a.version or ""), "main.go": source}
    return realgo.build_files(files, progress, label=label).binary


def run_json(binary: Path, args: Sequence[object], gomaxprocs: int, timeout: float = 60,
             godebug: str = "") -> dict:
    """``GOMAXPROCS=gomaxprocs GOGC=off [GODEBUG=godebug] <binary> args...``, no other
    GO* variable from here: the JSON line the program printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update({"GOMAXPROCS": str(gomaxprocs), "GOGC": "off", "GOTRACEBACK": "single"})
    if godebug:
        env["GODEBUG"] = godebug
    r = subprocess.run([str(binary), *map(str, args)], env=env, capture_output=True,
                       text=True, timeout=timeout, check=True)
    return json.loads(r.stdout)


def build(progress=lambda _: None) -> Path:
    return build_main(GO_SOURCE, "sched:stats", progress)


def run_once(binary: Path, mode: str, n: int, work: int, gomaxprocs: int,
             timeout: float = 60, godebug: str = "") -> Run:
    """One run of the program: ``GOMAXPROCS=gomaxprocs GOGC=off [GODEBUG=godebug]
    <binary> mode n work``."""
    assert mode in MODES
    d = run_json(binary, (mode, n, work), gomaxprocs, timeout, godebug)
    d["per_m"] = tuple(d.get("per_m") or ())
    d["gomaxprocs"] = int(d["gomaxprocs"])
    return Run(**d)
