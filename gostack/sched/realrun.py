"""Real Go as the witness: build a probe with the kit's toolchain, run it, record it.

Environment of every run (:data:`RUN_ENV`), and why:

* ``GOMAXPROCS=1``: one P, so the order is the scheduler's rules and nothing else (and
  ``sched.customGOMAXPROCS`` is set, so sysmon never wakes the GOMAXPROCS updater);
* ``GOGC=off``: no GC cycle, hence no GC workers, no sweeper or scavenger wake-ups
  (``scavenger.ready`` follows a finished sweep) and no forced GC (``gcTrigger.test`` is
  false with gcPercent < 0);
* no ``GODEBUG``: the defaults (``updatemaxprocs=1`` for a go 1.27 module: its goroutine
  is part of the startup the model replays); ``GOTRACEBACK=single``.

Timers and the netpoller stay out because the probes use neither. What is left is
sysmon: a G that keeps the P for 10 ms (one time slice; runnext shares it) is
preempted. The probes run far below that, but a loaded machine can stretch wall time,
so :func:`observe` runs each probe several times and keeps every output it saw. A
second source of variation is in the startup (startup.py): sysmon's first look can
preempt the runtime's init, which adds one schedtick; the model reproduces that run
with ``sysmon_first_look=True``.

Both sources are sysmon's preemptions, and :func:`build_quiet_sysmon` proves it: the
same probe built against a ``proc.go`` with :data:`SYSMON_PATCHES` (``go build
-overlay``) prints the model's usual order in every run (``python -m gostack.sched
verify --quiet-sysmon``; recorded as ``quiet_sysmon``).

Builds go through ``gostack.realgo.build_files`` (hermetic, cached).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import program as _program
from .. import realgo
from . import probe as pr
from .render import parse_output, render_go

RECORDED_PATH = Path(__file__).resolve().parent.parent / "data" / "sched_recorded.json"
RUN_ENV = {"GOMAXPROCS": "1", "GOGC": "off", "GOTRACEBACK": "single"}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def run_env() -> dict[str, str]:
    """The caller's environment without any GO* variable, plus :data:`RUN_ENV`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(RUN_ENV)
    return env


def files(p: pr.Probe, go_version: str = "go1.27.3") -> dict[str, str]:
    return {"go.mod": _program.go_mod(go_version), "main.go": render_go(p)}


def build(p: pr.Probe, progress: Progress = _quiet) -> realgo.Build:
    a = realgo.require()
    return realgo.build_files(files(p, a.version or ""), progress, label=f"sched:{p.name}")


def _run(binary: Path, timeout: float) -> tuple[int, str]:
    """Run the program; (exit status, stderr). stderr goes to a file, not a pipe: the
    runtime's ``print`` writes once and drops what a short write leaves (runtime
    ``writeErr``), and a write blocked on a full pipe (64 KB, a slow reader) is cut
    short by sysmon's preemption signal: spawn_20000's 249 KB then arrived as 65,536
    bytes in 5 of 5 runs with a reader 0.1 s late."""
    with tempfile.TemporaryFile() as err:
        r = subprocess.run([str(binary)], env=run_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err, timeout=timeout)
        err.seek(0)
        return r.returncode, err.read().decode(errors="replace")


def run_once(binary: Path, p: pr.Probe, timeout: float = 60) -> tuple[str, ...]:
    code, stderr = _run(binary, timeout)
    if code != 0:
        raise realgo.GoError(f"{p.name}: exit status {code}:\n{stderr[-2000:]}")
    return parse_output(p, stderr)


def run_outcome(binary: Path, p: pr.Probe, timeout: float = 60) -> tuple[str, ...] | str:
    """One run: its tokens, or (it died) its ``fatal error:`` or ``panic:`` line."""
    code, stderr = _run(binary, timeout)
    if code == 0:
        return parse_output(p, stderr)
    return next((x for x in stderr.splitlines()
                 if x.startswith(("fatal error:", "panic:"))), stderr[-200:])


