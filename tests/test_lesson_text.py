"""The lessons' text, read as a learner reads it.

Four checks, each parametrized by lesson so that a failure names the lesson:

(a) jargon: every technical term a lesson uses is defined in the glossary
    (notebooks/glossary.ipynb), and its first use in each lesson is a link to that entry
    (``[stack map](glossary.ipynb#stack-map)``) or its definition in place, in bold;
(b) no lesson or exercise points the learner at a document the learner does not have;
(c) a prose budget per markdown cell and per lesson (``pytest -s`` prints the table);
(d) no ``assert`` in a lesson's code cells: checks of the kit's claims live in
    tests/test_lesson_claims.py.

What counts as jargon (a):
- the glossary's own entries, matched by their heading and the aliases in ``ALIASES``;
- backticked runtime identifiers: camelCase names (`funcMaxSPDelta`, `stackguard0`) and
  ``runtime.name`` (the name must be an entry or an alias);
- backticked names of functions of the Go runtime (`gogo`, `memmove`), read from the
  toolchain's own source (GOROOT/src/runtime) when Go is installed;
- ALL-CAPS words in prose (`NOSPLIT`, `GC`, `R14`), except everyday ones (``PLAIN_CAPS``).
The concept table (a reference for later, read after the prose) and the navigation cell are
not scanned, nor are headings. Occurrences inside a backticked expression (`SP - (F-128)`)
do not count as a use, since no link fits inside one.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import nbformat
import pytest

from gostack import course, realgo

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [ROOT / "notebooks" / le.filename for le in course.LESSONS]
GLOSSARY = ROOT / "notebooks" / course.GLOSSARY
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
CONCEPT_TABLE = "| Concept | gostack | Go runtime |"

# (c) The budget. 150 words is what fits on one screen of JupyterLab beside the code it
# introduces (about 15 lines of 100 characters); a longer cell is read as a wall and skipped.
# 1,000 words is about five minutes of reading at 200 words a minute: a lesson's time should
# go to running cells, reading their output and moving widgets, not to prose.
MAX_WORDS_PER_CELL = 150
MAX_WORDS_PER_LESSON = 1000

# (a) Entries whose word is too general to ask for a link at its first use in every lesson.
NOT_LINKED = {"stack"}
# Runtime function names that read as plain words here (Python's `Lock`, `runtime.main`).
PLAIN_NAMES = {"Lock", "main"}
# Everyday capitals that need no glossary entry.
PLAIN_CAPS = {"CPU", "CPUs", "RAM", "OS", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "JSON",
              "README", "VM", "JVM", "ID", "URL", "UTC", "API", "PDF", "HTTP", "AM", "PM", "II"}
# More ways to write a glossary entry (anchor -> regular expressions). Patterns are
# case-sensitive; the heading itself is matched too (case-insensitively if it is lowercase).
ALIASES: dict[str, tuple[str, ...]] = {
    "adaptive-start": (r"[Aa]daptive start(?:ing (?:stack )?size)?", r"startingStackSize",
                       r"gcComputeStartingStackSize"),
    "adjustframe": (r"adjustpointers?",),
    "adjustsudogs": (r"adjustdefers", r"adjustpanics", r"adjustctxt"),
    "BP": (r"[Ff]rame pointer",),
    "context-switch": (r"[Cc]ontext[- ]switch(?:es|ing)?",),
    "contiguous-stack": (r"[Cc]ontiguous stacks?",),
    "delta": (r"`delta`",),
    "escape-analysis": (r"moved to heap",),
    "fixed-stack": (r"[Ff]ixed stacks?",),
    "frame": (r"frames?",),
    "G": (r"Gs", r"`g`"),
    "garbage-collector": (r"GCs?", r"[Gg]arbage collect(?:or|ion)"),
    "gopark-and-goready": (r"gopark", r"goready"),
    "goroutine": (r"[Gg]oroutines?",),
    "hot-split": (r"[Hh]ot[- ]splits?",),
    "leaf-function": (r"leaf functions?",),
    "M": (r"Ms",),
    "mode-switch": (r"[Mm]ode switch(?:es)?",),
    "morestack": (r"morestack_noctxt",),
    "P": (r"Ps",),
    "page": (r"pages?",),
    "pcsp-table": (r"pcsp",),
    "poisoning": (r"[Pp]oison(?:ing|ed|s)?", r"stackPoisonCopy"),
    "preemption": (r"[Pp]reempt(?:ion|ed|s)?", r"preemptone", r"suspendG", r"preemptPark",
                   r"preemptStop", r"gopreempt_m"),
    "prologue": (r"[Pp]rologues?",),
    "register": (r"R12", r"R14", r"registers?"),
    "reserved-vs-resident": (r"resident",),
    "return-address": (r"[Rr]eturn address(?:es)?",),
    "running-example": (r"[Rr]unning example", r"`worker`", r"`recA`"),
    "safe-point": (r"safe points?",),
    "segmented-stack": (r"[Ss]egmented stacks?",),
    "shrinking": (r"shrinkstack", r"[Ss]hrink(?:s|ing)?"),
    "SP": (r"[Ss]tack pointer",),
    "span": (r"spans?",),
    "stack-map": (r"[Ss]tack maps?",),
    "stack.lo-and-stack.hi": (r"`lo`", r"`hi`", r"stack\.lo", r"stack\.hi"),
    "stackalloc": (r"stackfree",),
    "sudog": (r"sudogs",),
    "system-call": (r"[Ss]ystem calls?", r"syscalls?", r"`mmap`", r"`clone`", r"`mprotect`"),
    "TEXT-line": (r"TEXT",),
    "throw": (r"throws?",),
    "uintptr": (r"uintptrs",),
}


# --- reading notebooks ------------------------------------------------------------------------

@cache
def _cells(path: Path) -> tuple[tuple[str, str], ...]:
    nb = nbformat.read(path, as_version=4)
    return tuple((c.cell_type, c.source) for c in nb.cells)


def _prose_cells(path: Path) -> list[tuple[int, str]]:
    """(cell index, text) of the markdown a learner reads as prose: not the concept table,
    not the generated navigation cell."""
    cells = _cells(path)
    return [(i, src) for i, (kind, src) in enumerate(cells)
            if kind == "markdown" and not src.startswith(CONCEPT_TABLE)
            and not (i == len(cells) - 1 and "[Index](../README.md#lessons)" in src)]


def _ids(paths):
    return [p.stem for p in paths]


# --- the glossary -----------------------------------------------------------------------------

def anchor(heading: str) -> str:
    """JupyterLab's id for a heading: its text (without markup) with spaces turned into '-'
    (@jupyterlab/rendermime, headerAnchors)."""
    return re.sub(r"[`*]", "", heading).strip().replace(" ", "-")


@cache
def glossary() -> dict[str, str]:
    """anchor -> heading of every entry (a level-3 heading)."""
    found = {}
    for kind, src in _cells(GLOSSARY):
        for line in src.splitlines():
            if kind == "markdown" and line.startswith("### "):
                found[anchor(line[4:])] = line[4:].strip()
    return found


@cache
def _patterns() -> dict[str, re.Pattern]:
    """anchor -> one regular expression for every way of writing the entry."""
    out = {}
    for key, head in glossary().items():
        words = re.escape(head) + "s?"
        alts = [f"(?i:{words})" if head == head.lower() else words, *ALIASES.get(key, ())]
        out[key] = re.compile(r"(?<![\w.$/])(?:" + "|".join(alts) + r")(?![\w/])")
    return out


# --- (a) jargon -------------------------------------------------------------------------------

LINK = re.compile(r"\[([^\]]*)\]\(glossary\.ipynb#([^)\s]+)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`[^`\n]+`")
CAMEL = re.compile(r"`((?:runtime\.)?[a-z][a-z0-9]*(?:[A-Z][A-Za-z0-9]*|[0-9]+))`")
RUNTIME = re.compile(r"`runtime\.([A-Za-z_][A-Za-z0-9_]*)`")
BARE = re.compile(r"`(?:runtime\.)?([A-Za-z_][A-Za-z0-9_]{3,})(?:\(\))?`")


@cache
def runtime_funcs() -> frozenset[str]:
    """Names of the functions in the Go runtime's source (empty without Go)."""
    go = realgo.available()
    if not go:
        return frozenset()
    root = go.goroot or subprocess.run([go.go, "env", "GOROOT"], capture_output=True,
                                       text=True, check=True).stdout.strip()
    func = re.compile(r"^func (?:\([^)]*\) )?([A-Za-z_]\w*)", re.M)
    return frozenset(m.group(1) for f in (Path(root) / "src" / "runtime").glob("*.go")
                     for m in func.finditer(f.read_text(encoding="utf-8", errors="replace")))
