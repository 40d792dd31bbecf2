"""Record the runtime's //go:systemstack prologues: `python scripts/record_systemstack.py`.

Builds a hello-world with `go build -a -gcflags=runtime=-S` (the runtime's own listing)
and writes gostack/data/systemstack.json: every function the compiler marked `cfunc`
(//go:systemstack) with its frame, its check and the function its slow path calls, and
runtime.newstack, an ordinary function that also runs on g0, for comparison.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from gostack import realgo

OUT = Path(__file__).resolve().parents[1] / "gostack" / "data" / "systemstack.json"
COMPARE = ("runtime.newstack",)  # not //go:systemstack, for comparison
_HEAD = re.compile(r"^(\S+) STEXT((?: \w+)*?) size=", re.M)
_CALL = re.compile(r"CALL\s+(runtime\.morestack\w*)\(SB\)")


def blocks(asm: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """The first listing of each function: name -> (its STEXT flags, its text)."""
    heads = list(_HEAD.finditer(asm))
    out: dict[str, tuple[tuple[str, ...], str]] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(asm)
        out.setdefault(m.group(1), (tuple(m.group(2).split()), asm[m.start():end]))
    return out


def extract(asm: str) -> list[dict]:
    """Each cfunc function (and COMPARE): frame, flags, check lines, slow-path call."""
    found = []
    for name, (flags, text) in blocks(asm).items():
        if "cfunc" not in flags and name not in COMPARE:
            continue
        p = realgo.parse_prologue(text, name)
        call = _CALL.search(text)
        found.append({"func": name, "frame": p.frame, "flags": list(flags),
                      "lines": list(p.lines), "calls": call.group(1) if call else None})
    return sorted(found, key=lambda f: f["func"])


def listing() -> str:
    """The -S listing of the runtime, from a fresh build of a hello-world."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "go.mod").write_text("module hello\n\ngo 1.27\n")
        (Path(tmp) / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
        r = subprocess.run([realgo.require().go, "build", "-a", "-gcflags=runtime=-S",
                            "-o", "hello", "."], cwd=tmp, env=realgo.go_env(),
                           capture_output=True, text=True, timeout=600, check=False)
    if r.returncode:
        raise SystemExit(r.stderr[-2000:])
    return r.stderr


def main() -> int:
    a = realgo.require()
    found = extract(listing())
    OUT.write_text(json.dumps({"go": a.version, "goos": "linux", "goarch": "amd64",
                               "recorded": date.today().isoformat(), "functions": found},
                              indent=1) + "\n")
    print(f"wrote {OUT.name}: {len(found)} functions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
