"""Running one learner's code for one exercise, out of process, with limits.

:func:`run_exercise` starts a worker (:mod:`gostack.grade.worker`), hands it the learner's
code cells and the cases, and collects one result per case from a private pipe. A worker
that crashes, is killed at its wall-clock limit, or exits early loses only the case it was
on: a fresh worker resumes with the next case (at most ``Limits.restarts`` times).

The worker's stdout and stderr go to an anonymous scratch file: they are quoted in the
feedback, never parsed. Only lines on the pipe that start with the job's random nonce count,
and even those are only data: every score is decided by the grader.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import catalog

MAX_CHANNEL_BYTES = 16 << 20  # per worker: far more than any exercise's answers
MAX_LINE_BYTES = 1 << 20
MAX_QUOTED_OUTPUT = 4000
WORKER = Path(__file__).with_name("worker.py")
# Where the worker finds gostack: run by path under -I (no PYTHONPATH), it appends this.
IMPORT_PATH = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class Limits:
    """Per worker process (one exercise of one student, or the rest of it after a crash).

    ``cpu`` and ``wall`` are the base: :func:`run_exercise` adds one ``case_timeout`` per rule
    (aspect) of the exercise to both, since a case that runs out of time fails alone and
    each rule may cost one timeout. The top-level statements share ``definitions`` seconds.
    ``student_budget`` bounds the wall-clock time of all of one student's exercises."""

    cpu: float = 2.0  # seconds of CPU (RLIMIT_CPU), plus case_timeout per rule
    wall: float = 10.0  # seconds of wall-clock time, enforced by the grader, plus per rule
    memory_mb: int = 256  # address space (RLIMIT_AS)
    case_timeout: float = 1.0  # per call of a learner's function (an alarm in the worker)
    restarts: int = 1  # fresh workers after a crash, per exercise
    student_budget: float = 60.0  # wall-clock seconds over all of one student's exercises

    @property
    def definitions(self) -> float:
        """Seconds for all the top-level statements of one exercise together (each one also
        stops at twice ``case_timeout``)."""
        return 4 * self.case_timeout

    def for_rules(self, rules: int) -> Limits:
        """The limits of an exercise with ``rules`` rules: room for one timeout per rule."""
        extra = max(0, rules) * self.case_timeout
        return replace(self, cpu=self.cpu + extra, wall=self.wall + extra)


@dataclass
class WorkerRun:
    """What one worker process did."""

    messages: list[dict] = field(default_factory=list)
    returncode: int | None = None
    killed: str | None = None  # "wall" when the grader killed it
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    output: str = ""  # the start of what it printed (untrusted, for the feedback only)
    noise: int = 0  # lines on the pipe without the nonce

    @property
    def done(self) -> bool:
        return any(m.get("t") == "done" for m in self.messages)

    def crash_reason(self, limits: Limits) -> str:
        rc = self.returncode
        if self.killed == "wall":
            return f"took longer than {limits.wall:g} s (wall clock) and was stopped"
        if self.killed == "budget":
            return (f"used up the {limits.student_budget:g} s of wall-clock time this student's "
                    "submission gets over all exercises, and was stopped")
        if self.killed == "case":
            return (f"kept running {3 * limits.case_timeout + 1:g} s after one call, its alarm "
                    "caught and ignored, and was stopped")
        if self.killed == "output":
            return "sent too much output and was stopped"
        if rc is not None and rc < 0:
            sig = -rc
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                self.killed = self.killed or "cpu"
                return f"used more than {limits.cpu:g} s of CPU time and was stopped"
            if sig == signal.SIGSEGV:
                return "crashed (a segmentation fault: very deep recursion?)"
            if sig == signal.SIGXFSZ:
                return "wrote too large a file and was stopped"
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = str(sig)
            return f"was killed by signal {name}"
        return f"ended the process early (exit status {rc}: os._exit or a crash)"


def _env(scratch: str) -> dict[str, str]:
    """A small, fixed environment: nothing of the grader's (secrets included) leaks in."""
    return {
        "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
    }


LANDLOCK = Path(__file__).with_name("landlock.py")
_LANDLOCK_ABI: list[int] = []


def landlock_abi() -> int:
    """The kernel's Landlock ABI (0: none). Workers run under it when it is there."""
    if not _LANDLOCK_ABI:
        from .landlock import abi

        _LANDLOCK_ABI.append(abi() if os.environ.get("GOSTACK_NO_LANDLOCK") != "1" else 0)
    return _LANDLOCK_ABI[0]


