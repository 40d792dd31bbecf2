"""Translated editions of the notebooks: gettext catalogs in, notebooks out.

    python scripts/translate_notebooks.py update          # English notebooks -> i18n/ko/**/*.po
    python scripts/translate_notebooks.py build           # .po + English -> notebooks/ko/ ...
    python scripts/translate_notebooks.py build --ci      # refuse a missing or fuzzy translation
    python scripts/translate_notebooks.py build --no-execute
    python scripts/translate_notebooks.py status          # what is missing, per notebook

`make translations` runs update, then build (executing what changed).

One catalog per English notebook, ``i18n/<lang>/<folder>/<stem>.po`` (``folder`` is
notebooks, exercises or solutions): one entry per markdown cell, ``msgctxt`` the cell's id,
``msgid`` its English source, ``msgstr`` the translation. ``update`` behaves like msgmerge: a
new cell gets an empty entry, a changed cell keeps its old translation marked ``fuzzy`` (with
the old English as ``#| msgid``), a removed cell becomes obsolete (``#~``), and an English text
translated already in another catalog of the language (an exercise and its solution share
their prose) is filled in from there.

``build`` writes ``<folder>/<lang>/<stem>.ipynb``: the English notebook with each markdown cell
replaced by its translation, and every code cell the English one, by construction. Links in a
translation are written as in the English text (relative to the English notebook); the build
points them at the translated notebooks and the translated README, from the new folder. A
translated notebook keeps its outputs while its code cells and the English outputs stay the
same; otherwise it is executed (the kernel starts in ``<folder>/<lang>/``, which makes gostack
speak the language). What was built from what is recorded in ``i18n/<lang>/built.json``.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import posixpath
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import polib

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from gostack import nbtools  # noqa: E402

LANGUAGES = ("ko",)
FOLDERS = ("notebooks", "exercises", "solutions")
README = {"ko": "README.ko.md"}
LANGUAGE_NAMES = {"ko": "Korean"}
FUZZY_RATIO = 0.5  # a changed cell keeps its old translation (fuzzy) when this similar


@dataclass(frozen=True)
class Source:
    """One English notebook and what the translation pipeline makes of it."""

    lang: str
    folder: str  # notebooks, exercises, solutions
    name: str  # 03-prologue.ipynb

    @property
    def english(self) -> Path:
        return ROOT / self.folder / self.name

    @property
    def po(self) -> Path:
        return ROOT / "i18n" / self.lang / self.folder / (Path(self.name).stem + ".po")

    @property
    def target(self) -> Path:
        return ROOT / self.folder / self.lang / self.name

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.name}"


def sources(lang: str = "ko", root: Path | None = None) -> list[Source]:
    """Every English lesson, glossary, exercise and solution notebook."""
    root = ROOT if root is None else root
    return [Source(lang, folder, p.name) for folder in FOLDERS
            for p in sorted((root / folder).glob("*.ipynb"))]


def markdown_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.id, c.source) for c in nb.cells if c.cell_type == "markdown"]


# ---------------------------------------------------------------------------
# update: English notebooks -> catalogs
# ---------------------------------------------------------------------------


def new_catalog(lang: str) -> polib.POFile:
    po = polib.POFile()  # polib's wrapping (78 columns), as the translators' files have
    po.metadata = {
        "Project-Id-Version": "gostack",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return po


def load(path: Path, lang: str) -> polib.POFile:
    if path.exists():
        return polib.pofile(str(path))
    return new_catalog(lang)


def current(entry: polib.POEntry | None) -> bool:
    """Translated, and for the English text it names."""
    return (entry is not None and not entry.obsolete and bool(entry.msgstr.strip())
            and "fuzzy" not in entry.flags)


def compendium(lang: str, root: Path | None = None) -> dict[str, str]:
    """English text -> a current translation, over every catalog of the language."""
    root = ROOT if root is None else root
    found: dict[str, str] = {}
    for po_path in sorted((root / "i18n" / lang).rglob("*.po")):
        for e in polib.pofile(str(po_path)):
            if current(e):
                found.setdefault(e.msgid, e.msgstr)
    return found


def merge(po: polib.POFile, cells: list[tuple[str, str]], known: dict[str, str]) -> dict:
    """Make ``po`` hold exactly one entry per cell, in cell order (msgmerge's semantics, see
    the module docstring); return counts of what happened."""
    old = [e for e in po if not e.obsolete]
    by_ctx = {e.msgctxt: e for e in old}
    by_text: dict[str, polib.POEntry] = {}
    for e in old:
        if current(e):
            by_text.setdefault(e.msgid, e)
    ctxs = {c for c, _ in cells}
    reused: set[int] = set()  # old entries whose translation went to a changed cell
    entries = []
    stats = {"new": 0, "fuzzy": 0, "filled": 0, "obsolete": 0}
    for ctx, text in cells:
        e = by_ctx.get(ctx)
        if e is not None and e.msgid == text:
            if not e.msgstr.strip() and text in known:
                e.msgstr = known[text]
                stats["filled"] += 1
            entries.append(e)
            continue
        entry = polib.POEntry(msgctxt=ctx, msgid=text, msgstr="")
        if text in by_text:  # the same English under another id (cells renumbered)
            entry.msgstr = by_text[text].msgstr
            entry.tcomment = by_text[text].tcomment
        elif text in known:  # translated in another catalog (an exercise and its solution)
            entry.msgstr = known[text]
            stats["filled"] += 1
        else:
            # A changed cell: the old translation of the same id if similar enough, else of
            # the most similar entry no cell claims, kept and marked fuzzy.
            pool = ([e] if e is not None else []) + [
                o for o in old if o is not e and o.msgctxt not in ctxs]
            best, ratio = None, 0.0
            for cand in pool:
                if cand.msgstr.strip():
                    r = difflib.SequenceMatcher(None, cand.msgid, text, autojunk=False).ratio()
                    if r > ratio:
                        best, ratio = cand, r
            if best is not None and ratio >= FUZZY_RATIO:
                reused.add(id(best))
                entry.msgstr, entry.tcomment = best.msgstr, best.tcomment
                entry.flags = ["fuzzy"]
                entry.previous_msgid = best.msgid
                stats["fuzzy"] += 1
            else:
                stats["new"] += 1
        entries.append(entry)
    texts = {x.msgid for x in entries}
    kept = {id(x) for x in entries} | reused
    gone = [e for e in old if id(e) not in kept and e.msgid not in texts and e.msgstr.strip()]
    for e in gone:
        e.obsolete = True
    stats["obsolete"] = len(gone)
    older = [e for e in po if e.obsolete and id(e) not in {id(g) for g in gone}
             and e.msgid not in texts]
    po[:] = entries + gone + older
    return stats


def update(lang: str = "ko", only: list[Source] | None = None, quiet: bool = False) -> None:
    known = compendium(lang)
    if only is None:  # the course list too: the words of README.<lang>.md's table
        po = load(course_po(lang), lang)
        before = po.__unicode__() if course_po(lang).exists() else None
        merge(po, course_entries(), known)
        if po.__unicode__() != before:
            course_po(lang).write_text(po.__unicode__(), encoding="utf-8")
            if not quiet:
                print(f"updated {course_po(lang).relative_to(ROOT)}")
    for src in only or sources(lang):
        nb = nbformat.read(src.english, as_version=4)
        po = load(src.po, lang)
        before = po.__unicode__() if src.po.exists() else None
        stats = merge(po, markdown_cells(nb), known)
        text = po.__unicode__()
        if text != before:
            src.po.parent.mkdir(parents=True, exist_ok=True)
            src.po.write_text(text, encoding="utf-8")
            if not quiet:
                what = ", ".join(f"{v} {k}" for k, v in stats.items() if v)
                print(f"updated {src.po.relative_to(ROOT)}" + (f" ({what})" if what else ""))


# ---------------------------------------------------------------------------
# build: catalogs + English notebooks -> translated notebooks
# ---------------------------------------------------------------------------

_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)(>?(?:\s+\"[^\"]*\")?\s*\))"
                   r"|((?:href|src)=[\"'])([^\"']+)([\"'])")


def translated_path(repo_path: str, lang: str, root: Path | None = None) -> str:
    """A repository path (posix, relative to the root) -> its translated counterpart, when
    there is one (or will be: an English lesson, exercise or solution; the README)."""
    root = ROOT if root is None else root
    head, _, rest = repo_path.partition("/")
    if head in FOLDERS and "/" not in rest and rest.endswith(".ipynb") \
            and (root / head / rest).exists():
        return f"{head}/{lang}/{rest}"
    if repo_path == "README.md" and lang in README:
        return README[lang]
    return repo_path


def rewrite_links(text: str, src: Source, root: Path | None = None) -> str:
    """Links written relative to the English notebook -> relative to the translated one,
    pointing at the translated notebooks and README."""
    here = src.folder
    there = f"{src.folder}/{src.lang}"

    def fix(target: str) -> str:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return target
        path, sep, anchor = target.partition("#")
        if not path:
            return target
        repo = posixpath.normpath(posixpath.join(here, path))
        if repo.startswith("../"):
            return target
        new = translated_path(repo, src.lang, root)
        return posixpath.relpath(new, there) + sep + anchor

    def sub(m: re.Match) -> str:
        if m.group(1) is not None:
            return m.group(1) + fix(m.group(2)) + m.group(3)
        return m.group(4) + fix(m.group(5)) + m.group(6)

    return _LINK.sub(sub, text)


class Untranslated(Exception):
    pass


def problems(src: Source) -> list[str]:
    """What keeps a notebook's translation from being current (empty: nothing)."""
    if not src.po.exists():
        return [f"{src.key}: no catalog {src.po.relative_to(ROOT)}"]
    nb = nbformat.read(src.english, as_version=4)
    po = polib.pofile(str(src.po))
    by_ctx = {e.msgctxt: e for e in po if not e.obsolete}
    out = []
    missing, fuzzy, untranslated = [], [], []
    for ctx, text in markdown_cells(nb):
        e = by_ctx.get(ctx)
        if e is None or e.msgid != text:
            missing.append(ctx)
        elif "fuzzy" in e.flags:
            fuzzy.append(ctx)
        elif not e.msgstr.strip():
            untranslated.append(ctx)
    for what, ids in (("not in the catalog (run update)", missing), ("fuzzy", fuzzy),
                      ("untranslated", untranslated)):
        if ids:
            out.append(f"{src.key}: {len(ids)} cell(s) {what}: {', '.join(ids)}")
    return out