def run_fatal(binary: Path, p: pr.Probe, timeout: float = 60) -> str:
    """Run a program expected to die: its ``fatal error:`` or ``panic:`` line ("" if it
    exited 0). The model's Deadlock, SyncPanic and ChanPanic are checked this way."""
    out = run_outcome(binary, p, timeout)
    return out if isinstance(out, str) else ""


def model_refusal(p: pr.Probe) -> tuple[str, str]:
    """How the model declines ``p``: ("refused", why) for OutOfScope, ("crash", the
    message real Go prints) for a predicted crash, ("order", "") if it predicts one."""
    from . import machine
    from .chan import ChanPanic
    from .schedule import Deadlock
    from .sync import SyncPanic

    try:
        machine.run(p)
    except pr.OutOfScope as e:
        return "refused", str(e)
    except Deadlock:
        return "crash", "all goroutines are asleep - deadlock!"
    except (ChanPanic, SyncPanic) as e:
        return "crash", str(e)
    return "order", ""


def declined_live(p: pr.Probe, runs: int) -> tuple[bool, str] | None:
    """For ``verify`` (live): None if the model predicts an order for ``p``; else whether
    real Go bears the model out: a predicted crash must happen in every run; a refusal
    (OutOfScope: the order depends on wall time) is reported, not run."""
    kind, why = model_refusal(p)
    if kind == "order":
        return None
    if kind == "refused":
        return True, f"refused by the model (OutOfScope): {why}"
    binary = build(p).binary
    died = sum(why in run_fatal(binary, p) for _ in range(runs))
    return died == runs, f"crash {why!r}: {died} of {runs} real runs"


def check_refused(p: pr.Probe, case: dict) -> tuple[bool, str]:
    """A recorded ``refused`` case: a refusal holds if, built with SYSMON_PATCHES and
    MUTEX_PATCHES, real Go printed the order the model predicts without refusing (the
    refusal's reason is the only difference); a crash holds if every run died with the
    model's message."""
    kind, why = model_refusal(p)
    stock = (f"stock runs: {case['as_unrefused_model']} of {case['runs']} in the model's "
             "unrefused order")
    if kind == "refused":
        q = case.get("patched") or {}
        ok = bool(q) and q["as_unrefused_model"] == q["runs"]
        return ok, (f"refused ({why.split(':')[-1].strip()[:60]}...); {stock}; patched "
                    f"runtime: {q.get('as_unrefused_model')} of {q.get('runs')}")
    if kind == "crash":
        died = sum(n for line, n in case["fatal"].items() if why in line)
        return died == case["runs"], f"crash {why!r}: {died} of {case['runs']} real runs"
    return False, "the model predicts an order"


@dataclass(frozen=True)
class Observed:
    """Every output of ``runs`` runs of one probe, with how often each was printed."""

    probe: str
    outputs: tuple[tuple[tuple[str, ...], int], ...]  # most common first

    @property
    def output(self) -> tuple[str, ...]:
        """The output most runs printed."""
        return self.outputs[0][0]

    @property
    def runs(self) -> int:
        return sum(n for _, n in self.outputs)

    @property
    def agreeing(self) -> int:
        return self.outputs[0][1]

    def count(self, output: tuple[str, ...]) -> int:
        return sum(n for o, n in self.outputs if o == output)


def observe(p: pr.Probe, runs: int = 5, progress: Progress = _quiet) -> Observed:
    """Build once, run ``runs`` times."""
    b = build(p, progress)
    seen = Counter(run_once(b.binary, p) for _ in range(runs))
    return Observed(p.name, tuple(seen.most_common()))


def load_recorded(path: Path | str | None = None) -> dict:
    return json.loads(Path(path or RECORDED_PATH).read_text(encoding="utf-8"))


