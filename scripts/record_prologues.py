"""Record the real prologues the lessons show: `python scripts/record_prologues.py`.

Writes gostack/data/prologues.json from go1.27.3 builds of the probe corpus: the
functions with frames of 64 (small form), 168 (medium) and 10280 (huge) bytes.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from gostack import realgo
from gostack.program import CORPUS

OUT = Path(__file__).resolve().parents[1] / "gostack" / "data" / "prologues.json"
WANTED = (("mutual_2", "mutS"), ("rec_medium_168", "rec"), ("rec_huge_10280", "rec"))


def main() -> int:
    a = realgo.require()
    found = []
    for case, fn in WANTED:
        p = realgo.prologue(fn, CORPUS[case], progress=lambda m: print(m, file=sys.stderr))
        found.append({"case": case, "func": p.func, "frame": p.frame, "form": p.form,
                      "lines": list(p.lines)})
    OUT.write_text(json.dumps({"go": a.version, "goos": "linux", "goarch": "amd64",
                               "recorded": date.today().isoformat(), "prologues": found},
                              indent=1) + "\n")
    print(f"wrote {OUT.name}: " + ", ".join(str(f["frame"]) for f in found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
