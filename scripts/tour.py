"""Regenerate the screenshots of the README's tour from the browser tests.

    python scripts/tour.py              # (make tour) writes docs/tour/*.png
    python scripts/tour.py --out DIR

It runs the browser tests (tests/e2e) of the toured notebooks in a real JupyterLab in headless
Chromium, exactly as `make test` does, then copies the screenshots they saved into the tour
folder, reduced to a 256-colour palette to keep the repository small. It needs Chromium
(GOSTACK_CHROMIUM, default /usr/bin/chromium) and fails if it is missing or a test fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (pattern of a screenshot the tests save, file in the tour folder, what it shows)
SHOTS = (
    ("00-welcome.png", "1-lesson-in-jupyterlab.png",
     "Lesson 00 in JupyterLab after Run All: the stack explorer at 6 calls, 2,048-byte stack"),
    ("00-welcome-cell*-1-keys-calls-ArrowRight.png", "2-one-more-call.png",
     "One key press later (7 calls): the stack has doubled to 4,096 bytes"),
    ("exercise-01-prologue.png", "3-exercise-full-marks.png",
     "Exercise 01 answered in the browser: the check cell gives full marks"),
)
# The tests that save them (pytest -k).
SELECT = "00-welcome or 01-prologue"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "tour",
                    help="tour folder (default: docs/tour)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gostack-tour-") as tmp:
        shots = Path(tmp)
        env = {**os.environ, "GOSTACK_E2E_ARTIFACTS": str(shots), "GOSTACK_REQUIRE_BROWSER": "1"}
        cmd = [sys.executable, "-m", "pytest", "tests/e2e", "-k", SELECT, "-q",
               "-p", "no:cacheprovider"]
        print("$", " ".join(cmd), flush=True)
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
            print("tour: the browser tests failed; the tour was not updated", file=sys.stderr)
            return 1

        found = []
        for pattern, name, caption in SHOTS:
            hits = sorted(shots.glob(pattern))
            if len(hits) != 1:
                print(f"tour: expected one screenshot matching {pattern!r}, found "
                      f"{[h.name for h in hits]}", file=sys.stderr)
                return 1
            found.append((hits[0], name, caption))

        args.out.mkdir(parents=True, exist_ok=True)
        for src, name, caption in found:
            dst = args.out / name
            _save_small(src, dst)
            print(f"{dst.relative_to(ROOT) if dst.is_relative_to(ROOT) else dst}: {caption} "
                  f"({dst.stat().st_size // 1024} KiB)")
    return 0


def _save_small(src: Path, dst: Path) -> None:
    """A 256-colour PNG: screenshots of flat UI and plots lose nothing visible."""
    from PIL import Image

    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE).save(dst, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
