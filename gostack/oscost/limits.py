"""The ceilings that bind before RAM does: read them before starting thousands of threads."""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import proc as proc_tree

#: Thread counts the lesson tries, smallest first; the machine's limits may drop some.
THREAD_COUNTS = (100, 1_000, 10_000)


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
    p = Path(proc) if proc is not None else proc_tree.PROC

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
