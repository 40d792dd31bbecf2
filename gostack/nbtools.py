"""Maintainer tooling for the committed notebooks: execute in place, deterministically, and clean.

    python -m gostack.nbtools run notebooks/*.ipynb     # what `make notebooks` does
    python -m gostack.nbtools check notebooks/*.ipynb   # exit 1 if a notebook is not clean

A clean notebook keeps only what a reader needs: outputs, tags and the kernelspec. Execution
timestamps, widget state (random model ids) and random cell ids are removed or made stable,
so re-running an unchanged notebook gives a byte-identical file.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

KERNEL = "python3"
CELL_METADATA_KEPT = ("tags", "nbgrader")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_TAG = "widget"  # on a code cell whose output was a widget view
# What a widget's output says where no kernel drives it (must match
# gostack.lessons.view.STATIC_NOTE, which the kit's widgets put in their own bundle).
WIDGET_NOTE = "An interactive explorer: run this cell (or Run All) to use it."
# Environment of the kernel that executes a notebook: stable hashing, no user config.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


@functools.cache
def widget_notes() -> frozenset[str]:
    """WIDGET_NOTE in every language of the kit: a translated edition's widgets say it in
    their own language (gostack.lessons.view), and clean keeps that."""
    from . import i18n

    return frozenset({WIDGET_NOTE} | {i18n.translations(lang).gettext(WIDGET_NOTE)
                                      for lang in i18n.LANGUAGES})


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip noisy metadata in place and return the notebook."""
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
        "language_info": {"name": "python"},
    })
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in CELL_METADATA_KEPT if k in cell.metadata}
        )
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.get("outputs", []))
            widget = False
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["metadata"] = out.get("metadata", {})
                # A widget view names a model (random id) whose state is not stored, so it
                # could not render anyway. Before Run All the cell shows what is left: the
                # widget's first picture if it gave one (image/png), and one line saying to
                # run the cell, never a repr like "VBox(children=(HBox(...". The tag tells
                # tools (the browser tests) the cell shows a widget.
                data = out.get("data", {})
                if data.pop(WIDGET_VIEW, None) is not None:
                    widget = True
                    if data.get("text/plain") not in widget_notes():
                        data["text/plain"] = WIDGET_NOTE
            tags = cell.metadata.get("tags", [])
            if widget and WIDGET_TAG not in tags:
                cell.metadata["tags"] = [*tags, WIDGET_TAG]
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same name: where a kernel splits printed
    text into messages depends on timing, not on the notebook."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


def execute(path: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel started in the notebook's folder."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, **KERNEL_ENV}
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=KERNEL, allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}}, store_widget_state=True,
    )
    client.execute(env=env)
    return nb


def write_atomic(nb: nbformat.NotebookNode, path: Path) -> None:
    text = nbformat.writes(nb) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def is_clean(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    return nbformat.writes(clean(nb)) + "\n" == text


def run(paths: Iterable[Path]) -> None:
    for path in paths:
        print(f"executing {path}", file=sys.stderr)
        write_atomic(clean(execute(path)), path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] not in {"run", "clean", "check"}:
        print("usage: python -m gostack.nbtools run|clean|check NOTEBOOK...", file=sys.stderr)
        return 2
    paths = [Path(p) for p in args[1:]]
    if args[0] == "run":
        run(paths)
    elif args[0] == "clean":
        for p in paths:
            write_atomic(clean(nbformat.read(p, as_version=4)), p)
    else:
        dirty = [str(p) for p in paths if not is_clean(p)]
        if dirty:
            print("not clean (run `make notebooks`): " + ", ".join(dirty), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
