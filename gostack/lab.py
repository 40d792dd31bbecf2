"""JupyterLab on the whole kit, opening lesson 00: the one command line of `make lab`.

    python -m gostack.lab                     # what `make lab` runs
    python -m gostack.lab --no-browser        # extra options go to jupyter lab (LAB_ARGS=...)
    python -m gostack.lab --lang ko           # the Korean edition: notebooks/ko/, UI in Korean

Without ``--lang`` the locale chooses (``LANG=ko_KR.UTF-8``, or ``make lab LANG=ko``: Korean);
``--lang en`` or ``--lang ko`` decides. The Korean edition opens ``notebooks/ko/00-welcome
.ipynb`` with JupyterLab's own interface in Korean: the language pack (PyPI
``jupyterlab-language-pack-ko-KR``, the ``ko`` extra) and a settings override that makes Korean
the default (``--LabApp.app_settings_dir`` pointing at ``i18n/lab/ko/``, whose
``overrides.json`` sets ``@jupyterlab/translation-extension:plugin``), so nothing of the
user's ``~/.jupyter`` is read or written for it; a language the user chose there still wins.

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
from .i18n import from_locale

KIT = Path(__file__).resolve().parents[1]
WELCOME = f"notebooks/{LESSONS[0].filename}"
EDITIONS = {"en": WELCOME, "ko": f"notebooks/ko/{LESSONS[0].filename}"}
LAB_SETTINGS = {"ko": "i18n/lab/ko"}  # overrides.json: JupyterLab's interface in Korean


def welcome(lang: str = "en") -> str:
    """The lesson 00 of an edition, relative to the kit."""
    return EDITIONS[lang]


def command(root: Path = KIT, extra: Sequence[str] = (), python: str = sys.executable,
            as_root: bool | None = None, lang: str = "en") -> list[str]:
    """The argv that starts JupyterLab on ``root`` and opens lesson 00 of the ``lang`` edition
    (with ``ko``, JupyterLab's interface in Korean too).

    ``--allow-root`` is added when running as root (``as_root``; default: the effective uid is
    0): jupyter refuses to start as root without it, and a fresh machine or CI may be root."""
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    settings = ([f"--LabApp.app_settings_dir={Path(root).resolve() / LAB_SETTINGS[lang]}"]
                if lang in LAB_SETTINGS else [])
    return [
        python, "-m", "jupyterlab",
        f"--ServerApp.root_dir={Path(root).resolve()}",
        f"--LabApp.default_url=/lab/tree/{welcome(lang)}",
        *settings,
        *(["--allow-root"] if as_root else []),
        *extra,
    ]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    lang = from_locale() or "en"
    for i, a in enumerate(args):
        if a == "--lang" and i + 1 < len(args) or a.startswith("--lang="):
            value = a.split("=", 1)[1] if "=" in a else args[i + 1]
            del args[i:i + (1 if "=" in a else 2)]
            lang = value.lower().split("_")[0].split("-")[0]
            break
    if lang not in EDITIONS:
        lang = "en"
    front = welcome(lang)
    if not (KIT / front).is_file():
        print(f"gostack.lab: no {front} under {KIT} (run it from a checkout of the kit"
              + (", and `make translations` for the Korean edition)" if lang != "en" else ")"),
              file=sys.stderr)
        return 1
    cmd = command(extra=args, lang=lang)
    print("$", " ".join(cmd), flush=True)
    # Become jupyter lab (no Python parent in between): Ctrl+C and signals reach it as usual.
    os.execv(cmd[0], cmd)
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
