"""The language gostack speaks: English, or Korean (한국어) for the Korean edition.

    import gostack
    gostack.set_language("ko")        # or: a notebook under a ko/ folder, or LANG=ko_KR.UTF-8
    from gostack.i18n import _
    print(_("Score: {points}/{max} points.").format(points=3, max=10))

The language is chosen once, never by editing code, in this order:

1. ``gostack.set_language("ko")`` (``set_language(None)`` goes back to choosing);
2. the environment variable ``GOSTACK_LANG`` (``ko`` or ``en``);
3. the kernel's folder: a notebook in a folder named ``ko`` (``notebooks/ko/``,
   ``exercises/ko/``, ``solutions/ko/``) runs with its folder as the current directory, so the
   Korean edition speaks Korean; the kit's English folders speak English whatever the locale;
4. the locale: ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` or ``LANGUAGE`` starting with ``ko``;
5. English.

Messages are gettext catalogs, ``gostack/locale/<lang>/LC_MESSAGES/gostack.po``, compiled to
the ``.mo`` beside it (committed, so a plain ``pip install`` or a bare Python, as in the
grader's worker or on Gradescope, reads them with the standard library's gettext; ``make
messages`` extracts, merges and compiles them with Babel, and a test checks the ``.mo`` is
current). The source strings are the English messages: a message missing from a catalog is
shown in English. :func:`using` switches the language for one block, for the current thread
or task only (the grader writes each student's feedback in that student's language).

Lesson figures and readouts call ``gostack.i18n._`` too, and draw their text inside
:func:`figure_fonts`, which gives a figure Hangul in any language but English.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import replace
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "ko")
DEFAULT = "en"
DOMAIN = "gostack"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_KIT = Path(__file__).resolve().parents[1]
_EDITION_FOLDERS = ("notebooks", "exercises", "solutions")

_chosen: str | None = None  # set_language's choice
_auto: str | None = None  # what the environment chose, worked out once
_scoped: ContextVar[str | None] = ContextVar("gostack_language", default=None)


def _normalise(lang: str | None) -> str | None:
    if lang is None:
        return None
    code = str(lang).strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    return code


def from_folder(folder: Path) -> str | None:
    """The edition a folder belongs to: ``ko`` for a folder named ko, English for the kit's
    own notebooks/, exercises/ and solutions/, else None (no say)."""
    folder = Path(folder)
    if folder.name in LANGUAGES and folder.name != DEFAULT:
        return folder.name
    try:
        if folder.resolve().parent == _KIT and folder.name in _EDITION_FOLDERS:
            return DEFAULT
    except OSError:
        pass
    return None


def from_locale(environ: dict | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            first = value.split(":")[0]
            code = first.lower().split("_")[0].split(".")[0]
            return code if code in LANGUAGES else None
    return None


def detect(cwd: Path | None = None, environ: dict | None = None) -> str:
    """The language the environment asks for (steps 2-5 above)."""
    env = os.environ if environ is None else environ
    if env.get("GOSTACK_LANG"):
        try:
            return _normalise(env["GOSTACK_LANG"]) or DEFAULT
        except ValueError:
            pass
    try:
        here = Path.cwd() if cwd is None else Path(cwd)
    except OSError:  # a deleted working directory
        here = None
    folder = from_folder(here) if here is not None else None
    return folder or from_locale(env) or DEFAULT


def set_language(lang: str | None) -> str:
    """Speak ``lang`` ("ko", "en") from now on; None: choose from the environment again.
    Returns the language now in use."""
    global _chosen, _auto
    _chosen = _normalise(lang)
    if lang is None:
        _auto = None
    return language()


def language() -> str:
    """The language in use."""
    global _auto
    scoped = _scoped.get()
    if scoped:
        return scoped
    if _chosen:
        return _chosen
    if _auto is None:
        _auto = detect()
    return _auto


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` inside the block (this thread or task only); None: no change."""
    code = _normalise(lang)
    token = _scoped.set(code) if code else None
    try:
        yield language()
    finally:
        if token is not None:
            _scoped.reset(token)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang],
                               fallback=True)


def _(message: str) -> str:
    """``message`` in the language in use (English when the catalog lacks it)."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (an aspect's title, which
    is translated where it is shown)."""
    return message


def text_width(text: str) -> int:
    """Columns a text takes in a monospaced report: Hangul and other wide letters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def korean(text: str) -> bool:
    """Whether ``text`` holds Hangul (a notebook of the Korean edition, say)."""
    return any("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" for ch in text)


# ---------------------------------------------------------------------------
# Hangul in figures
# ---------------------------------------------------------------------------

HOUSE_FONT = "DejaVu Sans"  # matplotlib's default, the kit's figures' font
HANGUL_FONT = "NanumGothic"  # SIL Open Font License; shipped by PyPI's koreanize-matplotlib


def hangul_font_file() -> Path | None:
    """NanumGothic's file, from the koreanize-matplotlib package (the `ko` extra), found
    without importing it (its import would rewrite matplotlib's settings)."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "fonts" / f"{HANGUL_FONT}.ttf"
    return path if path.is_file() else None


@cache
def font_family() -> tuple[str, ...]:
    """The font families for figures: the house font first, then the Hangul font, which
    matplotlib (3.6+) uses for each glyph the house font lacks. Registers the Hangul font
    with matplotlib's font manager on first use. Without the font (no `ko` extra): the house
    font alone."""
    path = hangul_font_file()
    if path is None:
        return (HOUSE_FONT,)
    from matplotlib import font_manager

    if HANGUL_FONT not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
        # its bold face too: bold text (lesson 06's stack-map bits) would otherwise fall back
        # to the regular face with a findfont warning in the cell's output
        # (the file declares weight 600, so it is entered as the family's bold, 700)
        bold = path.with_name(f"{HANGUL_FONT}Bold.ttf")
        if bold.is_file():
            font_manager.fontManager.addfont(str(bold))
            entry = font_manager.fontManager.ttflist[-1]
            font_manager.fontManager.ttflist[-1] = replace(entry, weight=700)
    return (HOUSE_FONT, HANGUL_FONT)


def use_hangul_font() -> tuple[str, ...]:
    """Make every later figure of this process able to draw Hangul: matplotlib's
    ``font.family`` becomes :func:`font_family` (Latin text keeps the house font)."""
    import matplotlib

    family = font_family()
    matplotlib.rcParams["font.family"] = list(family)
    return family


def figure_fonts():
    """A context for making a figure's text: in English nothing changes (the kit's figures
    stay as they were, byte for byte); in another language matplotlib's ``font.family``
    is :func:`font_family`, so text made inside can hold Hangul. A text takes its font when
    it is made, so a widget's figure keeps it for later states."""
    if language() == DEFAULT:
        return nullcontext()
    import matplotlib

    return matplotlib.rc_context({"font.family": list(font_family())})
