"""What the stage-2 recording scripts (record_netpoll.py, record_preempt.py,
record_sched_stats.py) share: timed runs of one configuration, and the file's header
(the Go version, the date, the CPU count and the load average when the script started).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path


def parser(doc: str, runs: int) -> argparse.ArgumentParser:
    """The command line every recording script takes: its doc's first paragraph, --runs."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=runs, help="runs per configuration")
    return ap


def prepare(build: Callable[..., Path]) -> tuple[str, Path, tuple[float, ...]]:
    """Go's version (Go is required), the probe built, and the load average before any run."""
    from gostack import realgo  # after the script has put this checkout first on sys.path

    go = realgo.require().version
    return go, build(print), os.getloadavg()


def now(fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    return datetime.now(timezone.utc).strftime(fmt)


def timed_runs(name: str, count: int, one: Callable[[], dict]) -> list[dict]:
    """``count`` runs of ``one``; how long they took is printed."""
    t0 = time.monotonic()
    runs = [one() for _ in range(count)]
    print(f"{name}: {count} runs in {time.monotonic() - t0:.1f} s", flush=True)
    return runs


def write(path: Path, go: str, load: tuple[float, ...], gomaxprocs: str, note: str,
          configs: dict) -> None:
    """The recording: its header, then ``configs``; ``load`` is os.getloadavg() when this
    invocation started."""
    data = {
        "go": go,
        "recorded": now(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "env": {"GOGC": "off", "GOMAXPROCS": gomaxprocs},
        "note": note,
        "configs": configs,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


def dump_sections(data: dict, sections: list[str]) -> str:
    """JSON with one line per field of a case in each of ``sections`` (the other keys first,
    one line each), so a re-recording diffs line by line."""
    head = {k: v for k, v in data.items() if k not in sections}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    for si, section in enumerate(sections):
        lines.append(f"  {json.dumps(section)}: {{")
        names = list(data[section])
        for i, name in enumerate(names):
            case = data[section][name]
            lines.append(f"    {json.dumps(name)}: {{")
            keys = list(case)
            for j, k in enumerate(keys):
                lines.append(f"      {json.dumps(k)}: {json.dumps(case[k])}"
                             + ("," if j < len(keys) - 1 else ""))
            lines.append("    }" + ("," if i < len(names) - 1 else ""))
        lines.append("  }" + ("," if si < len(sections) - 1 else ""))
    return "\n".join(lines + ["}", ""])
