"""`make lab`'s command line (gostack.lab): the server's root holds every file a lesson links to.

The browser tests click two of those links in a real JupyterLab (tests/e2e/test_links_in_browser
.py); this checks every relative link of every lesson and exercise without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from gostack import lab

ROOT = Path(__file__).resolve().parents[1]
LINKED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _option(cmd: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in cmd if a.startswith(f"--{name}=")]
    assert len(values) == 1, cmd
    return values[0]


def test_the_server_root_is_the_kit_and_the_front_page_is_lesson_00():
    cmd = lab.command(as_root=False)
    assert Path(_option(cmd, "ServerApp.root_dir")) == ROOT
    front = _option(cmd, "LabApp.default_url")
    assert front == "/lab/tree/notebooks/00-welcome.ipynb"
    assert (ROOT / front.removeprefix("/lab/tree/")).is_file()


def test_allow_root_only_as_root_and_extra_options_last():
    assert "--allow-root" not in lab.command(as_root=False)
    assert "--allow-root" in lab.command(as_root=True)
    assert lab.command(extra=["--no-browser", "--port=9"])[-2:] == ["--no-browser", "--port=9"]


@pytest.mark.parametrize("path", LINKED, ids=[p.relative_to(ROOT).as_posix() for p in LINKED])
def test_every_relative_link_resolves_inside_the_server_root(path):
    root = Path(_option(lab.command(), "ServerApp.root_dir")).resolve()
    nb = nbformat.read(path, as_version=4)
    checked = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in LINK.findall(cell.source):
            if re.match(r"^[a-z]+:|^#", target):  # a URL, or a place in this notebook
                continue
            file = (path.parent / target.split("#", 1)[0]).resolve()
            assert file.is_relative_to(root), f"{target} leaves the server's root {root}"
            assert file.is_file(), f"{target}: no such file"
            checked += 1
    assert checked or path.parent.name == "notebooks", f"{path.name} links to nothing"
