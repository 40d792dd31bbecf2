"""Goroutines, measured by the real Go toolchain: the probe probes/oscost/gocost.go."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_, _
from . import run
from .proc import HERE, KIB, fmt_bytes, fmt_ns
from .run import MeasurementError, Result
from .switches import Rung

RECORDED_PATH = HERE / "data" / "oscost_recorded.json"
GO_PROBE = HERE / "probes" / "oscost" / "gocost.go"
#: Goroutine counts: 10k to compare with threads, 100k to show it still scales.
GOROUTINE_COUNTS = (10_000, 100_000)
#: Environment of every Go probe run: no collection, every new goroutine at 2 KiB.
GO_RUN_ENV = {"GOGC": "off", "GODEBUG": "adaptivestackstart=0"}


@dataclass(frozen=True)
class GoBuild:
    """The Go probe, built (or why not)."""

    ok: bool
    binary: str | None = None
    cached: bool = False
    seconds: float = 0.0
    version: str | None = None
    reason: str | None = None


def _go_files(version: str | None) -> dict[str, str]:
    import re

    m = re.match(r"go(\d+)\.(\d+)", version or "")
    line = f"{m[1]}.{m[2]}" if m else "1.21"
    return {"go.mod": f"module gocost\n\ngo {line}\n", "main.go": GO_PROBE.read_text()}


def _build_child() -> dict:
    """Build the probe through gostack.realgo (toolchain finder, hermetic env, cache)."""
    from .. import realgo

    a = realgo.available()
    if not a.ok:
        return {"error": a.reason}
    if not GO_PROBE.is_file():
        return {"error": f"the probe source {GO_PROBE.name} is not installed"}
    t0 = time.monotonic()
    b = realgo.build_files(_go_files(a.version), label="gocost")
    return {"binary": str(b.binary), "cached": b.cached,
            "seconds": time.monotonic() - t0, "version": a.version}


def build_go_probe(timeout: float = 120.0) -> GoBuild:
    """Build the Go probe once (cached) in a child process; a build that outlasts
    ``timeout`` is stopped, and what it compiled so far stays in the Go cache."""
    argv = [sys.executable, "-m", "gostack.oscost", "build", "--json"]
    r = run.run_json(argv, timeout, env=run._python_env(), grace=3.0)
    if not r.ok:
        why = r.error or "the build failed"
        if r.timed_out:
            why = (f"the Go build took longer than {timeout:g} s (a cold Go cache first "
                   "compiles the standard library; run `python -m gostack.oscost build` once)")
        return GoBuild(False, reason=why, seconds=r.seconds)
    d = r.data
    return GoBuild(True, d["binary"], d["cached"], d["seconds"], d["version"])


def _go_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GO") or k.startswith("GOSTACK_")}  # GOSTACK_PROC passes
    env.update(GO_RUN_ENV)
    return env


def run_go(binary: str, *args: str | int, timeout: float = 60.0) -> Result:
    """One run of the Go probe (``mem N`` or ``switch ROUNDS REPS``)."""
    return run.run_json([binary, *map(str, args)], timeout, env=_go_env())


GO_LABELS = {  # English; lesson 01's figure translates them (N_)
    "chan_p1": N_("goroutines, channel, GOMAXPROCS=1"),
    "chan_p2": N_("goroutines, channel, GOMAXPROCS=2"),
    "locked": N_("goroutines + LockOSThread"),
}


def go_measure(binary: str, counts: Sequence[int] = GOROUTINE_COUNTS, reps: int = 3,
               rounds: int = 100_000, timeout: float = 60.0) -> dict:
    """Raw probe output: ``mem`` for each count (the largest ``reps`` times, fresh
    processes) and one ``switch`` run with ``reps`` interleaved repeats."""
    mem: dict[str, list[dict]] = {}
    for n in counts:
        k = reps if n == max(counts) else 1
        mem[str(n)] = [run_go(binary, "mem", n, timeout=timeout).get() for _i in range(k)]
    sw = run_go(binary, "switch", rounds, reps, timeout=timeout).get()
    return {"mem": mem, "switch": sw}


@dataclass(frozen=True)
class GoroutineMemory:
    """What ``n`` parked goroutines added, per goroutine, in bytes."""

    n: int
    stack: float  # runtime.MemStats.StackInuse delta: the goroutine stacks
    heap: float  # HeapInuse delta: the g structs and closures
    resident: float  # VmRSS delta
    threads: int  # OS threads of the whole process
    vmsize: int  # the process's address space (bytes), reserved by the Go runtime
    create_cpu_ns: float  # median CPU per goroutine started
    create_range: tuple[float, float]


@dataclass(frozen=True)
class GoCosts:
    """Goroutine costs, measured here or recorded (``source``) on ``machine`` on ``date``."""

    source: str  # "live" or "recorded"
    machine: str
    date: str
    version: str
    memory: dict[int, GoroutineMemory]
    rungs: dict[str, Rung]
    build: GoBuild | None = None
    reason: str | None = None  # why the numbers are recorded
    partial: str | None = None  # live, but some figures recorded: which and why

    @property
    def label(self) -> str:
        if self.source == "live":
            return _("measured live ({version})").format(version=self.version) + (
                _("; resident memory, OS threads, VmSize recorded") if self.partial else "")
        return _("RECORDED on {date} ({machine}; {version}), not measured here").format(
            date=self.date, machine=self.machine, version=self.version)

    @property
    def largest(self) -> GoroutineMemory:
        return self.memory[max(self.memory)]

    def table(self) -> str:
        rows = [self.label,
                f"{'goroutines':>10}  {'stack in use':>12}  {'heap':>8}  {'resident':>9}  "
                f"{'OS threads':>10}  {'VmSize':>8}  {'creation CPU':>12}"]
        for n, m in sorted(self.memory.items()):
            rows.append(f"{n:>10,}  {m.stack:>10,.0f} B  {fmt_bytes(m.heap):>8}  "
                        f"{fmt_bytes(m.resident):>9}  {m.threads:>10}  "
                        f"{fmt_bytes(m.vmsize):>8}  {fmt_ns(m.create_cpu_ns):>12}")
        return "\n".join(rows)


def go_costs(raw: Mapping, source: str, machine: str, date: str,
             build: GoBuild | None = None, reason: str | None = None) -> GoCosts:
    """Per-goroutine figures from the probe's raw output (live or recorded alike). Where
    the probe found no /proc (``"proc": 0``), resident memory, OS threads and VmSize come
    from the recorded run, and ``partial`` says so."""
    memory = {}
    version = ""
    partial = None
    for n_text, runs in raw["mem"].items():
        n = int(n_text)
        first = runs[0]
        version = first.get("go", version)
        os_side = first
        if first.get("proc", 1) == 0:
            rec = load_recorded()
            os_side = rec["raw"]["mem"].get(n_text, [first])[0]
            partial = (f"resident memory, OS threads and VmSize recorded on {rec['machine']} on "
                       f"{rec['date']}: the probe found no /proc here")
        cpu = [r["create_cpu_ns"] / n for r in runs]
        memory[n] = GoroutineMemory(
            n, first["stack_inuse"] / n, first["heap_inuse"] / n,
            os_side["vmrss_kib"] * KIB / n, os_side["threads"], os_side["vmsize_kib"] * KIB,
            statistics.median(cpu), (min(cpu), max(cpu)))
    sw = raw["switch"]
    rungs = {name: Rung.from_reps(name, GO_LABELS[name], sw[name]) for name in GO_LABELS}
    return GoCosts(source, machine, date, version or sw.get("go", ""), memory, rungs, build,
                   reason, partial)


def load_recorded(path: Path | str | None = None) -> dict:
    with open(path or RECORDED_PATH, encoding="utf-8") as f:
        return json.load(f)


def recorded_costs(reason: str | None = None, path: Path | str | None = None) -> GoCosts:
    rec = load_recorded(path)
    return go_costs(rec["raw"], "recorded", rec["machine"], rec["date"], reason=reason)


def goroutines(build_timeout: float = 120.0, counts: Sequence[int] = GOROUTINE_COUNTS,
               reps: int = 3, use_recorded: bool = False) -> GoCosts:
    """Goroutine costs from the real Go toolchain, or the recorded ones (labelled as such)
    when Go is missing, the build outlasts ``build_timeout`` or a run fails."""
    if use_recorded:
        return recorded_costs("asked for the recorded numbers")
    b = build_go_probe(build_timeout)
    if not b.ok:
        return recorded_costs(b.reason)
    try:
        raw = go_measure(b.binary, counts, reps)
    except MeasurementError as e:
        return recorded_costs(f"the Go probe failed: {e}")
    return go_costs(raw, "live", machine(), time.strftime("%Y-%m-%d"), build=b)


def machine() -> str:
    """A one-line description of this machine, as recorded numbers carry it."""
    libc = " ".join(platform.libc_ver()) or "unknown libc"
    return (f"{os.cpu_count()}-CPU {platform.machine()} Linux {platform.release()}, {libc}, "
            f"Python {platform.python_version()}")