def landlock_prefix(write: str) -> list[str]:
    """The command that starts a worker (or fork server) under Landlock, to put before its
    own: it may read the Python installation and gostack's package (the worker imports it;
    its audit hook refuses learner code gostack's source), run the interpreter and the
    dynamic loader's libraries, read the few devices, and write only beneath ``write``.
    Anything else (classmates' submissions, the grader's output, the home folders) cannot
    even be listed, whatever learner code gets past the audit hook. Empty without Landlock:
    the audit hook and, as root, the sandbox uid are then the only walls."""
    if not landlock_abi():
        return []
    from .worker import _DEVICES, _read_roots

    spec = {
        "read": [*_read_roots(), str(Path(__file__).resolve().parents[1])],
        "exec": [os.path.realpath(sys.executable),
                 *sorted({os.path.join(os.path.realpath(p), "lib")
                          for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}),
                 "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"],
        "files": [os.path.join(sys.prefix, "pyvenv.cfg"), "/etc/ld.so.cache", *sorted(_DEVICES)],
        "write": [write],
    }
    return [sys.executable, "-I", str(LANDLOCK), json.dumps(spec), "--"]


class Zygote:
    """A fork server (``worker.py --zygote``) for one grading slot: Python and gostack are
    imported once, and each job is a fork of that clean process. It never runs learner
    code itself, and never receives the secret. If it fails, jobs fall back to a fresh
    ``python -I worker.py`` each."""

    def __init__(self) -> None:
        import socket

        # Its jobs' scratch folders go in a folder of its own, the only one Landlock lets the
        # fork server and its children write (and list) beside the Python installation.
        self.dir = tempfile.mkdtemp(prefix="gostack-slot-")
        os.chmod(self.dir, 0o711)  # a sandbox uid may enter, not list
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [*landlock_prefix(self.dir),
             sys.executable, "-I", str(WORKER), "--zygote", str(theirs.fileno()), IMPORT_PATH],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), env=_env(tempfile.gettempdir()),
            start_new_session=True, close_fds=True)
        theirs.close()
        self.file = self.sock.makefile("rb")
        self.alive = True

    def start(self, fds: list[int], scratch: str) -> int:
        import socket

        socket.send_fds(self.sock, [json.dumps({"scratch": scratch}).encode()], fds)
        return int(self._reply()["pid"])

    def reap(self) -> tuple[int, float]:
        self.sock.sendall(b"r")
        reply = self._reply()
        return os.waitstatus_to_exitcode(int(reply["status"])), float(reply["cpu"])

    def _reply(self) -> dict:
        line = self.file.readline()
        if not line:
            self.alive = False
            raise OSError("the fork server has gone")
        return json.loads(line)

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
            self.file.close()
        finally:
            _kill_group(self.proc.pid)
            self.proc.wait()
            _remove_tree(self.dir)


def run_worker(job: dict, limits: Limits, uid: int | None = None,
               deadline: float | None = None, zygote: Zygote | None = None) -> WorkerRun:
    """Start one worker for ``job``, wait for it (killing it at the wall limit), collect."""
    run = WorkerRun()
    nonce = secrets.token_hex(16)
    scratch = tempfile.mkdtemp(prefix="gostack-grade-", dir=getattr(zygote, "dir", None))
    read_fd, write_fd = os.pipe()
    job_r, job_w = os.pipe()
    out = tempfile.TemporaryFile()
    pid = None
    proc = None
    start = time.monotonic()
    deadline = start + limits.wall if deadline is None else deadline
    try:
        if uid is not None:
            os.chown(scratch, uid, uid)
        os.chmod(scratch, 0o700)
        payload = dict(job, nonce=nonce, fd=write_fd, uid=uid, cpu=limits.cpu,
                       memory_mb=limits.memory_mb, case_timeout=limits.case_timeout,
                       definitions=limits.definitions, import_path=IMPORT_PATH)
        if zygote is not None and zygote.alive:
            try:
                pid = zygote.start([job_r, write_fd, out.fileno()], scratch)
            except OSError:
                zygote.alive = False
        if pid is None:
            proc = subprocess.Popen(
                [*landlock_prefix(scratch), sys.executable, "-I", str(WORKER)],
                stdin=job_r, stdout=out, stderr=out,
                pass_fds=(write_fd,), cwd=scratch, env=_env(scratch), start_new_session=True,
                close_fds=True)
            pid = proc.pid
        os.close(write_fd)
        os.close(job_r)
        write_fd = job_r = -1
        try:
            data = json.dumps(payload).encode()
            while data:
                data = data[os.write(job_w, data):]
        except BrokenPipeError:
            pass
        os.close(job_w)
        job_w = -1
        _collect(run, read_fd, nonce.encode() + b" ", deadline,
                 patience=3 * limits.case_timeout + 1.0)
    finally:
        if pid is not None:
            _kill_group(pid)
            if proc is not None:
                run.returncode, run.cpu_seconds = _reap(proc)
            else:
                try:
                    run.returncode, run.cpu_seconds = zygote.reap()
                except (OSError, ValueError, KeyError):
                    zygote.alive = False
        run.wall_seconds = time.monotonic() - start
        for fd in (write_fd, job_r, job_w, read_fd):
            if fd >= 0:
                os.close(fd)
        out.seek(0)
        run.output = out.read(MAX_QUOTED_OUTPUT).decode("utf-8", "replace")
        out.close()
        _remove_tree(scratch)
    return run


