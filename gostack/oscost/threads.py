"""The parent side for threads: what a thread reserves, uses and costs to create, the
claim about 10,000 threads, the address-space limit, and stacks as a thread gets them."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..i18n import _, text_width
from . import run
from .limits import Limits, read_limits
from .proc import GIB, HERE, KIB, MIB, fmt_bytes, fmt_ns, glibc_default_stack
from .run import MeasurementError
from .switches import Rung

RECORDED_THREADS_PATH = HERE / "data" / "thread_cost_recorded.json"


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
    return StackReservation(**run.run_python("stack", timeout).get())


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
    r = run.run_python(child, timeout or _threads_timeout(n), n=n, stack_size=stack_size)
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
                failed[n] = _("skipped: {done:,} threads took {s:.1f} s, so {n:,} would take "
                              "about {guess:.0f} s (budget {budget:g} s)").format(
                    done=done.n, s=done.seconds, n=n, guess=guess, budget=budget)
                continue
        try:
            results[n] = thread_memory(n, **kw)
        except MeasurementError as e:
            failed[n] = str(e)
    return Series(results, failed)


def memory_table(series: Series) -> str:
    """Per-thread memory as a text table: reserved, resident, kernel."""
    def rjust(text: str, width: int) -> str:  # Hangul takes two columns
        return " " * (width - text_width(text)) + text

    rows = ["  ".join([rjust(_("threads"), 8), rjust(_("reserved"), 10),
                       rjust(_("of which stack"), 14), rjust(_("resident"), 9),
                       rjust(_("kernel"), 9), rjust(_("resident+kernel"), 15)])]
    for n, m in sorted(series.results.items()):
        kern = _("(noisy)") if m.noisy else fmt_bytes(m.kernel)
        real = "–" if m.noisy else fmt_bytes(m.real)
        rows.append(f"{n:>8,}  {fmt_bytes(m.reserved):>10}  {fmt_bytes(m.stack_reserved):>14}"
                    f"  {fmt_bytes(m.resident):>9}  {rjust(kern, 9)}  {real:>15}")
    for n, why in sorted(series.failed.items()):
        rows.append(f"{n:>8,}  " + _("not measured: {why}").format(why=why))
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
        how = (_("measured with {n:,} threads").format(n=self.n) if not self.extrapolated
               else _("extrapolated x{x:g} from {n:,} threads").format(
                   x=self.n / self.measured_n, n=self.measured_n))
        return "\n".join([
            _("claim:    {n:,} threads take 10-20 GB ({how})").format(n=self.n, how=how),
            _("virtual:  {gb:7.1f} GB   address space reserved ({x:.1f}x the claim's top)").format(
                gb=self.virtual / 1e9, x=self.virtual / self.claim_high),
            _("real:     {gb:7.2f} GB   = resident {res:.2f} GB + kernel {kern:.2f} GB "
              "({x:.0f}x below the claim's bottom)").format(
                gb=self.real / 1e9, res=self.resident / 1e9, kern=self.kernel / 1e9,
                x=self.claim_low / self.real),
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
    d = run.run_python("as_limit", timeout, env=env, limit=limit, cap=cap).get()
    s = run.run_python("as_limit", timeout, env=env, limit=limit, cap=cap,
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
        stopped, guard = self.stopped, "mprotect of the guard page failed: "
        if stopped.startswith(guard):  # children.py's words, with the OS's error
            stopped = _("mprotect of the guard page failed: {error}").format(
                error=stopped.removeprefix(guard))
        fit = (_("{n:,} fit in one process, then: {stopped} (vm.max_map_count {max:,}, "
                 "{maps:.0f} mappings each)").format(n=self.n, stopped=stopped,
                                                     max=self.max_map_count, maps=self.maps)
               if self.limited else _("all {n:,} fit").format(n=self.n))
        return "\n".join([
            _("{asked:,} stacks of {reserve} reserved, {touch} used at the top of each: "
              "{fit}").format(asked=self.asked, reserve=fmt_bytes(self.reserve),
                              touch=fmt_bytes(self.touch), fit=fit),
            _("per stack: resident {resident} + page tables {tables}; CPU {cpu} (mmap, "
              "mprotect, first fault)").format(resident=fmt_bytes(self.resident),
                                               tables=fmt_bytes(self.page_tables),
                                               cpu=fmt_ns(self.cpu_ns)),
        ])


def lazy_stacks(n: int = 100_000, reserve: int = MIB, touch: int = 2 * KIB,
                timeout: float = 60.0) -> LazyStacks:
    """:func:`_child_lazy` in a child: ``n`` lazily committed stacks of ``reserve`` bytes,
    ``touch`` bytes used in each (2 KiB: what a goroutine starts with)."""
    r = run.run_python("lazy", timeout, n=n, reserve=reserve, touch=touch)
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
    for _rep in range(reps):
        for k in kinds:
            samples[k].append(thread_memory(n, kind=k))
    return {k: _creation(k, v) for k, v in samples.items()}


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
