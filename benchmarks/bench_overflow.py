"""The default-limit overflow: 10280-byte frames up to a 512 MiB stack and the failed
growth to 1 GiB (52,185 calls). Aim: under 2 s and under 200 MB peak memory.

Each measurement runs in a fresh interpreter so the peak RSS is this run's alone;
the ratio is against that interpreter's own baseline (import gostack, no calls).
Run: python benchmarks/bench_overflow.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import gostack as gs
run = sys.argv[1] == "run"
t = time.perf_counter()
result = None
if run:
    g = gs.Runtime(trace=False).go(gs.Func("main.worker", frame=56))
    f = gs.Func("main.recBig", frame=10280)
    try:
        while True:
            g.call(f)
    except gs.StackOverflow as e:
        result = [e.call_index, e.size, str(e).splitlines()[0]]
print(json.dumps({"seconds": time.perf_counter() - t, "result": result,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout)


def main() -> None:
    base, run = measure("baseline"), measure("run")
    call_index, size, message = run["result"]
    assert (call_index, size) == (52185, 1 << 29), run["result"]
    extra_mb = (run["maxrss_kib"] - base["maxrss_kib"]) / 1024
    print(f"overflow at call {call_index:,} from a {size >> 20} MiB stack: {message}")
    print(f"  time        : {run['seconds']:.2f} s   (aim: under 2 s)")
    print(f"  peak RSS    : {run['maxrss_kib'] / 1024:.0f} MB, of which {extra_mb:.0f} MB above an "
          f"interpreter that only imported gostack ({base['maxrss_kib'] / 1024:.0f} MB)"
          "   (aim: under 200 MB)")
    print(f"  memory ratio: {run['maxrss_kib'] / base['maxrss_kib']:.2f}x the import-only baseline")


if __name__ == "__main__":
    main()
