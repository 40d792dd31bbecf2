#!/usr/bin/env python3
"""Measure what each GC adds to the adaptive start's average, goroutine by goroutine.

    python scripts/measure_scanned_stacks.py                    # every adaptive scene
    python scripts/measure_scanned_stacks.py adaptive_start_4k  # one scene

Each scene's probe is built against a runtime patched through ``go build -overlay``:
scanstack (mgcmark.go) prints the goid, the scanned size ``hi - sp`` it adds to
p.scannedStackSize and the goroutine's start function, and gcComputeStartingStackSize
(stack.go) prints the sum, the count and the startingStackSize it sets. The probe runs
as recorded (GOMAXPROCS=1, GOGC=off, GODEBUG=adaptivestackstart=1).

The script prints every GC's scans, checks the runtime's own goroutines against
stackalloc.RUNTIME_SCANNED, main (parked in runtime.GC) against
stackalloc.main_gc_scanned(main.main's frame), and the startingStackSize against the
simulator's (Runtime(adaptive_start=True)); exit 1 if anything differs.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gostack import realgo, stackalloc  # noqa: E402
from gostack import scene as S  # noqa: E402
from gostack.program import CURG_ASM, RESULTS_SIZE, go_mod  # noqa: E402

PATCHES = {
    "runtime/mgcmark.go": (
        "\tscannedSize := gp.stack.hi - sp\n",
        "\tscannedSize := gp.stack.hi - sp\n\tprint(\"gostack-scan \", gp.goid, \" \", "
        "scannedSize, \" \", funcname(findfunc(gp.startpc)), \"\\n\")\n"),
    "runtime/stack.go": (
        "\tstartingStackSize = uint32(round2(int32(avg)))\n",
        "\tstartingStackSize = uint32(round2(int32(avg)))\n\tprint(\"gostack-start \", "
        "scannedStackSize, \" \", scannedStacks, \" \", startingStackSize, \"\\n\")\n"),
}


def overlay() -> str:
    """The -overlay flag of the patched runtime (files kept in the cache by content)."""
    a = realgo.require()
    goroot = Path(a.goroot) if a.goroot else Path(subprocess.run(
        [a.go, "env", "GOROOT"], env=realgo.go_env(), capture_output=True, text=True,
        check=True).stdout.strip())
    edited = {}
    for rel, (old, new) in PATCHES.items():
        text = (goroot / "src" / rel).read_text()
        if text.count(old) != 1:
            raise realgo.GoError(f"{rel} of {a.version} does not have {old.strip()!r} once")
        edited[rel] = text.replace(old, new)
    h = hashlib.sha256(json.dumps(edited, sort_keys=True).encode()).hexdigest()[:20]
    d = realgo.cache_dir() / "scan-overlay" / h
    d.mkdir(parents=True, exist_ok=True)
    for rel, text in edited.items():
        (d / Path(rel).name).write_text(text)
    (d / "overlay.json").write_text(json.dumps(
        {"Replace": {str(goroot / "src" / rel): str(d / Path(rel).name) for rel in edited}}))
    return f"-overlay={d / 'overlay.json'}"


def measure(scene: S.Scene) -> tuple[dict[str, int], list[list[tuple[int, int, str]]],
                                     list[int]]:
    """The frames (the scene's functions and main.main), each GC's scans (goid, hi - sp,
    start function) and the startingStackSize each GC set."""
    a = realgo.require()
    files = {"go.mod": go_mod(a.version or ""), "main.go": S.render_go(scene),
             "curg_amd64.s": CURG_ASM}
    b = realgo.build_files(files, label=f"{scene.name} (scan-patched)",
                           flags=(*scene.build_flags, overlay()))
    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp) / "results"
        res.write_bytes(bytes(RESULTS_SIZE))
        r = subprocess.run([str(b.binary), str(res)], env=realgo.run_env(scene.godebug),
                           capture_output=True, text=True, timeout=120)
    gcs: list[list[tuple[int, int, str]]] = [[]]
    starts = []
    for line in r.stderr.splitlines():
        if m := re.fullmatch(r"gostack-scan (\d+) (\d+) (\S+)", line):
            gcs[-1].append((int(m[1]), int(m[2]), m[3]))
        elif m := re.fullmatch(r"gostack-start (\d+) (\d+) (\d+)", line):
            if sum(x[1] for x in gcs[-1]) != int(m[1]) or len(gcs[-1]) != int(m[2]):
                raise SystemExit(f"{scene.name}: the scans printed do not add up to {line}")
            starts.append(int(m[3]))
            gcs.append([])
    names = {f.qualname for f in scene.functions} | {S.MAIN_FRAME}
    return {n: fi.frame for n, fi in b.frames.items() if n in names}, gcs[:-1], starts


def main(argv: list[str]) -> int:
    names = argv or [n for n, s in S.SCENES.items() if s.adaptive_start]
    bad = 0
    known = dict(stackalloc.RUNTIME_SCANNED)
    for name in names:
        scene = S.SCENES[name]
        frames, gcs, starts = measure(scene)
        main_want = stackalloc.main_gc_scanned(frames[S.MAIN_FRAME])
        print(f"{name}: main.main ${frames[S.MAIN_FRAME]}")
        for i, scans in enumerate(gcs, 1):
            print(f"  GC {i}: startingStackSize {starts[i - 1]}")
            for goid, size, fn in scans:
                if fn == "runtime.main":
                    want = main_want
                elif fn.startswith("main."):
                    want = None  # the scene's own: the simulator's business
                else:
                    want = known.get(fn, -1)
                flag = "" if want is None or want == size else f"   !! model {want}"
                bad += bool(flag)
                print(f"    goid {goid:>3} {fn:<32} {size:>7}{flag}")
        sim: list[int] = []
        S.run_simulator(scene, frames, starts=sim)
        if sim != starts:
            bad += 1
            print(f"  !! simulator's startingStackSize per GC {sim}, real {starts}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