def translate(src: Source, strict: bool = False) -> nbformat.NotebookNode:
    """The translated notebook (outputs as in the English one, to be re-executed)."""
    nb = nbformat.read(src.english, as_version=4)
    po = polib.pofile(str(src.po)) if src.po.exists() else new_catalog(src.lang)
    by_ctx = {e.msgctxt: e for e in po if not e.obsolete}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        e = by_ctx.get(cell.id)
        if current(e) and e.msgid == cell.source:
            text = e.msgstr
        elif strict:
            raise Untranslated(f"{src.key}, {cell.id}: no current translation")
        else:
            text = cell.source  # the English, until translated (status and the test say so)
        cell.source = rewrite_links(text, src)
    return nb


def _code_shape(nb: nbformat.NotebookNode) -> list:
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", [])))
            for c in nb.cells if c.cell_type != "markdown"]


def english_stamp(src: Source) -> str:
    """What the translated outputs depend on: the English code cells and their outputs, and
    the package's compiled messages for the language (not the .po's comments)."""
    nb = nbformat.read(src.english, as_version=4)
    h = hashlib.sha256()
    for c in nb.cells:
        if c.cell_type == "code":
            h.update(json.dumps([c.source, c.get("outputs", [])], sort_keys=True).encode())
    messages = ROOT / "gostack" / "locale" / src.lang / "LC_MESSAGES" / "gostack.mo"
    if messages.exists():
        h.update(messages.read_bytes())
    return h.hexdigest()[:16]


