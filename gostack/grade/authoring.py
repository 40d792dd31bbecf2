"""solutions/ -> exercises/: the learner version of each solution notebook.

Each region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers)
becomes nbgrader's stub, at the region's indentation::

    # YOUR CODE HERE
    raise NotImplementedError()

Signatures, docstrings and every other cell are kept; outputs are cleared (``make exercises``
then executes the learner version, so its check cells show the 0-point report).
:func:`stale` compares sources only, so a committed, executed exercise is current when its
cells match what :func:`learner_version` makes of the solution.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class MarkerError(ValueError):
    pass


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every solution region of a code cell's source with the stub."""
    out: list[str] = []
    inside = None
    for n, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise MarkerError(f"{where}, line {n}: {BEGIN} inside another region")
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + s for s in STUB]
            inside = n
        elif stripped == END:
            if inside is None:
                raise MarkerError(f"{where}, line {n}: {END} without {BEGIN}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise MarkerError(f"{where}, line {inside}: {BEGIN} is never closed")
    return "\n".join(out)


def learner_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook (a new object; outputs cleared)."""
    new = nbformat.reads(nbformat.writes(nb), as_version=4)  # a deep copy
    for i, cell in enumerate(new.cells):
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"cell {i + 1}")
        cell.outputs = []
        cell.execution_count = None
    return new


def has_solutions(nb: nbformat.NotebookNode) -> bool:
    return any(cell.cell_type == "code" and BEGIN in cell.source for cell in nb.cells)


def _shape(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must match between a generated and a committed exercise: cells, not outputs."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", []))) for c in nb.cells]


def stale(solutions: Path, exercises: Path) -> list[str]:
    """Exercise notebooks that are missing, out of date, or have no solution any more."""
    problems = []
    sources = sorted(solutions.glob("[0-9][0-9]-*.ipynb"))
    for src in sources:
        want = learner_version(nbformat.read(src, as_version=4))
        target = exercises / src.name
        if not target.exists():
            problems.append(f"{target.name}: missing")
        elif _shape(nbformat.read(target, as_version=4)) != _shape(want):
            problems.append(f"{target.name}: out of date with solutions/{src.name}")
    names = {s.name for s in sources}
    problems += [f"{p.name}: has no solutions/{p.name}" for p in sorted(exercises.glob("*.ipynb"))
                 if p.name not in names]
    return problems

