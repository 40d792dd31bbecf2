"""What an OS thread really costs, next to a goroutine: the measurements of lesson 01.

    from gostack import oscost
    oscost.read_limits()                    # the machine's ceilings, read before anything big
    oscost.stack_reservation()              # RLIMIT_STACK, glibc's default, a live thread's stack
    oscost.thread_memory(1_000)             # reserved vs resident vs kernel memory per thread
    oscost.switch_ladder()                  # pinned pipe, Lock, Event, generator ping-pongs
    oscost.goroutines()                     # the same for goroutines, with the real Go toolchain

Every measurement runs in a fresh child process with a timeout and hands back one JSON
object (:func:`run_json`): a thread limit, a hang or a crash ends the child, never the
caller (a Jupyter kernel already has a dozen threads and would keep whatever it made).
Sizes are bytes, times nanoseconds. Timings are medians of repeats: on a shared VM wall
time swings 20x and CPU time 1.5-2.7x between runs, so compare them as ratios and orders
of magnitude; memory and kernel context-switch counts are stable to the last digit.

Python children run ``python -m gostack.oscost child KIND PARAMS``. The Go probe is
``probes/oscost/gocost.go``, built once through :mod:`gostack.realgo` (cached; a cold
Go build cache first compiles the standard library, 5-30 s) and run with ``GOGC=off
GODEBUG=adaptivestackstart=0``.

:func:`thread_cost` runs the whole lesson once. A part that cannot run on this machine
(no /proc or glibc, as on macOS; a limit; a timeout) falls back to the numbers recorded
in ``data/thread_cost_recorded.json`` (Go's: ``data/oscost_recorded.json``), labelled
with their machine, date and the reason, so the lesson still runs top to bottom.

    python -m gostack.oscost build            # build the Go probe now (warms the cache)
    python -m gostack.oscost record           # re-record the Go numbers on this machine
    python -m gostack.oscost record-threads   # re-record every Python-side measurement
"""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

#: Thread counts the lesson tries, smallest first; the machine's limits may drop some.
THREAD_COUNTS = (100, 1_000, 10_000)
#: Goroutine counts: 10k to compare with threads, 100k to show it still scales.
GOROUTINE_COUNTS = (10_000, 100_000)

#: glibc's default thread stack when RLIMIT_STACK is unlimited (ARCH_STACK_DEFAULT_SIZE,
#: sysdeps/x86_64/nptl/pthreaddef.h); otherwise the default is RLIMIT_STACK itself.
GLIBC_UNLIMITED_STACK = 2 * MIB
PTHREAD_STACK_MIN = 16 * KIB  # x86_64

HERE = Path(__file__).resolve().parent
RECORDED_PATH = HERE / "data" / "oscost_recorded.json"
GO_PROBE = HERE / "probes" / "oscost" / "gocost.go"
#: The /proc tree every reader uses, parent and children alike. GOSTACK_PROC points it
#: elsewhere: an empty folder shows what a machine without /proc (macOS) gets.
PROC = Path(os.environ.get("GOSTACK_PROC") or "/proc")
#: Environment of every Go probe run: no collection, every new goroutine at 2 KiB.
GO_RUN_ENV = {"GOGC": "off", "GODEBUG": "adaptivestackstart=0"}


class MeasurementError(RuntimeError):
    """A child process failed, hit a limit or timed out; the message says which."""


# ---------------------------------------------------------------------------
# Reading /proc (pure functions of the text, so they are tested on fixed samples)
# ---------------------------------------------------------------------------


def parse_kib_fields(text: str) -> dict[str, int]:
    """``Key: value [kB]`` lines of /proc/self/status or /proc/meminfo: kB fields in
    bytes, plain integer fields (``Threads:``) as they are; other lines are skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if not sep or not parts or not parts[0].isdigit():
            continue
        if len(parts) == 1:
            out[key.strip()] = int(parts[0])
        elif len(parts) == 2 and parts[1] == "kB":
            out[key.strip()] = int(parts[0]) * KIB
    return out


@dataclass(frozen=True)
class MapEntry:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    path: str

    @property
    def size(self) -> int:
        return self.end - self.start


def parse_maps(text: str) -> list[MapEntry]:
    """The mappings of a /proc/PID/maps text."""
    out = []
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 5:
            continue
        lo, _, hi = fields[0].partition("-")
        out.append(MapEntry(int(lo, 16), int(hi, 16), fields[1],
                            fields[5].strip() if len(fields) > 5 else ""))
    return out


def count_thread_stacks(maps: Iterable[MapEntry], stack_size: int, guard: int) -> int:
    """Mappings that are a glibc thread stack: anonymous ``rw-p`` of exactly
    ``stack_size`` bytes, right above an inaccessible guard of ``guard`` bytes."""
    ms = sorted(maps, key=lambda m: m.start)
    n = 0
    for below, m in zip(ms, ms[1:], strict=False):
        if (m.perms == "rw-p" and not m.path and m.size == stack_size
                and below.end == m.start and below.perms == "---p" and below.size == guard):
            n += 1
    return n


def glibc_default_stack(rlimit_stack: int | None, page: int = 4096) -> int:
    """The stack size glibc gives a new thread, from RLIMIT_STACK (``None``: unlimited).

    The rule of glibc's ``__pthread_initialize_minimal``: unlimited means the architecture
    default (2 MiB on x86_64), otherwise the soft limit itself, at least PTHREAD_STACK_MIN,
    rounded up to a page.
    """
    size = GLIBC_UNLIMITED_STACK if rlimit_stack is None else max(rlimit_stack,
                                                                 PTHREAD_STACK_MIN)
    return -(-size // page) * page


def fmt_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'; two or three significant digits, binary units."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(n) >= scale:
            v = n / scale
            return f"{v:,.0f} {unit}" if abs(v) >= 100 else f"{v:.3g} {unit}"
    return f"{n:,.0f} B"


def fmt_ns(ns: float) -> str:
    """A duration in ns, rounded to two significant digits: '4.1 µs', '320 ns', '1.2 s'."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f"{_sig2(ns / scale)} {unit}"
    return f"{_sig2(ns)} ns"


def _sig2(v: float) -> str:
    if abs(v) >= 100:
        return f"{round(v, -1 if abs(v) < 1000 else -2):,.0f}"
    return f"{float(f'{v:.2g}'):g}"


# ---------------------------------------------------------------------------
# Limits: check them before starting thousands of threads
# ---------------------------------------------------------------------------


def _rlim(v: int) -> int | None:
    return None if v == resource.RLIM_INFINITY else v