def stamps_path(lang: str) -> Path:
    return ROOT / "i18n" / lang / "built.json"


def read_stamps(lang: str) -> dict[str, str]:
    path = stamps_path(lang)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def build(lang: str = "ko", strict: bool = False, execute: bool = True, force: bool = False,
          only: list[Source] | None = None) -> list[str]:
    """Write the translated notebooks; return the problems found (missing translations)."""
    stamps = read_stamps(lang)
    found: list[str] = []
    to_run: list[Source] = []
    for src in only or sources(lang):
        issues = problems(src)
        found += issues
        if not src.po.exists():
            continue
        if strict and issues:
            continue
        nb = nbformat.read(src.english, as_version=4)
        new = nbtools.clean(translate(src))
        src.target.parent.mkdir(parents=True, exist_ok=True)
        stamp = english_stamp(src)
        old = nbformat.read(src.target, as_version=4) if src.target.exists() else None
        reuse = (old is not None and not force and _code_shape(old) == _code_shape(nb)
                 and len(old.cells) == len(new.cells) and stamps.get(src.key) == stamp)
        if reuse:
            for cell, prev in zip(new.cells, old.cells, strict=True):
                if cell.cell_type == "code":
                    cell.outputs = prev.outputs
                    cell.execution_count = prev.get("execution_count")
                    cell.metadata = prev.metadata
        else:
            to_run.append(src)
        if old is None or nbformat.writes(nbtools.clean(old)) != nbformat.writes(new):
            nbtools.write_atomic(new, src.target)
            print(f"wrote {src.target.relative_to(ROOT)}")
        if reuse:
            stamps[src.key] = stamp
    if execute and to_run:
        nbtools.run([s.target for s in to_run])
        for s in to_run:
            stamps[s.key] = english_stamp(s)
    elif to_run:
        for s in to_run:
            print(f"not executed: {s.target.relative_to(ROOT)}", file=sys.stderr)
    keys = {s.key for s in sources(lang)}
    stamps = {k: v for k, v in sorted(stamps.items()) if k in keys}
    path = stamps_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(stamps, indent=1, sort_keys=True) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return found


