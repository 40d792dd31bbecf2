"""How the scheduler exercises (08, 10, 11) write goroutines: in feedback (``G6``, runs
as ``[G6–G8, G10]``) and in a pasteable call (``list(range(6, 9))``)."""

from __future__ import annotations

from ...i18n import _, ngettext


def g(goid: int | None) -> str:
    """A goid as the runtime's tracebacks write it; 0 or None (an empty slot) is ``nil``."""
    return f"G{goid}" if goid else "nil"


def ranges(ids: list[int], counted: bool = True) -> str:
    """[6, 7, 8, 10] -> '[G6–G8, G10] (4 Gs)' (``counted``) or '[G6–G8, G10]': whole, and
    short for the long runs of a full ring. An empty slot (0) never starts a run."""
    if not ids:
        return _("[] (empty)") if counted else "[]"
    out, start, prev = [], ids[0], ids[0]
    for i in [*ids[1:], None]:
        if i is not None and prev and i == prev + 1:
            prev = i
            continue
        out.append(g(start) if start == prev else f"{g(start)}–{g(prev)}")
        if i is not None:
            start = prev = i
    text = "[" + ", ".join(out) + "]"
    if not counted:
        return text
    return text + " " + ngettext("({n} G)", "({n} Gs)", len(ids)).format(n=len(ids))


def pyids(ids: list[int]) -> str:
    """A list of goids as Python, a consecutive run as list(range(...))."""
    if len(ids) > 3 and ids == list(range(ids[0], ids[0] + len(ids))):
        return f"list(range({ids[0]}, {ids[0] + len(ids)}))"
    return repr(list(ids))