@dataclass(frozen=True)
class Limits:
    """The ceilings that bind before RAM does, and how much of them is in use."""

    stack_soft: int | None  # RLIMIT_STACK in bytes (``ulimit -s``); None: unlimited
    stack_hard: int | None
    as_soft: int | None  # RLIMIT_AS (``ulimit -v``)
    nproc_soft: int | None  # RLIMIT_NPROC (``ulimit -u``), not enforced for root
    root: bool
    threads_max: int  # kernel.threads-max
    pid_max: int  # kernel.pid_max: every thread takes a PID, machine-wide
    max_map_count: int  # vm.max_map_count: a Python thread takes 2-3 mappings
    overcommit: int  # vm.overcommit_memory (2: strict, stacks count in full)
    tasks: int  # threads alive on the machine now (4th field of /proc/loadavg)
    found: bool = True  # false: no /proc here, the kernel's figures above are defaults

    @property
    def thread_headroom(self) -> int:
        """How many more threads this machine could start now, by its tightest
        machine-wide limit (threads-max, pid_max, and ulimit -u unless root)."""
        caps = [self.threads_max, self.pid_max]
        if self.nproc_soft is not None and not self.root:
            caps.append(self.nproc_soft)
        return max(0, min(caps) - self.tasks)

    @property
    def threads_per_process(self) -> int:
        """vm.max_map_count bounds one process: a Python thread takes up to 3 mappings."""
        return self.max_map_count // 3

    def allows(self, n: int) -> str | None:
        """None if ``n`` threads are safe to start, else the reason they are not.

        Safe means leaving at least as many free PIDs as we take: other users of the
        machine must still be able to fork.
        """
        if 2 * n > self.thread_headroom:
            return (f"{n:,} threads need a headroom of {2 * n:,}; this machine has "
                    f"{self.thread_headroom:,}")
        if n > self.threads_per_process:
            return (f"vm.max_map_count ({self.max_map_count:,}) allows about "
                    f"{self.threads_per_process:,} threads in one process")
        if self.overcommit == 2:
            return "strict overcommit (vm.overcommit_memory=2) charges every stack in full"
        if self.as_soft is not None:
            return "an address-space limit (ulimit -v) is set"
        return None


