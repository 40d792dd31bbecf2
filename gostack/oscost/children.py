"""The child side: these functions run in the child process only
(``python -m gostack.oscost child KIND PARAMS``)."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable, Mapping

from . import proc
from .limits import _rlim
from .proc import MapEntry, count_thread_stacks, parse_kib_fields, parse_maps


def _emit(obj: dict) -> None:
    """Print the result and leave at once: parked threads are not joined (pitfall P1)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    os._exit(0)


def _read(rel: str) -> str:
    """A file under :data:`PROC` ("self/status"): FileNotFoundError where there is none."""
    with open(proc.PROC / rel) as f:
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