def stale(src: Source) -> list[str]:
    """How the committed translated notebook differs from what build makes (empty: none)."""
    if not src.target.exists():
        return [f"{src.key}: no {src.target.relative_to(ROOT)} (run make translations)"]
    want = nbtools.clean(translate(src))
    have = nbformat.read(src.target, as_version=4)
    out = []
    if len(want.cells) != len(have.cells):
        return [f"{src.key}: {len(have.cells)} cells, the English has {len(want.cells)}"]
    for w, h in zip(want.cells, have.cells, strict=True):
        if (w.cell_type, w.source, w.metadata.get("tags", []) if w.cell_type == "markdown"
                else None) != (h.cell_type, h.source, h.metadata.get("tags", [])
                               if h.cell_type == "markdown" else None):
            out.append(f"{src.key}, {w.id}: the {w.cell_type} cell differs from the build")
        elif w.cell_type == "code" and ([t for t in w.metadata.get("tags", []) if t != "widget"]
                                        != [t for t in h.metadata.get("tags", [])
                                            if t != "widget"]):
            out.append(f"{src.key}, {w.id}: the code cell's tags differ")
    if read_stamps(src.lang).get(src.key) != english_stamp(src):
        out.append(f"{src.key}: executed before the English code or outputs last changed "
                   "(run make translations)")
    return out


# ---------------------------------------------------------------------------
# the course list and README.<lang>.md
# ---------------------------------------------------------------------------

INDEX_BEGIN = "<!-- lessons:begin (generated by scripts/translate_notebooks.py readme) -->"
INDEX_END = "<!-- lessons:end -->"
COURSE_WORDS = ("Lesson", "What it teaches", "Exercises", "Glossary",
                "every term the lessons use, and the seed post's words", "not yet translated")