def recorded_header(a: realgo.Availability) -> dict:
    return {
        "go_version": a.version,
        "goos_goarch": "linux/amd64",
        "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "env": dict(RUN_ENV),
        "how": "scripts/record_sched.py: each probe built once and run `runs` times; "
               "output = the most common token list; quiet_sysmon: the same probe built "
               "against proc.go with SYSMON_PATCHES (go build -overlay)",
        "sysmon_patches": [list(x) for x in SYSMON_PATCHES],
    }


# ---------------------------------------------------------------------------
# The same probe with sysmon's two preemptions switched off (go build -overlay)
# ---------------------------------------------------------------------------

#: Edits to runtime/proc.go that remove the two sources of run-to-run variation:
#: sysmon's first look at a P no longer preempts (``retake`` records the time instead),
#: and its 10 ms time-slice preemption needs 1000 s. With them, every run of every probe
#: should print the model's usual order; `verify --quiet-sysmon` checks that.
SYSMON_PATCHES = (
    ("\t\tif int64(pd.schedtick) != schedt {",
     "\t\tif int64(pd.schedtick) != schedt || pd.schedwhen == 0 {"),
    ("const forcePreemptNS = 10 * 1000 * 1000 // 10ms",
     "const forcePreemptNS = 1000 * 1000 * 1000 * 1000"),
)


#: Edit to internal/sync/mutex.go that keeps every Mutex in normal mode: a waiter never
#: waits "over 1 ms" (the model has no clock; see sync.py). For the fuzzer, whose random
#: probes can hold a Mutex while hundreds of goroutines run.
MUTEX_PATCHES = (("\tstarvationThresholdNs = 1e6", "\tstarvationThresholdNs = 1e15"),)


def build_quiet_sysmon(p: pr.Probe, progress: Progress = _quiet) -> Path:
    """Build ``p`` against a runtime patched with :data:`SYSMON_PATCHES` (cached); the
    first build recompiles the runtime (tens of seconds)."""
    return build_patched(p, {"runtime/proc.go": SYSMON_PATCHES}, progress)


def build_patched(p: pr.Probe, patches: dict[str, tuple[tuple[str, str], ...]],
                  progress: Progress = _quiet) -> Path:
    """Build ``p`` with GOROOT/src files edited (``{"runtime/proc.go": ((old, new), ...)}``)
    through ``go build -overlay``; cached by the edited sources."""
    import hashlib

    a = realgo.require()
    goroot = Path(a.goroot) if a.goroot else Path(subprocess.run(
        [a.go, "env", "GOROOT"], env=realgo.go_env(), capture_output=True, text=True,
        check=True).stdout.strip())
    edited: dict[str, str] = {}
    for rel, pairs in sorted(patches.items()):
        text = (goroot / "src" / rel).read_text()
        for old, new in pairs:
            if text.count(old) != 1:
                raise realgo.GoError(f"{rel} of {a.version} does not have {old.strip()!r} once")
            text = text.replace(old, new)
        edited[rel] = text
    fs = files(p, a.version or "")
    h = hashlib.sha256((a.version or "").encode())
    for name, text in sorted({**edited, **fs}.items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    final = realgo.cache_dir() / "sched-quiet" / h.hexdigest()[:20]
    if (final / "probe").is_file():
        return final / "probe"
    with realgo.building(final) as tmp:
        replace = {}
        for k, (rel, text) in enumerate(edited.items()):
            d = tmp / "patched" / str(k)
            d.mkdir(parents=True)
            (d / Path(rel).name).write_text(text)
            replace[str(goroot / "src" / rel)] = str(d / Path(rel).name)
        (tmp / "overlay.json").write_text(json.dumps({"Replace": replace}))
        for name, text in fs.items():
            (tmp / name).write_text(text)
        progress(f"building sched:{p.name} with {', '.join(edited)} patched")
        r = subprocess.run([a.go, "build", "-trimpath", f"-overlay={tmp / 'overlay.json'}",
                            "-o", "probe", "."], cwd=tmp, env=realgo.go_env(),
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise realgo.GoError(f"patched build of {p.name} failed:\n{r.stderr[-3000:]}")
    return final / "probe"
