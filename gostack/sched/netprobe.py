"""A real program for lesson 11's netpoller claim: N goroutines each read a pipe, either
through ``os.File`` (the netpoller: the goroutine parks) or through ``syscall.Read`` on
the raw descriptor (a blocking system call: the thread stays in the kernel).

Like statprobe, the run order is not deterministic, so the program prints counters,
one JSON line per run; scripts/record_netpoll.py runs each configuration several times
and keeps every run (gostack/data/sched_netpoll_recorded.json).

Invariants:

* one program (:data:`GO_SOURCE`), arguments ``<mode> <n>``: ``osfile`` (n pipes from
  ``os.Pipe``; each goroutine calls ``(*os.File).Read``: ``internal/poll``'s
  ``(*FD).Read`` gets ``EAGAIN`` from the non-blocking descriptor and parks in
  ``runtime.netpollblock``), ``raw`` (n pipes from ``syscall.Pipe``, blocking
  descriptors; each goroutine calls ``syscall.Read``: ``entersyscall``, and the thread
  sleeps in the kernel until main writes);
* main spawns the n readers, sleeps ``settle`` (30 ms), counts threads (the
  ``threadcreate`` profile: every M ever created; ``Threads:`` in /proc/self/status:
  live now), writes one byte to every pipe, waits for every reader and counts again;
* ``GOGC=off``; GOMAXPROCS is the run's parameter, as in statprobe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .statprobe import LIVE_THREADS_GO, build_main, run_json

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
)

''' + LIVE_THREADS_GO + r'''
func main() {
	mode := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	res := map[string]any{"mode": mode, "n": n, "gomaxprocs": runtime.GOMAXPROCS(0)}
	var files [][2]*os.File // osfile: the netpoller
	var fds [][2]int        // raw: blocking descriptors
	for i := 0; i < n; i++ {
		if mode == "osfile" {
			r, w, err := os.Pipe()
			if err != nil {
				panic(err)
			}
			files = append(files, [2]*os.File{r, w})
		} else {
			var p [2]int
			if err := syscall.Pipe(p[:]); err != nil {
				panic(err)
			}
			fds = append(fds, p)
		}
	}
	res["threads_start"] = pprof.Lookup("threadcreate").Count()
	got := make([]byte, n)
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) {
			var b [1]byte
			if mode == "osfile" {
				files[i][0].Read(b[:])
			} else {
				syscall.Read(fds[i][0], b[:])
			}
			got[i] = b[0]
			wg.Done()
		}(i)
	}
	time.Sleep(30 * time.Millisecond)
	res["threads_blocked"] = liveThreads()
	res["threadcreate_blocked"] = pprof.Lookup("threadcreate").Count()
	for i := 0; i < n; i++ {
		if mode == "osfile" {
			files[i][1].Write([]byte{1})
		} else {
			syscall.Write(fds[i][1], []byte{1})
		}
	}
	wg.Wait()
	res["drain_ns"] = time.Since(t0).Nanoseconds()
	read := 0
	for _, b := range got {
		read += int(b)
	}
	res["read"] = read
	res["threadcreate"] = pprof.Lookup("threadcreate").Count()
	res["threads_end"] = liveThreads()
	json.NewEncoder(os.Stdout).Encode(res)
}
'''

MODES = ("osfile", "raw")


@dataclass(frozen=True)
class Run:
    """One run's counters, as the program printed them."""

    mode: str
    n: int
    gomaxprocs: int
    threads_start: int  # threadcreate profile before the readers start
    threads_blocked: int  # live threads (/proc/self/status) while they wait
    threadcreate_blocked: int  # threadcreate profile while they wait
    threadcreate: int  # ... at the end
    threads_end: int
    drain_ns: int
    read: int  # bytes the readers got (n when every read returned its byte)

    @property
    def created(self) -> int:
        """Threads created while the readers waited (threadcreate: blocked - start)."""
        return self.threadcreate_blocked - self.threads_start

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def build(progress=lambda _: None) -> Path:
    return build_main(GO_SOURCE, "sched:netpoll", progress)


def run_once(binary: Path, mode: str, n: int, gomaxprocs: int = 1,
             timeout: float = 60) -> Run:
    """One run: ``GOMAXPROCS=gomaxprocs GOGC=off <binary> mode n``."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {MODES}")
    d = run_json(binary, (mode, n), gomaxprocs, timeout)
    d["gomaxprocs"] = int(d["gomaxprocs"])
    return Run(**d)
