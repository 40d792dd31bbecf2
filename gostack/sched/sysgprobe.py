"""A real measurement for lesson 12: the GC's mark workers are goroutines the runtime
starts for itself, one per P, and ``runtime.NumGoroutine`` does not count them.

go1.27.3: ``gcStart`` (mgc.go) calls ``gcBgMarkStartWorkers``, which runs ``go
gcBgMarkWorker(ready)`` until ``gcBgMarkWorkerCount`` reaches ``gomaxprocs``; a worker
never exits, so lowering GOMAXPROCS keeps them and raising it adds the missing ones at
the next GC. A goroutine whose function is in package runtime is a system goroutine
(traceback.go ``isSystemGoroutine``): ``newproc1`` adds it to ``sched.ngsys``, and
``NumGoroutine`` is ``gcount(false)``, which subtracts ngsys; runtime/metrics'
``/sched/goroutines:goroutines`` is ``gcount(true)``.

The program takes a list of GOMAXPROCS values (``"4,2,8"``): for k = 0..len, a child
process sets each of the first k values and runs one ``runtime.GC()`` after each
(``GOGC=off``: no other GC starts), prints its counts, then panics with
``GOTRACEBACK=system``, so the runtime prints every goroutine, system ones included; the
parent counts them by creator and the mark workers by wait reason. One JSON line per run;
scripts/record_sysg.py runs each configuration N times into
gostack/data/sched_sysg_recorded.json.
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
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// all: runtime/metrics' /sched/goroutines:goroutines, which is gcount(true) (system
// goroutines included); NumGoroutine is gcount(false).
func all() int {
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// step sets GOMAXPROCS and runs one full GC (GOGC=off: only runtime.GC starts one).
func step(a string) {
	n, _ := strconv.Atoi(a)
	runtime.GOMAXPROCS(n)
	runtime.GC()
}

// dump runs this program again with GOTRACEBACK=system to take its first k steps, print
// its counts and panic: the runtime then prints every goroutine, its own
// included. Per goroutine (g0s, "goroutine 0", left out): who created it, and for the
// mark workers their wait reason.
func dump(spec string, k int) map[string]any {
	var out, errb strings.Builder
	cmd := exec.Command(os.Args[0], "child", spec, strconv.Itoa(k))
	cmd.Env = append(os.Environ(), "GOTRACEBACK=system")
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run() // exit status 2: the panic
	res := map[string]any{}
	json.Unmarshal([]byte(out.String()), &res)
	creators, status := map[string]int{}, map[string]int{}
	for _, block := range strings.Split(errb.String(), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		h := lines[0]
		if !strings.HasPrefix(h, "goroutine ") || strings.HasPrefix(h, "goroutine 0 ") {
			continue
		}
		by := "(none)"
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "created by ") {
				by = strings.Fields(l)[2]
			}
			if strings.HasPrefix(l, "runtime.gcBgMarkWorker(") {
				status[h[strings.Index(h, "[")+1:strings.Index(h, "]")]]++
			}
		}
		creators[by]++
	}
	res["created_by"], res["worker_status"] = creators, status
	return res
}

func main() {
	spec := os.Args[1]
	if spec == "child" {
		k, _ := strconv.Atoi(os.Args[3])
		for _, a := range strings.Split(os.Args[2], ",")[:k] {
			step(a)
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"gcs": k,
			"gomaxprocs": runtime.GOMAXPROCS(0), "num_goroutine": runtime.NumGoroutine(),
			"all_goroutines": all()})
		panic("census") // GOTRACEBACK=system: every goroutine is printed
	}
	var steps []map[string]any
	for i := 0; i <= len(strings.Split(spec, ",")); i++ {
		steps = append(steps, dump(spec, i))
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"spec": spec, "steps": steps})
}
'''

#: configuration name -> the GOMAXPROCS set before each GC (the first is also the
#: process's GOMAXPROCS).
CONFIGS: dict[str, tuple[int, ...]] = {"1": (1,), "2": (2,), "4": (4,), "4,2,8": (4, 2, 8)}

WORKER_CREATOR = "runtime.gcBgMarkStartWorkers"

PATH = Path(__file__).resolve().parent.parent / "data" / "sched_sysg_recorded.json"


@dataclass(frozen=True)
class Census:
    """One child process after ``gcs`` GCs: its counts and its goroutines by creator."""

    gcs: int
    gomaxprocs: int
    num_goroutine: int
    all_goroutines: int
    created_by: dict[str, int]
    worker_status: dict[str, int]

    @property
    def workers(self) -> int:
        """Goroutines created by gcBgMarkStartWorkers in the panic's dump."""
        return self.created_by.get(WORKER_CREATOR, 0)

    @property
    def system(self) -> int:
        """gcount(true) - gcount(false): the goroutines NumGoroutine leaves out."""
        return self.all_goroutines - self.num_goroutine


def build(progress=lambda _: None) -> Path:
    return build_main(GO_SOURCE, "sched:sysg", progress)


def run_once(binary: Path, name: str, timeout: float = 60) -> list[Census]:
    """``GOMAXPROCS=<first> GOGC=off <binary> <spec>``: one census per number of GCs."""
    procs = CONFIGS[name]
    d = run_json(binary, (",".join(map(str, procs)),), procs[0], timeout)
    return [Census(**s) for s in d["steps"]]


def load_recorded(path: Path | None = None) -> dict:
    return json.loads((path or PATH).read_text())


def recorded_runs(name: str, recorded: dict | None = None) -> list[list[Census]]:
    runs = (recorded or load_recorded())["configs"][name]["runs"]
    return [[Census(**s) for s in run] for run in runs]