def _remove_tree(path: str) -> None:
    """Remove a scratch folder, first giving back any permission taken from it (as the same
    uid, a worker can make a folder that rmtree alone cannot empty)."""
    for root, dirs, _ in os.walk(path):
        for d in (root, *(os.path.join(root, x) for x in dirs)):
            try:
                if not os.path.islink(d):
                    os.chmod(d, 0o700)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)


def _collect(run: WorkerRun, fd: int, prefix: bytes, deadline: float, patience: float) -> None:
    """Read the pipe until EOF. Kill (by returning) at the wall deadline, or when one case or
    one definition has been running for ``patience`` seconds: the worker's own alarm fires
    well before that, so only code that swallows the alarm gets here."""
    buf = b""
    total = 0
    busy_since: float | None = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            run.killed = "wall"
            return
        if busy_since is not None and now - busy_since >= patience:
            run.killed = "case"
            return
        limit = deadline if busy_since is None else min(deadline, busy_since + patience)
        ready, _, _ = select.select([fd], [], [], min(limit - now, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_CHANNEL_BYTES:
            run.killed = "output"
            return
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            kind = _take(run, line, prefix)
            if kind in ("start", "stmt"):
                busy_since = time.monotonic()
            elif kind in ("case", "ready"):
                busy_since = None
            elif kind == "done":  # whatever the worker does after this is not waited for
                return
    if buf:
        _take(run, buf, prefix)


def _take(run: WorkerRun, line: bytes, prefix: bytes) -> str | None:
    # Learner code can write to the pipe too (without the nonce): bytes glued in front of a
    # worker's line are noise, and the line is read from its nonce on.
    start = line.find(prefix)
    if start > 0:
        run.noise += 1
        line = line[start:]
    if start < 0 or len(line) > MAX_LINE_BYTES:
        run.noise += 1
        return None
    try:
        msg = _plain(json.loads(line[len(prefix):]))
    except (ValueError, RecursionError):
        run.noise += 1
        return None
    if isinstance(msg, dict) and isinstance(msg.get("t"), str):
        run.messages.append(msg)
        return msg["t"]
    run.noise += 1
    return None


def _plain(obj: object, depth: int = 0) -> object:
    """A decoded message with every string made printable-safe (learner text can carry lone
    surrogates, which no report file could encode); nesting past 40 levels is cut."""
    if depth > 40:
        return "..."
    if isinstance(obj, str):
        return obj.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(obj, list):
        return [_plain(x, depth + 1) for x in obj]
    if isinstance(obj, dict):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in obj.items()}
    return obj


def _kill_group(pid: int) -> None:
    """Kill the worker's process group, and the worker itself if it has no group yet.
    Called before the worker is reaped, so the pid cannot belong to another process."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _reap(proc) -> tuple[int | None, float]:
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        return proc.poll(), 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


@dataclass
class ExerciseRun:
    """Everything the workers reported for one exercise of one student."""

    outputs: dict[int, dict] = field(default_factory=dict)  # case index -> output record
    errors: list[str] = field(default_factory=list)  # top-level statements that failed
    skipped: int = 0
    fatal: list[str] = field(default_factory=list)  # missing functions, bad signatures...
    references: list[str] = field(default_factory=list)  # reference calls while scoring
    patched: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    output: str = ""
    workers: int = 0
    cpu_seconds: float = 0.0
    noise: int = 0


def run_exercise(exercise_id: str, cells: list[tuple[int, str]], cases: list[dict],
                 limits: Limits, uid: int | None = None, preload: list[str] = (),
                 zygote: Zygote | None = None,
                 student_deadline: float | None = None) -> ExerciseRun:
    """Run the cases of one exercise in as many workers as crashes make necessary.

    CPU and wall limits get one case timeout per rule (distinct tag of the cases); the wall
    deadline covers every restart and never passes ``student_deadline``."""
    result = ExerciseRun()
    start = 0
    limits = limits.for_rules(len({t for c in cases for t in c.get("tags", ())}))
    deadline = time.monotonic() + limits.wall  # the wall budget covers every restart
    budget_cut = student_deadline is not None and student_deadline < deadline
    if budget_cut:
        deadline = student_deadline
    while start < len(cases) and result.workers <= limits.restarts:
        job = {"exercise": exercise_id, "cells": cells, "cases": cases, "start": start,
               "preload": sorted(preload)}
        run = run_worker(job, limits, uid, deadline, zygote)
        if run.killed == "wall" and budget_cut:
            run.killed = "budget"
        result.workers += 1
        result.cpu_seconds += run.cpu_seconds
        result.noise += run.noise
        # The worker's own snapshot, taken before the first hidden case; a worker that
        # never got there ran no hidden case, so its output file can be quoted.
        said = [m for m in run.messages if m.get("t") == "output"]
        text = str(said[0].get("text", ""))[:MAX_QUOTED_OUTPUT] if said else run.output
        if text and not result.output:
            result.output = text
        current = None
        definition = None
        ready = False
        for msg in run.messages:
            kind = msg.get("t")
            if kind == "stmt":
                definition = f"cell {msg.get('cell')}, line {msg.get('line')}"
            elif kind == "ready":
                definition = None
                ready = True
                if result.workers == 1:
                    result.errors = [str(e) for e in msg.get("errors", [])][:20]
                    result.skipped = int(msg.get("skipped", 0) or 0)
                result.fatal = [str(e) for e in msg.get("fatal", [])][:10]
                result.patched += [str(p) for p in msg.get("patched", [])][:10]
            elif kind == "start":
                current = _index(msg.get("i"), len(cases))
            elif kind == "case":
                i = _index(msg.get("i"), len(cases))
                if i is not None:
                    result.outputs[i] = {k: v for k, v in msg.items()
                                         if k in ("ok", "error", "bad")}
                    current = None
            elif kind == "ref":
                # One from a graded function (or a reference bound to a graded name) costs the
                # exercise; the worker drops calls made while the definitions ran, which only
                # failed their statement.
                name = str(msg.get("name"))[:120]
                if name not in result.references:
                    result.references.append(name)
            elif kind == "patched":
                result.patched += [str(p) for p in msg.get("what", [])][:10]
        if result.fatal or result.patched or run.done:
            break
        reason = run.crash_reason(limits)
        if current is None and definition is not None:
            result.crashes.append(f"while running {definition}, the worker {reason}")
            break
        if current is None and not ready:
            result.crashes.append(f"the worker {reason} before any test ran")
            break
        if current is not None:
            result.outputs[current] = {"error": {"type": "a crash", "message": reason}}
            result.crashes.append(f"case {current + 1}: the worker {reason}")
            start = current + 1
        else:  # between two cases only the harness runs (and its checks)
            start = max([*result.outputs, -1]) + 1
            if run.returncode is not None and run.returncode >= 0 and not run.killed:
                result.fatal.append(f"the worker stopped between cases {start} and {start + 1}"
                                    ", where only the grader's own checks run: this exercise "
                                    "scores 0")
                break
            result.crashes.append(f"after case {start}: the worker {reason}")
        if run.killed in ("wall", "budget", "cpu", "output"):  # another would hit it again
            break
    for i in range(len(cases)):
        if i not in result.outputs:
            why = ("not run: an earlier case stopped the worker" if result.crashes else
                   "not run")
            result.outputs[i] = {"error": {"type": "no result", "message": why}}
    return result


def _index(value: object, n: int) -> int | None:
    return value if type(value) is int and 0 <= value < n else None


# Where the sandbox uids start by default (cli's --sandbox-uid; Gradescope's runs as root).
DEFAULT_UID_BASE = 64100


def self_test(limits: Limits, uid: int | None, zygote: Zygote | None = None) -> tuple[bool, str]:
    """Start one worker on a trivial job: does it come up (as ``uid``)?"""
    ex = catalog.EXERCISES[0]
    run = run_exercise(ex.id, [(1, "x = 1")], ex.visible_cases()[:1],
                       Limits(cpu=max(2.0, limits.cpu), wall=30, memory_mb=limits.memory_mb),
                       uid, zygote=zygote)
    ok = bool(run.fatal) and not run.crashes
    return ok, "; ".join(run.crashes) or run.output[-500:]
