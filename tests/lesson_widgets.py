"""Helpers for the lesson widget tests (driven without a browser)."""


def kinds(box) -> list[str]:
    """The class names of every leaf widget in a box, depth first."""
    out = []
    for child in box.children:
        out += kinds(child) if hasattr(child, "children") else [type(child).__name__]
    return out
