"""Child processes: each measurement runs in a fresh one and hands back one JSON object,
whatever happens (a limit, a hang or a crash ends the child, never the caller)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .proc import HERE


class MeasurementError(RuntimeError):
    """A child process failed, hit a limit or timed out; the message says which."""


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