def read_limits(proc: str | Path | None = None) -> Limits:
    """Read the limits; ``proc`` is only changed by tests (a fake /proc tree). Without
    /proc (``found`` false) the kernel's figures are Linux's defaults, not this machine's."""
    p = Path(proc) if proc is not None else PROC

    def num(rel: str, default: int) -> int:
        try:
            return int((p / rel).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return default

    try:
        tasks = int((p / "loadavg").read_text().split()[3].split("/")[1])
    except (OSError, ValueError, IndexError):
        tasks = 0
    s_soft, s_hard = resource.getrlimit(resource.RLIMIT_STACK)
    return Limits(
        stack_soft=_rlim(s_soft),
        stack_hard=_rlim(s_hard),
        as_soft=_rlim(resource.getrlimit(resource.RLIMIT_AS)[0]),
        nproc_soft=_rlim(resource.getrlimit(resource.RLIMIT_NPROC)[0]),
        root=os.geteuid() == 0,
        threads_max=num("sys/kernel/threads-max", 0),
        pid_max=num("sys/kernel/pid_max", 32768),
        max_map_count=num("sys/vm/max_map_count", 65530),
        overcommit=num("sys/vm/overcommit_memory", 0),
        tasks=tasks,
        found=(p / "sys/kernel/pid_max").is_file(),
    )


@dataclass(frozen=True)
class Plan:
    """The thread counts to measure, and those dropped with the reason."""

    counts: tuple[int, ...]
    dropped: tuple[tuple[int, str], ...] = ()


def plan_threads(wanted: Sequence[int] = THREAD_COUNTS, limits: Limits | None = None) -> Plan:
    """Keep each count the limits allow; if none fits, fall back to what does (at least 10)."""
    lim = limits or read_limits()
    keep, dropped = [], []
    for n in wanted:
        why = lim.allows(n)
        if why is None:
            keep.append(n)
        else:
            dropped.append((n, why))
    if not keep:
        n = max(10, min(wanted, default=100) // 10)
        if lim.allows(n) is None:
            keep.append(n)
    return Plan(tuple(keep), tuple(dropped))


# ---------------------------------------------------------------------------
# Child processes: one JSON object back, whatever happens
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What a child process handed back."""

    ok: bool
    data: dict = field(default_factory=dict)
    error: str | None = None
    timed_out: bool = False
    returncode: int | None = None
    seconds: float = 0.0

    def get(self) -> dict:
        """The data, or MeasurementError with the reason."""
        if not self.ok:
            raise MeasurementError(self.error or "the child failed")
        return self.data


def _kill_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the child's process group (if ``grace``), then SIGKILL it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if sig == signal.SIGTERM and grace <= 0:
            continue
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            v = json.loads(line)
        except ValueError:
            return None
        return v if isinstance(v, dict) else None
    return None


def run_json(argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None,
             grace: float = 0.0, cwd: str | Path | None = None) -> Result:
    """Run ``argv`` in its own session and read the JSON object on its last stdout line.

    Never raises for what the child does: a timeout kills the whole process group
    (SIGTERM and ``grace`` seconds first, if given) and returns ``timed_out=True``; a
    crash returns the signal; an object with an ``"error"`` key is a failure the child
    reported itself.
    """
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                                env=dict(env) if env is not None else None, cwd=cwd)
    except OSError as e:
        return Result(False, error=f"cannot start {argv[0]}: {e}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, grace)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        return Result(False, error=f"timed out after {timeout:g} s; the child was killed",
                      timed_out=True, returncode=proc.returncode,
                      seconds=time.monotonic() - t0)
    except BaseException:  # KeyboardInterrupt in a notebook: leave nothing behind
        _kill_group(proc, 0)
        raise
    seconds = time.monotonic() - t0
    data = _last_json(out)
    rc = proc.returncode
    if data is not None and "error" not in data and rc == 0:
        return Result(True, data, returncode=rc, seconds=seconds)
    if data is not None and "error" in data:
        why = str(data["error"])
    elif rc is not None and rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        why = f"the child was killed by {name}"
    elif rc != 0:
        tail = (err or "").strip().splitlines()[-3:]
        why = f"the child exited with status {rc}" + (": " + " | ".join(tail) if tail else "")
    else:
        why = "the child printed no JSON object"
    return Result(False, data or {}, why, returncode=rc, seconds=seconds)


def _python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE.parent)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra or {})
    return env


def run_python(kind: str, timeout: float = 30.0, env: Mapping[str, str] | None = None,
               **params) -> Result:
    """Run one child-side measurement (``CHILDREN[kind]``) in a fresh Python process."""
    argv = [sys.executable, "-m", "gostack.oscost", "child", kind, json.dumps(params)]
    return run_json(argv, timeout, env=_python_env(env))


# ---------------------------------------------------------------------------
# Child side: these run in the child process only
# ---------------------------------------------------------------------------


def _emit(obj: dict) -> None:
    """Print the result and leave at once: parked threads are not joined (pitfall P1)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    os._exit(0)


def _read(rel: str) -> str:
    """A file under :data:`PROC` ("self/status"): FileNotFoundError where there is none."""
    with open(PROC / rel) as f:
        return f.read()


def _status() -> dict[str, int]:
    return parse_kib_fields(_read("self/status"))


def _meminfo() -> dict[str, int]:
    return parse_kib_fields(_read("meminfo"))


def _usage() -> dict[str, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"utime_ns": int(ru.ru_utime * 1e9), "stime_ns": int(ru.ru_stime * 1e9),
            "csw": ru.ru_nvcsw + ru.ru_nivcsw, "minflt": ru.ru_minflt,
            "cpu_ns": time.process_time_ns(), "wall_ns": time.perf_counter_ns()}


def _delta(a: Mapping[str, int], b: Mapping[str, int], keys: Iterable[str]) -> dict[str, int]:
    return {k: b.get(k, 0) - a.get(k, 0) for k in keys}


def _libc():
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _attr_sizes(fill: Callable) -> tuple[int, int]:
    """(stack size, guard size) of a pthread_attr_t filled by ``fill(libc, attr)``."""
    import ctypes

    libc = _libc()
    attr = ctypes.create_string_buffer(128)  # pthread_attr_t: 56 B on x86_64, 64 on arm64
    rc = fill(libc, attr)
    if rc != 0:
        raise OSError(rc, os.strerror(rc))
    size, guard = ctypes.c_size_t(), ctypes.c_size_t()
    libc.pthread_attr_getstacksize(attr, ctypes.byref(size))
    libc.pthread_attr_getguardsize(attr, ctypes.byref(guard))
    libc.pthread_attr_destroy(attr)
    return size.value, guard.value


def _glibc_default_attr() -> tuple[int, int]:
    return _attr_sizes(lambda libc, attr: libc.pthread_getattr_default_np(attr))


def _child_stack(_: dict) -> dict:
    import ctypes
    import threading

    soft = _rlim(resource.getrlimit(resource.RLIMIT_STACK)[0])
    default, guard = _glibc_default_attr()
    live: list[int] = []

    def probe() -> None:
        libc = _libc()
        libc.pthread_self.restype = ctypes.c_ulong
        me = libc.pthread_self()
        live.append(_attr_sizes(lambda lc, attr: lc.pthread_getattr_np(ctypes.c_ulong(me),
                                                                       attr))[0])

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return {"rlimit_stack": soft, "glibc_default": default, "guard": guard,
            "threading_stack_size": threading.stack_size(), "live_thread_stack": live[0],
            "page": os.sysconf("SC_PAGE_SIZE"), "machine": platform.machine()}


_MEM_KEYS = ("VmSize", "VmRSS", "VmPTE", "Threads")
_KERNEL_KEYS = ("KernelStack", "SUnreclaim", "Committed_AS")


def _thread_snapshot() -> tuple[dict, dict, list[MapEntry]]:
    return _status(), _meminfo(), parse_maps(_read("self/maps"))


def _memory_report(n: int, before, after, u0, u1, stack: int, guard: int) -> dict:
    (s0, m0, maps0), (s1, m1, maps1) = before, after
    stacks = count_thread_stacks(maps1, stack, guard) - count_thread_stacks(maps0, stack, guard)
    return {"n": n, "stack": stack, "guard": guard, "stack_mappings": stacks,
            **_delta(s0, s1, _MEM_KEYS), **_delta(m0, m1, _KERNEL_KEYS),
            **_delta(u0, u1, ("utime_ns", "stime_ns", "cpu_ns", "wall_ns", "csw", "minflt")),
            "maps": len(maps1) - len(maps0)}


def _child_threads(p: dict) -> dict:
    """Start n Python threads, each parked on its own lock; what did they take?"""
    import threading

    n, size = int(p["n"]), int(p.get("stack_size") or 0)
    if size:
        threading.stack_size(size)
    stack, guard = (size, 4096) if size else _glibc_default_attr()
    locks = []
    before, u0 = _thread_snapshot(), _usage()
    for _ in range(n):
        lk = threading.Lock()
        lk.acquire()
        threading.Thread(target=lk.acquire, daemon=True).start()  # daemon: pitfall P2
        locks.append(lk)
    u1 = _usage()
    return _memory_report(n, before, _thread_snapshot(), u0, u1, stack, guard)


def _child_pthreads(p: dict) -> dict:
    """The same with raw pthreads: glibc's own sem_wait is the start routine, so no
    Python runs in them. What the OS charges, without CPython's share."""
    import ctypes

    n = int(p["n"])
    libc = _libc()
    libc.pthread_create.argtypes = [ctypes.c_void_p] * 4
    libc.sem_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint]
    sem = ctypes.create_string_buffer(64)  # sem_t is 32 B on 64-bit glibc
    if libc.sem_init(sem, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "sem_init")
    tids = (ctypes.c_ulong * n)()
    start = ctypes.cast(libc.sem_wait, ctypes.c_void_p).value
    base, arg = ctypes.addressof(tids), ctypes.addressof(sem)
    stack, guard = _glibc_default_attr()
    before, u0 = _thread_snapshot(), _usage()
    for i in range(n):
        rc = libc.pthread_create(base + 8 * i, None, start, arg)
        if rc:
            raise OSError(rc, f"pthread_create failed after {i} threads: {os.strerror(rc)}")
    u1 = _usage()
    return _memory_report(n, before, _thread_snapshot(), u0, u1, stack, guard)


# How long a new thread may take to run its first line before it counts as never started.
THREAD_START_WAIT = 2.0


def _park(ready, park) -> None:
    ready.release()
    park.acquire()


def _child_as_limit(p: dict) -> dict:
    """Under an address-space limit, start threads until the next one does not fit.

    Near the limit a thread can fail in two places: pthread_create cannot map its stack
    (CPython raises "can't start new thread"), or the stack fits and the new thread's own
    first allocation fails inside it, so it dies before running a line. ``Thread.start()``
    would wait for that thread forever; each start here waits THREAD_START_WAIT at most."""
    import _thread

    limit, size, cap = int(p["limit"]), int(p.get("stack_size") or 0), int(p["cap"])
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    if size:
        _thread.stack_size(size)
    rss0 = _status().get("VmRSS", 0)
    locks, why = [], "reached the cap"
    try:
        while len(locks) < cap:
            ready, park = _thread.allocate_lock(), _thread.allocate_lock()
            ready.acquire()
            park.acquire()
            _thread.start_new_thread(_park, (ready, park))
            if not ready.acquire(timeout=THREAD_START_WAIT):
                why = ("a thread was created but never ran: its first allocation failed "
                       "inside it")
                break
            locks.append(park)
    except (RuntimeError, MemoryError) as e:
        why = f"{type(e).__name__}: {e}"
    st = _status()
    return {"limit": soft, "stack_size": size, "threads": len(locks), "stopped": why,
            "VmRSS": st.get("VmRSS", 0) - rss0, "VmSize": st.get("VmSize", 0)}


def _pingpong(body: Callable[[int], None], peer: Callable[[int], None] | None,
              rounds: int, warm: int) -> dict:
    """Time ``rounds`` round trips of ``body``; ``peer`` runs the other side in a thread."""
    import threading

    t = None
    if peer is not None:
        t = threading.Thread(target=peer, args=(warm + rounds,), daemon=True)
        t.start()
    body(warm)
    u0 = _usage()
    body(rounds)
    u1 = _usage()
    if t is not None:
        t.join()
    return {"rounds": rounds, **_delta(u0, u1, ("wall_ns", "cpu_ns", "utime_ns", "stime_ns",
                                                 "csw"))}


def _rung_pipe(rounds: int, warm: int) -> dict:
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()

    def peer(k: int) -> None:
        for _ in range(k):
            os.read(r1, 1)
            os.write(w2, b"x")

    def body(k: int) -> None:
        for _ in range(k):
            os.write(w1, b"x")
            os.read(r2, 1)

    try:
        return _pingpong(body, peer, rounds, warm)
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)


