"""Reading /proc and formatting sizes and times: pure functions of text, tested on samples.

:data:`PROC` is the tree every reader uses, the parent's and the children's alike."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

#: glibc's default thread stack when RLIMIT_STACK is unlimited (ARCH_STACK_DEFAULT_SIZE,
#: sysdeps/x86_64/nptl/pthreaddef.h); otherwise the default is RLIMIT_STACK itself.
GLIBC_UNLIMITED_STACK = 2 * MIB
PTHREAD_STACK_MIN = 16 * KIB  # x86_64

#: The gostack package folder: data/ and probes/ live there.
HERE = Path(__file__).resolve().parents[1]
#: The /proc tree every reader uses, parent and children alike. GOSTACK_PROC points it
#: elsewhere: an empty folder shows what a machine without /proc (macOS) gets.
PROC = Path(os.environ.get("GOSTACK_PROC") or "/proc")


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
