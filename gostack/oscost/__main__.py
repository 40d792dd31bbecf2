"""python -m gostack.oscost build | record [PATH] | record-threads | child KIND PARAMS"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from .children import _child_main
from .gocost import GO_RUN_ENV, RECORDED_PATH, _build_child, build_go_probe, go_measure, machine
from .lesson import _record_threads
from .threads import RECORDED_THREADS_PATH


def _record(path: Path) -> int:
    b = build_go_probe(timeout=900)
    if not b.ok:
        print(f"cannot record: {b.reason}", file=sys.stderr)
        return 1
    raw = go_measure(b.binary)
    rec = {"what": "raw output of gostack/probes/oscost/gocost.go (mem N; switch ROUNDS REPS)",
           "machine": machine(), "date": time.strftime("%Y-%m-%d"), "go": b.version,
           "env": GO_RUN_ENV, "raw": raw}
    path.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["record-threads"]:
        return _record_threads(RECORDED_THREADS_PATH)
    if len(args) == 3 and args[0] == "child":
        return _child_main(args[1], args[2])
    if args and args[0] == "build":
        if args[1:] == ["--json"]:  # the child of build_go_probe
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # realgo cleans up
            try:
                print(json.dumps(_build_child()))
            except Exception as e:
                print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
            return 0
        b = build_go_probe(timeout=900)
        print(f"built {b.binary} in {b.seconds:.1f} s" + (" (cached)" if b.cached else "")
              if b.ok else f"not built: {b.reason}")
        return 0 if b.ok else 1
    if args and args[0] == "record":
        return _record(Path(args[1]) if len(args) > 1 else RECORDED_PATH)
    print("usage: python -m gostack.oscost build | record [PATH] | record-threads | "
          "child KIND PARAMS",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
