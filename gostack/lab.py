"""JupyterLab on the whole kit, opening lesson 00: the one command line of `make lab`.

    python -m gostack.lab                     # what `make lab` runs
    python -m gostack.lab --no-browser        # extra options go to jupyter lab (LAB_ARGS=...)

The server's root is the kit's folder, not notebooks/: the links between lessons, exercises
and the README (``../exercises/01-prologue.ipynb``, ``../README.md#lessons``) point outside
notebooks/, and a server rooted there answers them with 403. The browser opens lesson 00
(``--LabApp.default_url``; the URL the server prints leads there too).

The browser tests (tests/e2e/labserver.py) start JupyterLab with :func:`command` as well, and
add only what a throwaway server needs (loopback, a port, a token, no browser).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .course import LESSONS

KIT = Path(__file__).resolve().parents[1]
WELCOME = f"notebooks/{LESSONS[0].filename}"


def command(root: Path = KIT, extra: Sequence[str] = (), python: str = sys.executable,
            as_root: bool | None = None) -> list[str]:
    """The argv that starts JupyterLab on ``root`` and opens lesson 00.

    ``--allow-root`` is added when running as root (``as_root``; default: the effective uid is
    0): jupyter refuses to start as root without it, and a fresh machine or CI may be root."""
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [
        python, "-m", "jupyterlab",
        f"--ServerApp.root_dir={Path(root).resolve()}",
        f"--LabApp.default_url=/lab/tree/{WELCOME}",
        *(["--allow-root"] if as_root else []),
        *extra,
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not (KIT / WELCOME).is_file():
        print(f"gostack.lab: no {WELCOME} under {KIT} (run it from a checkout of the kit)",
              file=sys.stderr)
        return 1
    cmd = command(extra=args)
    print("$", " ".join(cmd), flush=True)
    # Become jupyter lab (no Python parent in between): Ctrl+C and signals reach it as usual.
    os.execv(cmd[0], cmd)
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