def _rung_lock(rounds: int, warm: int) -> dict:
    import threading

    la, lb = threading.Lock(), threading.Lock()
    la.acquire()
    lb.acquire()

    def peer(k: int) -> None:
        for _ in range(k):
            la.acquire()
            lb.release()

    def body(k: int) -> None:
        for _ in range(k):
            la.release()
            lb.acquire()

    return _pingpong(body, peer, rounds, warm)


def _rung_event(rounds: int, warm: int) -> dict:
    import threading

    ea, eb = threading.Event(), threading.Event()

    def peer(k: int) -> None:
        for _ in range(k):
            ea.wait()
            ea.clear()
            eb.set()

    def body(k: int) -> None:
        for _ in range(k):
            ea.set()
            eb.wait()
            eb.clear()

    return _pingpong(body, peer, rounds, warm)


def _rung_generator(rounds: int, warm: int) -> dict:
    def echo():
        v = None
        while True:
            v = yield v

    g = echo()
    next(g)

    def body(k: int) -> None:
        for i in range(k):
            g.send(i)

    return _pingpong(body, None, rounds, warm)


#: The Python rungs of the switch ladder: name -> (function, round trips per repeat).
PY_RUNGS: dict[str, tuple[Callable[[int, int], dict], int]] = {
    "pipe": (_rung_pipe, 10_000),
    "lock": (_rung_lock, 5_000),
    "event": (_rung_event, 3_000),
    "generator": (_rung_generator, 100_000),
}