def course_entries() -> list[tuple[str, str]]:
    """(msgctxt, English) of the words of the lesson table. The lessons' titles and what each
    teaches are gostack's own messages (gostack.po), as lesson 00's map shows them."""
    return [(f"table:{i}", w) for i, w in enumerate(COURSE_WORDS)]


def course_po(lang: str) -> Path:
    return ROOT / "i18n" / lang / "course.po"


def course_words(lang: str) -> dict[str, str]:
    """msgctxt -> the translation (the English where there is no current one): the table's
    words from course.po, each lesson's ``<stem>:title`` and ``<stem>:teaches`` from
    gostack's catalog."""
    from gostack import i18n
    from gostack.course import LESSONS

    path = course_po(lang)
    po = polib.pofile(str(path)) if path.exists() else new_catalog(lang)
    by_ctx = {e.msgctxt: e for e in po if not e.obsolete}
    words = {ctx: (by_ctx[ctx].msgstr if current(by_ctx.get(ctx)) and by_ctx[ctx].msgid == text
                   else text) for ctx, text in course_entries()}
    with i18n.using(lang):
        for le in LESSONS:
            words[f"{le.stem}:title"] = i18n._(le.title)
            words[f"{le.stem}:teaches"] = i18n._(le.teaches)
    return words


def readme_index(lang: str = "ko", root: Path | None = None) -> str:
    """The lesson table of README.<lang>.md, from the same list as README.md's
    (gostack.course), linking the translated lessons and exercises."""
    from gostack.course import GLOSSARY, LESSONS

    root = ROOT if root is None else root
    w = course_words(lang)
    late = f" ({w['table:5']})"

    def link(folder: str, name: str, text: str) -> str:
        if (root / folder / lang / name).exists():
            return f"[{text}]({folder}/{lang}/{name})"
        return f"[{text}]({folder}/{name}){late}"

    rows = [f"| # | {w['table:0']} | {w['table:1']} | {w['table:2']} |", "|---|---|---|---|"]
    for le in LESSONS:
        if not (root / "notebooks" / le.filename).exists():
            continue
        title = link("notebooks", le.filename, w[f"{le.stem}:title"])
        exs = ", ".join(link("exercises", f"{e}.ipynb", e) for e in le.exercises
                        if (root / "exercises" / f"{e}.ipynb").exists()) or "–"
        rows.append(f"| {le.number:02d} | {title} | {w[f'{le.stem}:teaches']} | {exs} |")
    if (root / "notebooks" / GLOSSARY).exists():
        rows.append(f"| – | {link('notebooks', GLOSSARY, w['table:3'])} | {w['table:4']} | – |")
    return "\n".join(rows)


def readme(lang: str = "ko", write: bool = True) -> bool:
    """Regenerate the lesson table of README.<lang>.md; return whether it changed."""
    path = ROOT / README[lang]
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(INDEX_BEGIN, 1)
    _, tail = rest.split(INDEX_END, 1)
    new = f"{head}{INDEX_BEGIN}\n{readme_index(lang)}\n{INDEX_END}{tail}"
    if new != text and write:
        path.write_text(new, encoding="utf-8")
    return new != text


# ---------------------------------------------------------------------------
# messages: the package's own messages (gettext through Babel)
# ---------------------------------------------------------------------------

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "Aspect": (2,)}
LOCALE = ROOT / "gostack" / "locale"


def extract():
    """The package's messages, as a Babel catalog (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="gostack", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT / "gostack"), method_map=[("**.py", "python")],
            keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, None, [(f"gostack/{filename}", lineno)],
                     auto_comments=comments, context=context)
    return template


def messages(lang: str = "ko") -> list[str]:
    """Extract the package's messages (``_``, ``N_``, ``ngettext``, aspect titles), merge
    them into ``gostack/locale/<lang>/LC_MESSAGES/gostack.po`` (msgmerge's semantics) and
    compile the ``.mo``; return the entries still untranslated or fuzzy."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    template = extract()
    po_path = LOCALE / lang / "LC_MESSAGES" / "gostack.po"
    if po_path.exists():
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=lang)
    else:
        catalog = Catalog(locale=lang, project="gostack", fuzzy=False)
    catalog.update(template, no_fuzzy_matching=False)
    catalog.obsolete.clear()  # the history is git's
    catalog.fuzzy = False
    po_path.parent.mkdir(parents=True, exist_ok=True)
    write_catalog(catalog, po_path)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and (not m.string or m.fuzzy
                         or (isinstance(m.string, tuple) and not all(m.string)))]