CAPS = re.compile(r"(?<![\w.$/])[A-Z][A-Z0-9]+s?(?![\w/])")


def _resolve(term: str) -> str | None:
    """The glossary anchor a written term belongs to, if any."""
    for key, pat in _patterns().items():
        if pat.fullmatch(term) or pat.fullmatch(f"`{term}`"):
            return key
    return None


def _masked(text: str) -> str:
    """Headings blanked, and backticked expressions (code spans that are not a single
    identifier) blanked, so that only uses a link could wrap are seen."""
    text = re.sub(r"(?m)^#.*$", lambda m: " " * len(m.group()), text)

    def code(m):
        inner = m.group()[1:-1]
        return m.group() if re.fullmatch(r"[\w.]+(?:\(\))?", inner) else " " * len(m.group())
    return CODE.sub(code, text)


def jargon_problems(path: Path) -> list[str]:
    return jargon_problems_in(_prose_cells(path))


def jargon_problems_in(cells: list[tuple[int, str]]) -> list[str]:
    """What (a) finds in a lesson's prose cells, (index, markdown), in reading order."""
    problems = []
    seen: set[str] = set()  # entries already used, and unknown names already reported
    known = glossary()
    for i, src in cells:
        text = _masked(src)
        # Spans that count as a definition of the entry they name: glossary links (the entry
        # they point at) and bold text (any term inside it).
        links = [(m.start(), m.end(), m.group(2)) for m in LINK.finditer(text)]
        bolds = [(m.start(), m.end()) for m in BOLD.finditer(text)]
        for _, _, key in links:
            if key not in known:
                problems.append(f"cell {i}: link to glossary.ipynb#{key}, which has no entry")
        uses: list[tuple[int, str, str]] = []  # (position, anchor, as written)
        for key, pat in _patterns().items():
            uses += [(m.start(), key, m.group()) for m in pat.finditer(text)]
        prose = CODE.sub(lambda m: " " * len(m.group()), text)
        unknown = [(m.start(), m.group(1)) for m in CAMEL.finditer(text)]
        unknown += [(m.start(), m.group(1)) for m in RUNTIME.finditer(text)]
        unknown += [(m.start(), m.group(1)) for m in BARE.finditer(text)
                    if m.group(1) in runtime_funcs() and m.group(1) not in PLAIN_NAMES]
        unknown += [(m.start(), m.group()) for m in CAPS.finditer(prose)
                    if m.group() not in PLAIN_CAPS and m.group().rstrip("s") not in PLAIN_CAPS]
        for pos, term in sorted(unknown):
            name = term.removeprefix("runtime.")
            if _resolve(name) is None and name not in seen:
                seen.add(name)
                if not any(a <= pos < b for a, b in bolds):
                    problems.append(f"cell {i}: {term!r} is not in the glossary "
                                    "(add an entry, or define it here in bold)")
        for pos, key, written in sorted(uses):
            if key in seen or key in NOT_LINKED:
                continue
            inside = [k for a, b, k in links if a <= pos < b]
            if inside and inside[0] != key:
                continue  # part of another entry's link text ("guard page" holds "page")
            seen.add(key)
            if not inside and not any(a <= pos < b for a, b in bolds):
                problems.append(f"cell {i}: first use of {written!r} should link to "
                                f"glossary.ipynb#{key} (or define it in bold)")
    return problems