def _child_switch(p: dict) -> dict:
    """Every rung, ``reps`` times interleaved, with both threads pinned to one CPU."""
    reps, scale = int(p.get("reps", 3)), float(p.get("scale", 1.0))
    cpu = None
    if p.get("pin", True) and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # before any thread exists: they inherit it
    out: dict[str, list] = {name: [] for name in p.get("rungs", PY_RUNGS)}
    for _ in range(reps):
        for name in out:
            fn, rounds = PY_RUNGS[name]
            k = max(10, int(rounds * scale))
            out[name].append(fn(k, max(10, k // 20)))
    return {"pinned_cpu": cpu, "reps": reps, "rungs": out}


def _child_lazy(p: dict) -> dict:
    """The road not taken: give every would-be goroutine its own lazily committed stack.

    Map ``n`` regions of ``reserve`` bytes (MAP_NORESERVE: address space only), make the
    lowest page of each a guard (PROT_NONE, as glibc does for a thread), and write the top
    ``touch`` bytes, where a downward-growing stack keeps its first frames. Stops at the
    first mmap or mprotect that fails; a guard splits a mapping in two, so
    vm.max_map_count allows about half of it in stacks."""
    import ctypes

    n, reserve, touch = int(p["n"]), int(p["reserve"]), int(p.get("touch") or 1)
    libc = _libc()
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = os.sysconf("SC_PAGE_SIZE")
    failed = ctypes.c_void_p(-1).value
    flags = 0x02 | 0x20 | 0x4000  # MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE (Linux)
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    addrs = (ctypes.c_size_t * n)()  # allocated up front: near the limit malloc fails too
    s0, maps0, u0 = _status(), len(_read("self/maps").splitlines()), _usage()
    made, why = 0, f"made all {n:,}"
    try:
        for i in range(n):
            a = libc.mmap(None, reserve, 3, flags, -1, 0)  # PROT_READ | PROT_WRITE
            if a in (None, failed):
                why = f"mmap failed: {os.strerror(ctypes.get_errno())}"
                break
            if libc.mprotect(a, page, 0) != 0:
                why = f"mprotect of the guard page failed: {os.strerror(ctypes.get_errno())}"
                libc.munmap(a, reserve)
                break
            ctypes.memset(a + reserve - touch, 1, touch)
            addrs[i] = a
            made += 1
    except MemoryError:
        why = "Python itself ran out of mappings"
    u1 = _usage()
    # At vm.max_map_count Python cannot map anything either: give back a few stacks
    # (kept = what the per-stack figures are over) before reading /proc.
    kept = made if made == n else max(0, made - 256)
    for i in range(kept, made):
        libc.munmap(addrs[i], reserve)
    s1 = _status()
    return {"n": made, "kept": kept, "asked": n, "reserve": reserve, "touch": touch,
            "page": page, "stopped": why, "maps": len(_read("self/maps").splitlines()) - maps0,
            "max_map_count": int(_read("sys/vm/max_map_count").split()[0]),
            **_delta(s0, s1, ("VmSize", "VmRSS", "VmPTE")),
            **_delta(u0, u1, ("cpu_ns", "minflt"))}


CHILDREN: dict[str, Callable[[dict], dict]] = {
    "stack": _child_stack,
    "threads": _child_threads,
    "pthreads": _child_pthreads,
    "as_limit": _child_as_limit,
    "switch": _child_switch,
    "lazy": _child_lazy,
}


def _child_main(kind: str, params: str) -> int:
    try:
        _emit(CHILDREN[kind](json.loads(params)))
    except Exception as e:  # reported to the parent as data, not as a traceback
        _emit({"error": f"{type(e).__name__}: {e}"})
    return 0


# ---------------------------------------------------------------------------
# Parent side: threads
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StackReservation:
    """How big a new thread's stack is, and where that number comes from."""

    rlimit_stack: int | None  # None: unlimited
    glibc_default: int
    guard: int
    threading_stack_size: int  # 0: "the platform default", i.e. glibc's
    live_thread_stack: int
    page: int
    machine: str

    @property
    def follows_rule(self) -> bool:
        """glibc's default is what :func:`glibc_default_stack` predicts from the limit."""
        return self.glibc_default == glibc_default_stack(self.rlimit_stack, self.page)


def stack_reservation(timeout: float = 20.0) -> StackReservation:
    """Read RLIMIT_STACK, glibc's default thread stack and guard, and a live thread's stack."""
    return StackReservation(**run_python("stack", timeout).get())


@dataclass(frozen=True)
class ThreadMemory:
    """What ``n`` parked threads added to one process, per thread, in bytes (CPU in ns)."""

    kind: str  # "python" (threading.Thread) or "pthread" (raw, no Python inside)
    n: int
    stack: int  # the stack size each thread got
    reserved: float  # VmSize: address space, mostly the stack reservation
    stack_reserved: float  # of which thread stack mappings (stack + guard)
    resident: float  # VmRSS: pages really in RAM, user space
    page_tables: float  # VmPTE: the kernel's page tables for this process
    kernel_stack: float  # KernelStack (system-wide delta): one kernel stack per thread
    slab: float  # SUnreclaim (system-wide delta): task_struct and friends
    committed: float  # Committed_AS (system-wide delta): what strict overcommit would charge
    maps: float  # new mappings per thread (vm.max_map_count counts these)
    create_cpu_ns: float  # CPU time (all threads, user + kernel) per start()
    create_wall_ns: float  # wall time per start(): mostly waiting for the scheduler
    seconds: float  # the whole child, start to exit

    @property
    def kernel(self) -> float:
        """Kernel memory per thread that VmRSS does not show."""
        return self.kernel_stack + self.page_tables + self.slab

    @property
    def real(self) -> float:
        """Resident memory per thread, user space plus kernel."""
        return self.resident + self.kernel

    @property
    def noisy(self) -> bool:
        """Kernel figures are machine-wide deltas: below 1,000 threads, noise dominates."""
        return self.n < 1000

    @classmethod
    def from_child(cls, kind: str, d: Mapping, seconds: float) -> ThreadMemory:
        n = d["n"]
        return cls(kind, n, d["stack"], d["VmSize"] / n,
                   d["stack_mappings"] * (d["stack"] + d["guard"]) / n,
                   d["VmRSS"] / n, d["VmPTE"] / n, d["KernelStack"] / n, d["SUnreclaim"] / n,
                   d["Committed_AS"] / n, d["maps"] / n, d["cpu_ns"] / n, d["wall_ns"] / n,
                   seconds)


def _threads_timeout(n: int) -> float:
    return 20.0 + n * 0.004  # 10k: 60 s, the sheet's worst case under load was 9 s


def thread_memory(n: int, *, kind: str = "python", stack_size: int = 0,
                  timeout: float | None = None) -> ThreadMemory:
    """Start ``n`` threads in a child process, park them, and read what they took.

    ``kind="pthread"`` starts raw pthreads through ctypes instead (no Python in them).
    Raises MeasurementError if the child failed or timed out.
    """
    child = {"python": "threads", "pthread": "pthreads"}[kind]
    r = run_python(child, timeout or _threads_timeout(n), n=n, stack_size=stack_size)
    return ThreadMemory.from_child(kind, r.get(), r.seconds)


@dataclass(frozen=True)
class Series:
    """Thread memory for several counts; ``failed`` holds the counts that did not run."""

    results: dict[int, ThreadMemory]
    failed: dict[int, str]

    @property
    def largest(self) -> ThreadMemory:
        return self.results[max(self.results)]


def predicted_seconds(done: ThreadMemory, n: int) -> float:
    """How long a child of ``n`` threads should take, from a smaller run: creation gets
    slower per thread as the process holds more of them (kernel time per thread grew
    ~3x from 1,000 to 10,000 on the reference VM), so scale by (n/done.n)**1.5."""
    return done.seconds * (n / done.n) ** 1.5


def thread_memory_series(counts: Iterable[int], budget: float | None = None,
                         **kw) -> Series:
    """:func:`thread_memory` for each count, smallest first. A failure is recorded, not
    raised; a count whose :func:`predicted_seconds` exceeds ``budget`` is skipped."""
    results: dict[int, ThreadMemory] = {}
    failed: dict[int, str] = {}
    for n in sorted(counts):
        if budget is not None and results:
            done = results[max(results)]
            guess = predicted_seconds(done, n)
            if guess > budget:
                failed[n] = (f"skipped: {done.n:,} threads took {done.seconds:.1f} s, so "
                             f"{n:,} would take about {guess:.0f} s (budget {budget:g} s)")
                continue
        try:
            results[n] = thread_memory(n, **kw)
        except MeasurementError as e:
            failed[n] = str(e)
    return Series(results, failed)


def memory_table(series: Series) -> str:
    """Per-thread memory as a text table: reserved, resident, kernel."""
    rows = [f"{'threads':>8}  {'reserved':>10}  {'of which stack':>14}  {'resident':>9}  "
            f"{'kernel':>9}  {'resident+kernel':>15}"]
    for n, m in sorted(series.results.items()):
        kern = "(noisy)" if m.noisy else fmt_bytes(m.kernel)
        real = "–" if m.noisy else fmt_bytes(m.real)
        rows.append(f"{n:>8,}  {fmt_bytes(m.reserved):>10}  {fmt_bytes(m.stack_reserved):>14}"
                    f"  {fmt_bytes(m.resident):>9}  {kern:>9}  {real:>15}")
    for n, why in sorted(series.failed.items()):
        rows.append(f"{n:>8,}  not measured: {why}")
    return "\n".join(rows)


@dataclass(frozen=True)
class Verdict:
    """The claim '10,000 threads take 10-20 GB', checked against a measurement."""

    n: int  # threads the totals are for (10,000)
    measured_n: int  # threads actually measured (the totals are scaled if it is smaller)
    virtual: float  # bytes of address space
    resident: float  # bytes of RAM, user space
    kernel: float  # bytes of kernel memory
    claim_low: float = 10e9
    claim_high: float = 20e9

    @property
    def real(self) -> float:
        return self.resident + self.kernel

    @property
    def extrapolated(self) -> bool:
        return self.measured_n != self.n

    def text(self) -> str:
        how = (f"measured with {self.n:,} threads" if not self.extrapolated else
               f"extrapolated x{self.n / self.measured_n:g} from {self.measured_n:,} threads")
        return "\n".join([
            f"claim:    {self.n:,} threads take 10-20 GB ({how})",
            f"virtual:  {self.virtual / 1e9:7.1f} GB   address space reserved "
            f"({self.virtual / self.claim_high:.1f}x the claim's top)",
            f"real:     {self.real / 1e9:7.2f} GB   = resident {self.resident / 1e9:.2f} GB "
            f"+ kernel {self.kernel / 1e9:.2f} GB ({self.claim_low / self.real:.0f}x below "
            "the claim's bottom)",
        ])


def verdict(series: Series, n: int = 10_000) -> Verdict:
    """Totals for ``n`` threads from the largest measured count (scaled if smaller)."""
    m = series.largest
    return Verdict(n, m.n, m.reserved * n, m.resident * n, m.kernel * n)


@dataclass(frozen=True)
class AddressSpaceDemo:
    """Threads that fit under an address-space limit, with default and small stacks."""

    limit: int
    default_stack: int
    small_stack: int
    default_threads: int
    small_threads: int
    default_rss: int  # VmRSS added by all the threads, bytes
    small_rss: int
    stopped: str  # why the default-stack child stopped starting threads
    source: str = "live"  # or "recorded"
    machine: str = ""  # where recorded numbers come from, and when
    date: str = ""
    reason: str | None = None  # why the numbers are recorded

    @property
    def ratio(self) -> float:
        return self.small_threads / max(1, self.default_threads)

    @property
    def note(self) -> str:
        """One line for a lesson: empty when live, else where the numbers come from."""
        if self.source == "live":
            return ""
        return (f"(recorded on {self.machine} on {self.date}, since {self.reason}: the live "
                "run did not finish here)")


def recorded_address_space(reason: str, path: Path | str | None = None) -> AddressSpaceDemo:
    return replace(load_recorded_threads(path)["address_space"], reason=reason)


def address_space_limit(limit: int = GIB, small_stack: int = 256 * KIB,
                        limits: Limits | None = None, timeout: float = 60.0,
                        fallback: bool = True) -> AddressSpaceDemo:
    """Under ``ulimit -v`` = ``limit``, count the threads that start with glibc's default
    stack and with ``threading.stack_size(small_stack)``. ``MALLOC_ARENA_MAX=1`` keeps
    malloc's per-thread arenas (64 MiB of address space each) out of the count.

    Each thread start is bounded (see ``_child_as_limit``) and each child has ``timeout``
    seconds; if a child still fails, the numbers recorded on the reference machine come
    back, labelled (``source``, ``note``), unless ``fallback`` is false."""
    try:
        return _address_space_live(limit, small_stack, limits, timeout)
    except MeasurementError as e:
        if not fallback:
            raise
        return recorded_address_space(str(e))


def _address_space_live(limit: int, small_stack: int, limits: Limits | None,
                        timeout: float) -> AddressSpaceDemo:
    lim = limits or read_limits()
    cap = max(10, min(20_000, lim.thread_headroom // 2, lim.threads_per_process))
    env = {"MALLOC_ARENA_MAX": "1"}
    d = run_python("as_limit", timeout, env=env, limit=limit, cap=cap).get()
    s = run_python("as_limit", timeout, env=env, limit=limit, cap=cap,
                   stack_size=small_stack).get()
    default = glibc_default_stack(lim.stack_soft)
    return AddressSpaceDemo(d["limit"], default, small_stack, d["threads"], s["threads"],
                            d["VmRSS"], s["VmRSS"], d["stopped"])


@dataclass(frozen=True)
class LazyStacks:
    """Stacks as a thread gets them, one lazily committed mapping each, made for what
    could have been goroutines: how many fit one process, and what each costs."""

    n: int  # stacks that fit before the first mmap/mprotect failed (or all asked for)
    asked: int
    reserve: int  # bytes of address space per stack
    touch: int  # bytes written at the top of each
    page: int
    stopped: str
    max_map_count: int
    resident: float  # VmRSS per stack, bytes: at least one page however little is used
    page_tables: float  # VmPTE per stack, bytes
    maps: float  # mappings per stack (2: the stack and its guard page)
    cpu_ns: float  # CPU per stack: mmap + mprotect + the first page fault

    @property
    def limited(self) -> bool:
        return self.n < self.asked

    @classmethod
    def from_child(cls, d: Mapping) -> LazyStacks:
        k = max(1, d["kept"])
        return cls(d["n"], d["asked"], d["reserve"], d["touch"], d["page"], d["stopped"],
                   d["max_map_count"], d["VmRSS"] / k, d["VmPTE"] / k, d["maps"] / k,
                   d["cpu_ns"] / max(1, d["n"]))

    def text(self) -> str:
        fit = (f"{self.n:,} fit in one process, then: {self.stopped} "
               f"(vm.max_map_count {self.max_map_count:,}, {self.maps:.0f} mappings each)"
               if self.limited else f"all {self.n:,} fit")
        return "\n".join([
            f"{self.asked:,} stacks of {fmt_bytes(self.reserve)} reserved, "
            f"{fmt_bytes(self.touch)} used at the top of each: {fit}",
            f"per stack: resident {fmt_bytes(self.resident)} + page tables "
            f"{fmt_bytes(self.page_tables)}; CPU {fmt_ns(self.cpu_ns)} (mmap, mprotect, "
            "first fault)",
        ])


def lazy_stacks(n: int = 100_000, reserve: int = MIB, touch: int = 2 * KIB,
                timeout: float = 60.0) -> LazyStacks:
    """:func:`_child_lazy` in a child: ``n`` lazily committed stacks of ``reserve`` bytes,
    ``touch`` bytes used in each (2 KiB: what a goroutine starts with)."""
    r = run_python("lazy", timeout, n=n, reserve=reserve, touch=touch)
    return LazyStacks.from_child(r.get())


@dataclass(frozen=True)
class Creation:
    """Time to start one thread, medians of ``reps`` fresh children of ``n`` threads each."""

    kind: str
    n: int
    cpu_ns: float
    wall_ns: float
    cpu_range: tuple[float, float]
    wall_range: tuple[float, float]
    resident: float  # VmRSS per thread (bytes), median


def _creation(kind: str, samples: Sequence[ThreadMemory]) -> Creation:
    cpu = [m.create_cpu_ns for m in samples]
    wall = [m.create_wall_ns for m in samples]
    return Creation(kind, samples[0].n, statistics.median(cpu), statistics.median(wall),
                    (min(cpu), max(cpu)), (min(wall), max(wall)),
                    statistics.median(m.resident for m in samples))


def thread_creation(n: int = 1_000, reps: int = 3,
                    kinds: Sequence[str] = ("python", "pthread")) -> dict[str, Creation]:
    """Start ``n`` threads in ``reps`` fresh children per kind (interleaved); CPU and wall
    time per thread, as medians."""
    samples: dict[str, list[ThreadMemory]] = {k: [] for k in kinds}
    for _ in range(reps):
        for k in kinds:
            samples[k].append(thread_memory(n, kind=k))
    return {k: _creation(k, v) for k, v in samples.items()}


# ---------------------------------------------------------------------------
# Switches
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    """One ping-pong: the cost of one switch (half a round trip), medians of the repeats."""

    name: str
    label: str
    ns: float  # wall time per switch
    cpu_ns: float  # CPU time per switch (both sides)
    csw_per_round_trip: float  # kernel context switches (voluntary + involuntary)
    kernel_share: float | None  # system time / CPU time
    ns_range: tuple[float, float]

    @classmethod
    def from_reps(cls, name: str, label: str, reps: Sequence[Mapping]) -> Rung:
        per = [2 * r["rounds"] for r in reps]
        ns = [r["wall_ns"] / k for r, k in zip(reps, per, strict=True)]
        cpu = [r["cpu_ns"] / k for r, k in zip(reps, per, strict=True)]
        csw = [r["csw"] / r["rounds"] for r in reps]
        share = None
        if all("stime_ns" in r for r in reps):
            share = statistics.median(r["stime_ns"] / max(1, r["cpu_ns"]) for r in reps)
        return cls(name, label, statistics.median(ns), statistics.median(cpu),
                   statistics.median(csw), share, (min(ns), max(ns)))


PY_LABELS = {
    "pipe": "threads, pipe (kernel handoff)",
    "lock": "threads, Lock handoff",
    "event": "threads, Event handoff",
    "generator": "generator send()",
}


def switch_ladder(reps: int = 3, scale: float = 1.0, timeout: float = 60.0,
                  rungs: Sequence[str] = tuple(PY_RUNGS)) -> dict[str, Rung]:
    """The Python rungs, pinned to one CPU, in one child: ``reps`` interleaved repeats of
    each (``scale`` multiplies the round trips)."""
    d = run_python("switch", timeout, reps=reps, scale=scale, rungs=list(rungs)).get()
    return {name: Rung.from_reps(name, PY_LABELS[name], reps_)
            for name, reps_ in d["rungs"].items()}


def ladder_table(rungs: Iterable[Rung]) -> str:
    rows = [f"{'ping-pong':<34} {'per switch':>10} {'range':>17} {'CPU':>9} "
            f"{'kernel csw/round trip':>21}"]
    for r in sorted(rungs, key=lambda r: -r.ns):
        lo, hi = r.ns_range
        rows.append(f"{r.label:<34} {fmt_ns(r.ns):>10} {fmt_ns(lo) + '..' + fmt_ns(hi):>17} "
                    f"{fmt_ns(r.cpu_ns):>9} {r.csw_per_round_trip:>21.2f}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------
# Goroutines: the real Go toolchain
# ---------------------------------------------------------------------------


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
    from . import realgo

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
    r = run_json(argv, timeout, env=_python_env(), grace=3.0)
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
    return run_json([binary, *map(str, args)], timeout, env=_go_env())


GO_LABELS = {
    "chan_p1": "goroutines, channel, GOMAXPROCS=1",
    "chan_p2": "goroutines, channel, GOMAXPROCS=2",
    "locked": "goroutines + LockOSThread",
}


def go_measure(binary: str, counts: Sequence[int] = GOROUTINE_COUNTS, reps: int = 3,
               rounds: int = 100_000, timeout: float = 60.0) -> dict:
    """Raw probe output: ``mem`` for each count (the largest ``reps`` times, fresh
    processes) and one ``switch`` run with ``reps`` interleaved repeats."""
    mem: dict[str, list[dict]] = {}
    for n in counts:
        k = reps if n == max(counts) else 1
        mem[str(n)] = [run_go(binary, "mem", n, timeout=timeout).get() for _ in range(k)]
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
            return f"measured live ({self.version})" + (
                "; resident memory, OS threads, VmSize recorded" if self.partial else "")
        return f"RECORDED on {self.date} ({self.machine}; {self.version}), not measured here"

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


# ---------------------------------------------------------------------------
# The summary figure's data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    who: str  # "thread", "goroutine" or "other": the colour


def comparison(mem: ThreadMemory, creation: Mapping[str, Creation], rungs: Mapping[str, Rung],
               go: GoCosts) -> list[tuple[str, str, list[Bar]]]:
    """(title, unit, bars) panels for :func:`gostack.plot.draw_cost_comparison`."""
    g = go.memory[min(go.memory, key=lambda n: abs(n - mem.n))]
    gl = go.largest
    memory = [
        Bar("thread: reserved (VmSize)", mem.reserved, "thread"),
        Bar("thread: resident + kernel", mem.real, "thread"),
        Bar("thread: resident (VmRSS)", mem.resident, "thread"),
        Bar("goroutine: resident", g.resident, "goroutine"),
        Bar("goroutine: stack", g.stack, "goroutine"),
    ]
    create = [Bar("Python thread", creation["python"].cpu_ns, "thread")]
    if "pthread" in creation:
        create.append(Bar("raw pthread", creation["pthread"].cpu_ns, "thread"))
    create.append(Bar("goroutine", gl.create_cpu_ns, "goroutine"))
    order = [("event", "thread"), ("lock", "thread"), ("pipe", "thread")]
    switch = [Bar(rungs[k].label, rungs[k].ns, who) for k, who in order if k in rungs]
    switch += [Bar(go.rungs["locked"].label, go.rungs["locked"].ns, "thread"),
               Bar(go.rungs["chan_p1"].label, go.rungs["chan_p1"].ns, "goroutine")]
    if "generator" in rungs:
        switch.append(Bar(rungs["generator"].label, rungs["generator"].ns, "other"))
    return [("memory per unit", "bytes", memory),
            ("creation, CPU time per unit", "ns", create),
            ("one switch, wall time", "ns", switch)]


def ratios(mem: ThreadMemory, creation: Mapping[str, Creation], rungs: Mapping[str, Rung],
           go: GoCosts) -> dict[str, float]:
    """Thread cost / goroutine cost, each from the same kind of measurement."""
    g = go.memory[min(go.memory, key=lambda n: abs(n - mem.n))]
    chan = go.rungs["chan_p1"].ns
    out = {
        "reserved (VmSize) / goroutine stack": mem.reserved / g.stack,
        "resident (VmRSS)": mem.resident / g.resident,
        "resident + kernel": mem.real / g.resident,
        "creation, CPU": creation["python"].cpu_ns / go.largest.create_cpu_ns,
        "switch, pipe (kernel handoff)": rungs["pipe"].ns / chan,
        "switch, Lock handoff": rungs["lock"].ns / chan,
    }
    if "event" in rungs:
        out["switch, Event handoff"] = rungs["event"].ns / chan
    return out


def ratio_table(r: Mapping[str, float]) -> str:
    """Ratios with their order of magnitude: '16x (10^1)'."""
    import math

    rows = [f"{'thread / goroutine':<36} {'ratio':>8}  {'orders of magnitude':>19}"]
    for k, v in r.items():
        rows.append(f"{k:<36} {_sig2(v) + 'x':>8}  {math.log10(v):>19.1f}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------
# The whole lesson: every measurement once, live where it can run, else recorded
# ---------------------------------------------------------------------------

RECORDED_THREADS_PATH = HERE / "data" / "thread_cost_recorded.json"
#: The parts of :class:`ThreadCost` that come from Python children (Go's are separate).
PARTS = ("limits", "reservation", "threads", "address_space", "creation", "switch", "lazy")


@dataclass(frozen=True)
class ThreadCost:
    """Lesson 01's measurements. ``recorded`` maps each part that could not run here to
    why; those parts hold the numbers recorded on ``machine`` on ``date``."""

    limits: Limits
    plan: Plan
    reservation: StackReservation
    series: Series
    address_space: AddressSpaceDemo
    creation: dict[str, Creation]
    rungs: dict[str, Rung]
    lazy: LazyStacks
    go: GoCosts
    recorded: dict[str, str] = field(default_factory=dict)
    machine: str = ""  # where the recorded parts come from
    date: str = ""
    pinned: bool = True  # the switch ladder's two threads shared one CPU

    @property
    def verdict(self) -> Verdict:
        return verdict(self.series)

    @property
    def ratios(self) -> dict[str, float]:
        return ratios(self.series.largest, self.creation, self.rungs, self.go)

    def comparison(self) -> list[tuple[str, str, list[Bar]]]:
        return comparison(self.series.largest, self.creation, self.rungs, self.go)

    def notes(self) -> list[str]:
        """One line per part that is not live here, saying whose numbers it shows and why."""
        out = [f"{part}: recorded on {self.machine} on {self.date}, since {why}"
               for part, why in self.recorded.items()]
        if self.go.source != "live":
            out.append(f"goroutines: {self.go.label}, since {self.go.reason}")
        elif self.go.partial:
            out.append(f"goroutines: {self.go.partial}")
        if not self.pinned:
            out.append("switch: measured live, but not pinned to one CPU (this system has "
                       "no sched_setaffinity), so a handoff may also cross CPUs")
        return out


def _tuples(d: Mapping, *keys: str) -> dict:
    return {**d, **{k: tuple(d[k]) for k in keys}}


def load_recorded_threads(path: Path | str | None = None) -> dict:
    """The recorded parts, rebuilt: {"machine", "date", part: value}."""
    rec = json.loads(Path(path or RECORDED_THREADS_PATH).read_text(encoding="utf-8"))
    p = rec["parts"]
    return {
        "machine": rec["machine"], "date": rec["date"],
        "limits": Limits(**p["limits"]),
        "reservation": StackReservation(**p["reservation"]),
        "threads": Series({int(n): ThreadMemory(**m) for n, m in p["threads"].items()}, {}),
        "address_space": AddressSpaceDemo(**p["address_space"], source="recorded",
                                          machine=rec["machine"], date=rec["date"]),
        "creation": {k: Creation(**_tuples(c, "cpu_range", "wall_range"))
                     for k, c in p["creation"].items()},
        "switch": {k: Rung(**_tuples(r, "ns_range")) for k, r in p["switch"].items()},
        "lazy": LazyStacks(**p["lazy"]),
    }


def thread_cost(budget: float = 15.0, go_build_timeout: float = 10.0,
                recorded_path: Path | str | None = None) -> ThreadCost:
    """Every measurement of lesson 01, each in its own bounded child. A part that cannot
    run here (no /proc, no glibc, a limit, a timeout) comes back as recorded, with the
    reason in ``recorded``; the lesson runs top to bottom either way."""
    rec = load_recorded_threads(recorded_path)
    why: dict[str, str] = {}

    def part(name: str, live: Callable):
        try:
            return live()
        except (MeasurementError, OSError) as e:
            why[name] = str(e) or type(e).__name__
            return rec[name]

    limits = read_limits()
    if not limits.found:
        why["limits"] = f"there is no {PROC} here"
        limits = rec["limits"]
    plan = plan_threads(THREAD_COUNTS, limits)
    reservation = part("reservation", stack_reservation)
    series = thread_memory_series(plan.counts, budget=budget)
    if not series.results:
        why["threads"] = "; ".join(f"{n:,}: {e}" for n, e in series.failed.items()) or \
            "no thread count fits this machine's limits"
        series = rec["threads"]
    demo = address_space_limit(limits=limits)
    if demo.source != "live":
        why["address_space"] = demo.reason or "the live run failed"
    creation = part("creation", thread_creation)
    rungs = part("switch", switch_ladder)
    lazy = part("lazy", lazy_stacks)
    return ThreadCost(limits, plan, reservation, series, demo, creation, rungs, lazy,
                      goroutines(build_timeout=go_build_timeout), why, rec["machine"],
                      rec["date"], pinned="switch" in why or hasattr(os, "sched_setaffinity"))


def _record_threads(path: Path) -> int:
    """Measure every part live (no fallback) and write them, atomically."""
    limits = read_limits()
    series = thread_memory_series(plan_threads(THREAD_COUNTS, limits).counts, budget=60)
    demo = address_space_limit(limits=limits, fallback=False)
    fields = ("limit", "default_stack", "small_stack", "default_threads", "small_threads",
              "default_rss", "small_rss", "stopped")
    parts = {
        "limits": asdict(limits),
        "reservation": asdict(stack_reservation()),
        "threads": {str(n): asdict(m) for n, m in series.results.items()},
        "address_space": {k: getattr(demo, k) for k in fields},
        "creation": {k: asdict(c) for k, c in thread_creation().items()},
        "switch": {k: asdict(r) for k, r in switch_ladder().items()},
        "lazy": asdict(lazy_stacks()),
    }
    rec = {"what": "every Python-side measurement of lesson 01 (gostack.oscost.thread_cost),"
                   " live", "machine": machine(), "date": time.strftime("%Y-%m-%d"),
           "parts": parts}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"recorded {path}")
    return 0


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _record(path: Path) -> int:
    b = build_go_probe(timeout=900)
    if not b.ok:
        print(f"cannot record: {b.reason}", file=sys.stderr)
        return 1
    raw = go_measure(b.binary)
    rec = {"what": "raw output of gostack/probes/oscost/gocost.go (mem N; switch ROUNDS REPS)",
           "machine": machine(), "date": time.strftime("%Y-%m-%d"), "go": b.version,
           "env": GO_RUN_ENV, "raw": raw}
    path.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["record-threads"]:
        return _record_threads(RECORDED_THREADS_PATH)
    if len(args) == 3 and args[0] == "child":
        return _child_main(args[1], args[2])
    if args and args[0] == "build":
        if args[1:] == ["--json"]:  # the child of build_go_probe
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # realgo cleans up
            try:
                print(json.dumps(_build_child()))
            except Exception as e:
                print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
            return 0
        b = build_go_probe(timeout=900)
        print(f"built {b.binary} in {b.seconds:.1f} s" + (" (cached)" if b.cached else "")
              if b.ok else f"not built: {b.reason}")
        return 0 if b.ok else 1
    if args and args[0] == "record":
        return _record(Path(args[1]) if len(args) > 1 else RECORDED_PATH)
    print("usage: python -m gostack.oscost build | record [PATH] | record-threads | "
          "child KIND PARAMS",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