def write_catalog(catalog, po_path: Path) -> None:
    """The .po (no dates, no line numbers: it changes only when a message does) and its .mo."""
    import io

    from babel.messages.pofile import write_po

    catalog.creation_date = catalog.revision_date = None
    catalog.header_comment = "# gostack's own messages. Edit the msgstr; `make messages` merges."
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, omit_header=False, sort_output=False, include_lineno=False,
             no_location=False)
    text = re.sub(rb'"(POT-Creation-Date|PO-Revision-Date|Last-Translator|Language-Team|'
                  rb'Report-Msgid-Bugs-To|Generated-By): [^"]*\\n"\n', b"", buf.getvalue())
    if not po_path.exists() or po_path.read_bytes() != text:
        po_path.write_bytes(text)
    mo = compiled(po_path=po_path)
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists() or mo_path.read_bytes() != mo:
        mo_path.write_bytes(mo)


def compiled(lang: str = "ko", po_path: Path | None = None) -> bytes:
    """What the committed .po compiles to, fuzzy entries left out (a test compares it with
    the committed .mo): the same bytes for the same .po, always."""
    path = po_path or LOCALE / lang / "LC_MESSAGES" / "gostack.po"
    return polib.pofile(str(path)).to_binary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "build", "status", "messages", "readme"])
    parser.add_argument("--lang", default="ko", choices=LANGUAGES)
    parser.add_argument("--ci", action="store_true",
                        help="build: fail on any missing or fuzzy translation")
    parser.add_argument("--no-execute", action="store_true", help="build: write, do not execute")
    parser.add_argument("--check", action="store_true", help="readme: only say if it is stale")
    parser.add_argument("--force", action="store_true", help="build: execute every notebook")
    parser.add_argument("paths", nargs="*", help="only these English notebooks")
    args = parser.parse_intermixed_args(argv)
    chosen = sources(args.lang)
    if args.paths:
        wanted = {Path(p).resolve() for p in args.paths}
        chosen = [s for s in chosen if s.english.resolve() in wanted]
    if args.command == "update":  # no paths: every notebook and the table's words (course.po)
        update(args.lang, chosen if args.paths else None)
        return 0
    if args.command == "readme":
        changed = readme(args.lang, write=not args.check)
        if changed and args.check:
            print(f"{README[args.lang]} is out of date: run `make translations`",
                  file=sys.stderr)
            return 1
        if changed:
            print(f"updated {README[args.lang]}")
        return 0
    if args.command == "messages":
        todo = messages(args.lang)
        for msg in todo:
            print(f"untranslated: {msg!r}", file=sys.stderr)
        if todo:
            print(f"{len(todo)} message(s) of gostack/locale/{args.lang}/LC_MESSAGES/gostack.po "
                  "to translate", file=sys.stderr)
        return 1 if todo and args.ci else 0
    if args.command == "status":
        found = [p for s in chosen for p in problems(s) + (stale(s) if s.po.exists() else [])]
        for line in found:
            print(line)
        return 1 if found else 0
    found = build(args.lang, strict=args.ci, execute=not args.no_execute, force=args.force,
                  only=chosen)
    for line in found:
        print(f"{'error' if args.ci else 'todo'}: {line}", file=sys.stderr)
    if found:
        print(f"{len(found)} problem(s): the {LANGUAGE_NAMES[args.lang]} edition is incomplete",
              file=sys.stderr)
    return 1 if found and args.ci else 0


if __name__ == "__main__":
    raise SystemExit(main())