def test_glossary_is_markdown_only_alphabetical_and_short():
    cells = _cells(GLOSSARY)
    assert all(kind == "markdown" for kind, _ in cells)
    heads = list(glossary().values())
    assert heads == sorted(heads, key=str.lower), "glossary entries out of alphabetical order"
    for _, src in cells:
        if src.startswith("### "):
            words = len(_words(src))
            assert words <= 70, f"{src.splitlines()[0]}: {words} words (keep entries short)"
            assert "Shown in:" in src, f"{src.splitlines()[0]}: say where the course shows it"


def test_glossary_points_at_lessons_that_use_the_term():
    """An entry's "Shown in" lessons each name the term somewhere (prose, table or code)."""
    wrong = []
    for _, src in _cells(GLOSSARY):
        if not src.startswith("### "):
            continue
        key = anchor(src.splitlines()[0][4:])
        for stem in re.findall(r"\]\((\d\d-[\w-]+)\.ipynb\)", src.split("Shown in:")[-1]):
            text = "\n".join(s for _, s in _cells(ROOT / "notebooks" / f"{stem}.ipynb"))
            text = text.replace("runtime.", "runtime. ")  # `runtime.LockOSThread` names it
            if not _patterns()[key].search(text):
                wrong.append(f"{key}: {stem}")
    assert not wrong, f"glossary entries shown in lessons that never name them: {wrong}"


