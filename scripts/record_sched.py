#!/usr/bin/env python3
"""Record the run order of every scheduler probe with real Go.

    python scripts/record_sched.py                  # every probe, 5 runs each
    python scripts/record_sched.py --probe spawn_10 # re-record some, keep the others
    python scripts/record_sched.py --runs 9

Writes gostack/data/sched_recorded.json: the Go version, the environment, the date,
and per probe the fingerprint of its Go source, the tokens the most common run
printed, a hash of every output seen with its count, and how the runs split: as the
model predicts, as it predicts with sysmon's startup preemption
(gostack/sched/startup.py), or other (sysmon's 10 ms preemption of a long time slice,
on a loaded machine); and the same for runs against a runtime with those two
preemptions patched out (`quiet_sysmon`: every run should be the model's order).
Probes the model refuses or crashes on (catalog.REFUSED) go under "refused": how each
real run ended, and for refusals whether a runtime with sysmon's preemptions and Mutex
starvation patched out prints the model's unrefused order. tests/test_sched_recorded.py
checks the model against it without Go; `python -m gostack.sched verify` runs live.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _recording import dump_sections  # noqa: E402

from gostack import realgo  # noqa: E402
from gostack.sched import machine  # noqa: E402
from gostack.sched.catalog import PROBES, REFUSED  # noqa: E402
from gostack.sched.realrun import (  # noqa: E402
    MUTEX_PATCHES,
    RECORDED_PATH,
    SYSMON_PATCHES,
    build,
    build_patched,
    build_quiet_sysmon,
    check_refused,
    model_refusal,
    observe,
    recorded_header,
    run_once,
    run_outcome,
)
from gostack.sched.render import digest, fingerprint  # noqa: E402

SECTIONS = ("probes", "refused")


def dump(data: dict) -> str:
    """JSON with one line per field of a probe, so a re-recording diffs line by line."""
    return dump_sections(data, [s for s in SECTIONS if s in data])


def record_refused(p, runs: int, quiet_runs: int, progress) -> dict:
    """A probe the model refuses or crashes on: how real Go ends, and (refused ones)
    whether the model's unrefused order is what a runtime without sysmon's preemptions
    and Mutex starvation prints."""
    unrefused = None
    try:
        unrefused = machine.run(p, preemption=False, starvation=False).output
    except Exception:  # noqa: BLE001 - a predicted crash: no order
        pass
    outs = Counter(run_outcome(build(p, progress).binary, p) for _ in range(runs))
    case = {"fingerprint": fingerprint(p), "summary": p.summary, "runs": runs,
            "model": " ".join(model_refusal(p))[:200],
            "fatal": {o: n for o, n in outs.items() if isinstance(o, str)},
            "observed": {digest(o): n for o, n in outs.items() if not isinstance(o, str)},
            "as_unrefused_model": outs[unrefused] if unrefused else 0}
    if unrefused is not None and model_refusal(p)[0] == "refused" and quiet_runs:
        b = build_patched(p, {"runtime/proc.go": SYSMON_PATCHES,
                              "internal/sync/mutex.go": MUTEX_PATCHES}, progress)
        same = sum(run_once(b, p) == unrefused for _ in range(quiet_runs))
        case["patched"] = {"runs": quiet_runs, "as_unrefused_model": same}
    return case


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", action="append", metavar="NAME",
                    help="record only these probes (repeatable); the others are kept")
    ap.add_argument("--runs", type=int, default=5, help="runs per probe (default 5)")
    ap.add_argument("--quiet-runs", type=int, default=5,
                    help="runs per probe against a runtime with sysmon's preemptions "
                         "patched out (realrun.SYSMON_PATCHES; default 5, 0: skip)")
    ap.add_argument("--output", type=Path, default=RECORDED_PATH)
    args = ap.parse_args(argv)
    a = realgo.available()
    if not a.ok:
        print(f"record_sched: {a.reason}. Install Go: {realgo.INSTALL_HINT}", file=sys.stderr)
        return 2
    unknown = [n for n in args.probe or () if n not in PROBES and n not in REFUSED]
    if unknown:
        print(f"record_sched: unknown probe(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    old: dict = {}
    old_refused: dict = {}
    if args.output.exists():
        rec = json.loads(args.output.read_text(encoding="utf-8"))
        if rec.get("go_version") == a.version:
            old = rec.get("probes", {})
            old_refused = rec.get("refused", {})

    def progress(msg: str) -> None:
        print(f"[record_sched] {msg}", file=sys.stderr, flush=True)

    progress(f"using {a.reason}")
    probes: dict = {}
    differ = []
    for name, p in PROBES.items():
        if args.probe and name not in args.probe:
            if name in old:
                probes[name] = old[name]
            continue
        t0 = time.monotonic()
        o = observe(p, args.runs, progress)
        model = machine.run(p).output
        startup = machine.run(p, sysmon_first_look=True).output
        same = o.count(model)
        race = o.count(startup) if startup != model else 0
        if o.output != model:
            differ.append(name)
        probes[name] = {
            "fingerprint": fingerprint(p), "summary": p.summary, "runs": o.runs,
            "as_model": same, "as_model_startup_preempted": race,
            "other": o.runs - same - race,
            "observed": {digest(out): n for out, n in o.outputs},
            "output": list(o.output)}
        if args.quiet_runs:
            binary = build_quiet_sysmon(p, progress)
            quiet = Counter(run_once(binary, p) for _ in range(args.quiet_runs))
            probes[name]["quiet_sysmon"] = {
                "runs": args.quiet_runs, "as_model": quiet[model],
                "observed": {digest(out): n for out, n in quiet.most_common()}}
            progress(f"{name}: sysmon's preemptions patched out: {quiet[model]} of "
                     f"{args.quiet_runs} runs as the model")
        progress(f"{name}: {len(o.output)} tokens; of {o.runs} runs {same} as the model, "
                 f"{race} as the model with sysmon's startup preemption, "
                 f"{o.runs - same - race} other ({time.monotonic() - t0:.1f} s)")
    refused: dict = {}
    for name, p in REFUSED.items():
        if args.probe and name not in args.probe:
            if name in old_refused:
                refused[name] = old_refused[name]
            continue
        refused[name] = record_refused(p, args.runs, args.quiet_runs, progress)
        ok, line = check_refused(p, refused[name])
        progress(f"{name}: {line}")
        if not ok:
            differ.append(name)
    data = {**recorded_header(a), "probes": probes, "refused": refused}
    args.output.write_text(dump(data), encoding="utf-8")
    progress(f"wrote {len(probes)} probes to {args.output}")
    if differ:
        progress(f"most runs disagree with the model on: {', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
