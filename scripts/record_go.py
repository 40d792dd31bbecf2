#!/usr/bin/env python3
"""Record what the real Go runtime does with every corpus program.

    python scripts/record_go.py                 # every case (the heavy one needs ~1.1 GB RAM)
    python scripts/record_go.py --case mutual_2 # re-record some cases, keep the others

Writes gostack/data/recorded.json: the Go version, GOOS/GOARCH, the date, and per
case the frame sizes from the TEXT lines of -S, the functions without a prologue
check, every growth [call_index, new_size], every shrink [gc, call_index,
new_size], growths inside runtime.GC() and the overflow [call_index, first line]
or null. tests/test_recorded.py checks the simulator against it without Go;
tests/test_realgo.py checks that the toolchain still does what is recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _recording import dump_sections  # noqa: E402

from gostack import realgo  # noqa: E402
from gostack.program import CORPUS  # noqa: E402
from gostack.scene import SCENES  # noqa: E402


def dump(data: dict) -> str:
    """JSON with one line per field of a case, so a re-recording diffs line by line."""
    return dump_sections(data, [k for k in ("cases", "scenes", "frame_pointers") if k in data])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", action="append", metavar="NAME",
                    help="record only these cases (repeatable); the others are kept")
    ap.add_argument("--skip-heavy", action="store_true",
                    help="leave out the cases that need over 1 GB of RAM (keep their old record)")
    ap.add_argument("--output", type=Path, default=realgo.RECORDED_PATH)
    args = ap.parse_args(argv)

    a = realgo.available()
    if not a.ok:
        print(f"record_go: {a.reason}. Install Go: {realgo.INSTALL_HINT}", file=sys.stderr)
        return 2
    unknown = [c for c in args.case or ()
               if c not in CORPUS and c not in SCENES and c not in realgo.FP_CASES]
    if unknown:
        print(f"record_go: unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    old_cases: dict = {}
    old_scenes: dict = {}
    old_fp: dict = {}
    if args.output.exists():
        old = json.loads(args.output.read_text(encoding="utf-8"))
        if old.get("go_version") == a.version:
            old_cases = old.get("cases", {})
            old_scenes = old.get("scenes", {})
            old_fp = old.get("frame_pointers", {})
        elif args.case or args.skip_heavy:
            print(f"record_go: {args.output} is from {old.get('go_version')}, the toolchain "
                  f"is {a.version}: record every case", file=sys.stderr)
            return 2

    def progress(msg: str) -> None:
        print(f"[record_go] {msg}", file=sys.stderr, flush=True)

    progress(f"using {a.reason}")
    cases: dict = {}
    differ = []
    t_all = time.monotonic()
    for name, program in CORPUS.items():
        wanted = args.case is None or name in args.case
        if not wanted or (args.skip_heavy and program.heavy):
            if name in old_cases:
                cases[name] = old_cases[name]
            else:
                progress(f"{name}: not recorded (skipped and no earlier record)")
            continue
        t0 = time.monotonic()
        run = realgo.run(program, progress)
        cases[name] = realgo.record(run, program)
        sim = realgo.P.run_simulator(program, run.frames, run.nosplit)
        agree = sim == run.observation
        if not agree:
            differ.append(name)
        progress(f"{name}: {len(run.observation.growths)} growths, "
                 f"{len(run.observation.shrinks)} shrinks, overflow "
                 f"{run.observation.overflow.call_index if run.observation.overflow else '-'}; "
                 f"simulator {'agrees' if agree else 'DISAGREES'} "
                 f"({time.monotonic() - t0:.1f} s)")
    scenes: dict = {}
    for name, scene in SCENES.items():
        wanted = args.case is None or name in args.case
        if not wanted or (args.skip_heavy and scene.heavy):
            if name in old_scenes:
                scenes[name] = old_scenes[name]
            else:
                progress(f"{name}: not recorded (skipped and no earlier record)")
            continue
        t0 = time.monotonic()
        srun = realgo.run_scene(scene, progress)
        scenes[name] = realgo.record_scene(srun, scene)
        agree = realgo.S.run_simulator(scene, srun.frames, srun.nosplit) == srun.observation
        if not agree:
            differ.append(name)
        progress(f"{name}: {len(srun.observation.moves)} moves, overflow "
                 f"{'yes' if srun.observation.overflow else '-'}; simulator "
                 f"{'agrees' if agree else 'DISAGREES'} ({time.monotonic() - t0:.1f} s)")
    fps: dict = {}
    for name in realgo.FP_CASES:
        if args.case is not None and name not in args.case:
            if name in old_fp:
                fps[name] = old_fp[name]
            continue
        t0 = time.monotonic()
        fps[name] = realgo.run_fp(name, progress)
        agree = realgo.simulate_fp(name, fps[name]["frames"]) == fps[name]
        if not agree:
            differ.append(name)
        progress(f"{name}: chain {fps[name]['after'][1]}; simulator "
                 f"{'agrees' if agree else 'DISAGREES'} ({time.monotonic() - t0:.1f} s)")
    data = {**realgo.recorded_header(a), "cases": cases, "scenes": scenes,
            "frame_pointers": fps}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dump(data), encoding="utf-8")
    progress(f"wrote {len(cases)} cases, {len(scenes)} scenes and {len(fps)} frame-pointer "
             f"cases to {args.output} "
             f"in {time.monotonic() - t_all:.1f} s")
    if differ:
        progress(f"the simulator disagrees on: {', '.join(differ)} "
                 "(see `gostack verify-go --recorded`)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