def test_every_alias_names_an_entry():
    assert not set(ALIASES) - set(glossary()), "aliases for entries the glossary lacks"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_jargon_is_defined_and_linked_at_first_use(path):
    problems = jargon_problems(path)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_the_jargon_check_catches_what_it_should():
    """The check itself, on made-up text: an unknown runtime name, an unlinked first use, a
    link to a missing entry; and what passes."""
    def check(text):
        return jargon_problems_in([(0, text)])
    assert any("'funcMaxSPDeltaX'" in p for p in check("It reads `funcMaxSPDeltaX` first."))
    assert any("'XYZZY'" in p for p in check("XYZZY functions have no check."))
    assert any("stack-map" in p for p in check("A stack map has one bit per word."))
    assert any("no entry" in p for p in check("A [thing](glossary.ipynb#no-such-entry)."))
    assert check("A [stack map](glossary.ipynb#stack-map) has bits; a stack map is small.") == []
    assert check("A **stack map** has bits. `XYZZY` is code, and so is `SP - 8`.") == []


# --- (b) documents the learner does not have ------------------------------------------------

UNAVAILABLE = re.compile(
    r"facts?[ -]sheet|go-stack-facts|\breference/|shared notes|seed-post\.md|"
    r"style-by-example|grading-anchors|thread-cost\.md|/work/", re.IGNORECASE)


def _visible_text(path: Path) -> list[tuple[int, str]]:
    nb = nbformat.read(path, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        parts = [cell.source]
        for o in cell.get("outputs", []):
            text = o.get("text") or o.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        out.append((i, "\n".join(parts)))
    return out


@pytest.mark.parametrize("path", [*LESSONS, GLOSSARY, *EXERCISES],
                         ids=_ids([*LESSONS, GLOSSARY, *EXERCISES]))
def test_no_mention_of_documents_the_learner_lacks(path):
    hits = [f"cell {i}: ...{text[max(0, m.start() - 40):m.end() + 20]!r}..."
            for i, text in _visible_text(path) for m in UNAVAILABLE.finditer(text)]
    assert not hits, f"{path.name} points at what a learner does not have:\n  " + "\n  ".join(hits)


# --- (c) prose budget -------------------------------------------------------------------------

def _words(markdown: str) -> list[str]:
    text = re.sub(r"\]\([^)]*\)", "]", markdown)  # a link counts by its text, not its address
    text = re.sub(r"<[^>]+>", " ", text)  # HTML tags (<details>, <summary>)
    return [w for w in text.split() if re.search(r"[\w]", w)]


def prose_words(path: Path) -> list[tuple[int, int]]:
    """(cell index, words) of every prose cell of a lesson."""
    return [(i, len(_words(src))) for i, src in _prose_cells(path)]


@pytest.fixture(scope="module", autouse=True)
def _budget_table(request):
    """With -s, a table of every lesson's prose: total, longest cell, cells over budget."""
    yield
    if request.config.getoption("capture") != "no":
        return
    print(f"\n\n{'lesson':<24}{'words':>7}{'cells':>7}{'longest':>9}  over {MAX_WORDS_PER_CELL}")
    for path in LESSONS:
        counts = prose_words(path)
        over = [f"{i}:{n}" for i, n in counts if n > MAX_WORDS_PER_CELL]
        longest = max((n for _, n in counts), default=0)
        print(f"{path.stem:<24}{sum(n for _, n in counts):>7}{len(counts):>7}{longest:>9}  "
              f"{' '.join(over) or '-'}")


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_prose_per_cell(path):
    over = [(i, n) for i, n in prose_words(path) if n > MAX_WORDS_PER_CELL]
    assert not over, (f"{path.name}: cells over {MAX_WORDS_PER_CELL} words "
                      f"(cell, words): {over}")


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_prose_per_lesson(path):
    total = sum(n for _, n in prose_words(path))
    assert total <= MAX_WORDS_PER_LESSON, f"{path.name}: {total} words of prose"


# --- (d) no asserts in lessons ----------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_no_assert_in_lesson_code(path):
    found = [i for i, (kind, src) in enumerate(_cells(path))
             if kind == "code" and re.search(r"(?m)^\s*assert\b", src)]
    assert not found, (f"{path.name}: cells {found} assert; a claim's check belongs in "
                       "tests/test_lesson_claims.py")
