"""The Korean edition (한국어판): the standing rule, the pipeline, the messages, the fonts.

The standing rule: every English lesson, glossary, exercise and solution notebook has a current
Korean counterpart (``notebooks/ko/``, ``exercises/ko/``, ``solutions/ko/``), built by
``scripts/translate_notebooks.py`` from its catalog ``i18n/ko/<folder>/<stem>.po``: every
markdown cell translated and not fuzzy, every code cell the English one, the built notebook
what the catalog and the English notebook make, executed since the English last changed.
``make translations`` fixes what it can; a missing translation is for a translator.

Grading a Korean submission gives exactly the points of the English one, with its feedback
in Korean.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import nbformat
import polib
import pytest
from test_korean_feedback import english_lines

import gostack as gs
from gostack import exercises as ex
from gostack import i18n, lab
from gostack.grade import catalog

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("translate_notebooks",
                                               ROOT / "scripts" / "translate_notebooks.py")
tn = importlib.util.module_from_spec(_spec)
sys.modules["translate_notebooks"] = tn  # dataclasses look their module up there
_spec.loader.exec_module(tn)

SOURCES = tn.sources("ko")
LESSONS = [s for s in SOURCES if s.folder == "notebooks"]
EXERCISES = [s for s in SOURCES if s.folder != "notebooks"]
# While LESSONS_PENDING is set (to a reason), a lesson whose only problems are cells waiting
# for a translator (fuzzy or untranslated: `python scripts/translate_notebooks.py status` lists
# them) is an expected failure that names them; every other problem fails. Empty: every Korean
# lesson must be current, as every exercise must.
LESSONS_PENDING = ""


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts from the language the environment picks, and leaves it so."""
    i18n.set_language(None)
    yield
    i18n.set_language(None)


def _standing_rule(src) -> list[str]:
    return tn.problems(src) + (tn.stale(src) if src.po.exists() else [])


@pytest.mark.parametrize("src", EXERCISES, ids=[s.key for s in EXERCISES])
def test_every_exercise_and_solution_has_a_current_korean_counterpart(src):
    found = _standing_rule(src)
    assert not found, "\n".join(found) + "\n(run `make translations`)"


@pytest.mark.parametrize("src", [pytest.param(s, id=s.key) for s in LESSONS])
def test_every_lesson_has_a_current_korean_counterpart(src):
    """While LESSONS_PENDING says so, cells waiting for the translator (fuzzy or untranslated)
    are an expected failure; anything else (no catalog entry for a cell, a stale build, a
    code cell that differs) fails as for the exercises."""
    found = _standing_rule(src)
    waiting = [f for f in found if re.search(r"cell\(s\) (fuzzy|untranslated)", f)]
    if LESSONS_PENDING and found and len(waiting) == len(found):
        pytest.xfail(f"{LESSONS_PENDING}: " + "; ".join(waiting))
    assert not found, "\n".join(found) + ("\n(run `make translations`; fuzzy or untranslated "
                                          "cells are a translator's)")


@pytest.mark.parametrize("src", [pytest.param(s, id=s.key) for s in SOURCES])
def test_korean_code_cells_are_the_english_ones(src):
    if not src.target.exists():
        pytest.skip(f"no {src.target.relative_to(ROOT)} yet (the standing rule reports it)")
    en = nbformat.read(src.english, as_version=4)
    ko = nbformat.read(src.target, as_version=4)
    assert [c.cell_type for c in ko.cells] == [c.cell_type for c in en.cells]
    for a, b in zip(en.cells, ko.cells, strict=True):
        if a.cell_type == "code":
            assert b.source == a.source, f"{b.id}: the code differs from {src.key}"


def test_korean_notebooks_are_clean():
    """Built through nbtools.clean, like every committed notebook: no noisy metadata."""
    from gostack import nbtools

    dirty = [s.target.relative_to(ROOT).as_posix() for s in SOURCES
             if s.target.exists() and not nbtools.is_clean(s.target)]
    assert not dirty, f"not clean: {dirty} (run `make translations`)"


def test_no_stray_korean_notebook():
    """Every notebook under a ko/ folder is built from an English one."""
    built = {s.target for s in SOURCES}
    stray = [p for folder in tn.FOLDERS for p in (ROOT / folder / "ko").glob("*.ipynb")
             if p not in built]
    assert not stray, f"Korean notebooks with no English source: {stray}"


def test_catalogs_are_in_the_format():
    """One entry per markdown cell, msgctxt its id, msgid its English text, Language: ko."""
    for src in SOURCES:
        if not src.po.exists():
            continue
        po = polib.pofile(str(src.po))
        assert po.metadata.get("Language") == "ko", src.po
        cells = tn.markdown_cells(nbformat.read(src.english, as_version=4))
        live = [(e.msgctxt, e.msgid) for e in po if not e.obsolete]
        if src.folder != "notebooks":  # ours; the lessons' are checked by the standing rule
            assert live == cells, f"{src.po}: run `make translations`"


# ---------------------------------------------------------------------------
# The pipeline: update keeps translations (fuzzy when the English changed); build rewrites links
# ---------------------------------------------------------------------------


def test_update_marks_changed_cells_fuzzy_and_removed_ones_obsolete():
    po = tn.new_catalog("ko")
    tn.merge(po, [("cell-000", "# Title"), ("cell-001", "A long paragraph about stacks."),
                  ("cell-002", "Gone soon.")], {})
    for e, text in zip(po, ("# 제목", "스택에 관한 긴 문단.", "곧 사라짐."), strict=True):
        e.msgstr = text
    stats = tn.merge(po, [("cell-000", "# Title"), ("cell-001", "A long paragraph about a stack."),
                          ("cell-002", "New text."), ("cell-003", "# Title")], {})
    live = {e.msgctxt: e for e in po if not e.obsolete}
    assert live["cell-000"].msgstr == "# 제목" and not live["cell-000"].fuzzy
    assert live["cell-001"].fuzzy and live["cell-001"].msgstr == "스택에 관한 긴 문단."
    assert live["cell-001"].previous_msgid == "A long paragraph about stacks."
    assert live["cell-002"].msgstr == "" and not live["cell-002"].fuzzy
    assert live["cell-003"].msgstr == "# 제목"  # the same English elsewhere: still valid
    assert [e.msgid for e in po if e.obsolete] == ["Gone soon."]
    assert stats["fuzzy"] == 1 and stats["obsolete"] == 1


def test_links_point_at_the_korean_edition():
    lesson = tn.Source("ko", "notebooks", "03-prologue.ipynb")
    text = ("[ex](../exercises/01-prologue.ipynb), [g](glossary.ipynb#goroutine), "
            "[i](../README.md#lessons), [go](https://go.dev/s), [here](#top), "
            "![t](../docs/tour/1-lesson-in-jupyterlab.png), [src](../gostack/newstack.py)")
    assert tn.rewrite_links(text, lesson) == (
        "[ex](../../exercises/ko/01-prologue.ipynb), [g](glossary.ipynb#goroutine), "
        "[i](../../README.ko.md#lessons), [go](https://go.dev/s), [here](#top), "
        "![t](../../docs/tour/1-lesson-in-jupyterlab.png), [src](../../gostack/newstack.py)")
    exercise = tn.Source("ko", "exercises", "01-prologue.ipynb")
    assert tn.rewrite_links("[03](../notebooks/03-prologue.ipynb)", exercise) == \
        "[03](../../notebooks/ko/03-prologue.ipynb)"


def test_every_link_of_a_korean_notebook_resolves():
    """Every relative link leads to a file of the kit (a Korean notebook not built yet is the
    standing rule's to report)."""
    link = re.compile(r"\]\(([^)\s]+)\)")
    planned = {s.target.resolve() for s in SOURCES}
    checked = 0
    for src in SOURCES:
        if not src.target.exists():
            continue
        for cell in nbformat.read(src.target, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for target in link.findall(cell.source):
                if re.match(r"^[a-z]+:|^#", target):
                    continue
                path = (src.target.parent / target.split("#", 1)[0]).resolve()
                assert path.is_relative_to(ROOT), f"{src.target}: {target} leaves the kit"
                assert path.exists() or path in planned, f"{src.target}: {target}: no such file"
                checked += 1
    assert checked


# ---------------------------------------------------------------------------
# The package's messages
# ---------------------------------------------------------------------------


def _catalog():
    from babel.messages.pofile import read_po

    with (tn.LOCALE / "ko" / "LC_MESSAGES" / "gostack.po").open("rb") as f:
        return read_po(f, locale="ko")


def test_the_message_catalog_is_complete_and_compiled():
    cat = _catalog()
    todo = [m.id for m in cat if m.id and (m.fuzzy or not m.string or (
        isinstance(m.string, tuple) and not all(m.string)))]
    assert not todo, f"untranslated or fuzzy in gostack.po: {todo[:5]} (run `make messages`)"
    mo = tn.LOCALE / "ko" / "LC_MESSAGES" / "gostack.mo"
    assert mo.read_bytes() == tn.compiled("ko"), "gostack.mo is stale: run `make messages`"
    extracted = {m.id for m in tn.extract() if m.id}
    ids = {m.id for m in cat if m.id}
    assert extracted <= ids, f"messages not in gostack.po: {sorted(extracted - ids)[:5]}"


def test_translations_keep_every_placeholder():
    field = re.compile(r"\{(\w*)[^{}]*\}")
    for m in _catalog():
        if not m.id:
            continue
        source = m.id[-1] if isinstance(m.id, tuple) else m.id  # the plural for Korean
        for s in m.string if isinstance(m.string, tuple) else (m.string,):
            assert set(field.findall(s)) == set(field.findall(source)), (m.id, s)


def test_the_language_is_chosen_by_folder_locale_or_call(tmp_path):
    (tmp_path / "ko").mkdir()
    assert i18n.detect(tmp_path / "ko", {}) == "ko"
    assert i18n.detect(ROOT / "notebooks", {"LANG": "ko_KR.UTF-8"}) == "en"
    assert i18n.detect(ROOT / "notebooks" / "ko", {}) == "ko"
    assert i18n.detect(tmp_path, {"LANG": "ko_KR.UTF-8"}) == "ko"
    assert i18n.detect(tmp_path, {"LC_ALL": "C.UTF-8", "LANG": "ko_KR.UTF-8"}) == "en"
    assert i18n.detect(tmp_path, {}) == "en"
    assert i18n.detect(tmp_path, {"GOSTACK_LANG": "ko"}) == "ko"
    assert gs.set_language("ko") == "ko" and i18n.language() == "ko"
    assert i18n._("Score: 0/{max} points.") == "점수: 0/{max}점."
    with i18n.using("en"):
        assert i18n._("Score: 0/{max} points.") == "Score: 0/{max} points."
        seen = []
        t = threading.Thread(target=lambda: seen.append(i18n.language()))
        t.start()
        t.join()
        assert seen == ["ko"]  # using() is for this thread only
    with pytest.raises(ValueError):
        gs.set_language("tlh")


def test_check_cells_speak_korean_with_the_same_score(capsys):
    def new_size(old_size, used, frame, max_stack):  # one doubling, never more
        return 2 * old_size

    english = ex.check_newstack(new_size)
    out_en = capsys.readouterr().out
    gs.set_language("ko")
    korean = ex.check_newstack(new_size)
    out_ko = capsys.readouterr().out
    assert korean == english and korean.points == 2
    assert "연습 문제 02" in out_ko and "점수: 공개 테스트에서 2/10점." in out_ko
    assert "기댓값:" in out_ko and "결과:" in out_ko and "시도:" in out_ko
    assert "Score: 2/10 points" in out_en and not i18n.korean(out_en)


def test_problems_speak_korean(capsys):
    import gostack.problems as pb

    gs.set_language("ko")
    pb.show(7)
    text = capsys.readouterr().out
    assert "고루틴이 main.entry" in text and "스택은 어느 호출에서" in text
    assert pb.MYSTERY_ANSWERS["A"].startswith("newsize. 아주 큰")


# ---------------------------------------------------------------------------
# gostack grade: a Korean submission gets the same points, and Korean feedback
# ---------------------------------------------------------------------------


def _with_code(path: Path, code: str, out: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "check" in c.metadata.get("tags", []))
    nb.cells.insert(at, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, out)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("korean-grading")
    subs = base / "subs"
    for lang, sub in (("en", ""), ("ko", "ko")):
        solved = subs / f"solved-{lang}"
        unsolved = subs / f"unsolved-{lang}"
        zoo = subs / f"zoo-{lang}"
        for d in (solved, unsolved, zoo):
            d.mkdir(parents=True)
        for e in catalog.EXERCISES:
            name = f"{e.id}.ipynb"
            shutil.copy(ROOT / "solutions" / sub / name, solved / name)
            shutil.copy(ROOT / "exercises" / sub / name, unsolved / name)
            _with_code(ROOT / "solutions" / sub / name, e.zoo[0].code, zoo / name)
    out = base / "out"
    run = subprocess.run([sys.executable, "-m", "gostack", "grade", str(subs), "--out",
                          str(out), "--jobs", "2"], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return rows, out


def test_a_korean_submission_gets_the_english_points(graded):
    rows, _ = graded
    ids = [e.id for e in catalog.EXERCISES]
    for who in ("solved", "unsolved", "zoo"):
        en = [rows[f"{who}-en"][i] for i in ids]
        ko = [rows[f"{who}-ko"][i] for i in ids]
        assert ko == en, (who, en, ko)
    assert float(rows["solved-ko"]["total"]) == sum(e.max_points for e in catalog.EXERCISES)
    assert float(rows["unsolved-ko"]["total"]) == 0
    lost = [float(rows["zoo-ko"][e.id]) < e.max_points for e in catalog.EXERCISES]
    assert all(lost)


def test_a_korean_submission_gets_korean_feedback(graded):
    _, out = graded
    ko = (out / "students" / "zoo-ko" / "feedback.md").read_text(encoding="utf-8")
    en = (out / "students" / "zoo-en" / "feedback.md").read_text(encoding="utf-8")
    assert "# zoo-ko 님의 피드백" in ko and "연습 문제 02 · newstack의 새 크기" in ko
    assert not english_lines(ko), english_lines(ko)  # the failing cases and the notes too
    assert "Feedback for zoo-en" in en and not i18n.korean(en)
    unsolved = (out / "students" / "unsolved-ko" / "feedback.md").read_text(encoding="utf-8")
    assert "NotImplementedError" in unsolved and "0점" in unsolved


# ---------------------------------------------------------------------------
# Hangul in figures; JupyterLab in Korean
# ---------------------------------------------------------------------------


def test_hangul_renders_without_missing_glyphs(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    family = i18n.font_family()
    assert family == ("DejaVu Sans", "NanumGothic"), "the `ko` extra (koreanize-matplotlib)"
    with matplotlib.rc_context({"font.family": list(family)}):
        fig = Figure(figsize=(4, 2))
        ax = fig.subplots()
        ax.set_title("고루틴 스택: 2,048 → 4,096 bytes")
        ax.set_xlabel("호출 번호 (call index)")
        ax.text(0.1, 0.5, "스택 가드 = lo + 928")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
            fig.savefig(tmp_path / "hangul.png")
    assert (tmp_path / "hangul.png").stat().st_size > 1000


def test_latin_text_keeps_the_house_font():
    from matplotlib import font_manager

    family = list(i18n.font_family())
    latin = font_manager.FontProperties(family=family)
    assert Path(font_manager.findfont(latin)).name.startswith("DejaVuSans")


def test_make_lab_in_korean_opens_the_korean_welcome_with_a_korean_ui():
    cmd = lab.command(as_root=False, lang="ko")
    assert f"--LabApp.default_url=/lab/tree/notebooks/ko/{lab.LESSONS[0].filename}" in cmd
    settings = [a.split("=", 1)[1] for a in cmd if a.startswith("--LabApp.app_settings_dir=")]
    assert len(settings) == 1
    import json

    overrides = json.loads((Path(settings[0]) / "overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "ko_KR"
    assert lab.command(as_root=False) == lab.command(as_root=False, lang="en")
    assert not any("app_settings_dir" in a for a in lab.command(as_root=False))


# ---------------------------------------------------------------------------
# README.ko.md
# ---------------------------------------------------------------------------


def test_readme_ko_lesson_table_is_generated_from_the_course_list():
    assert not tn.readme("ko", write=False), "README.ko.md is stale: run `make translations`"
    po = polib.pofile(str(tn.course_po("ko")))
    live = {e.msgctxt: e for e in po if not e.obsolete}
    todo = [ctx for ctx, text in tn.course_entries()
            if not tn.current(live.get(ctx)) or live[ctx].msgid != text]
    assert not todo, f"i18n/ko/course.po: untranslated or fuzzy {todo} (run make translations)"


def test_readme_ko_has_the_two_commands_and_the_instructors_commands():
    ko = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    en = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)```", ko, re.S).group(1)
    assert [line.split()[:2] for line in first.splitlines()] == [["make", "lab-ko"],
                                                                  ["make", "test"]]
    help_text = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"^\s+lab-ko\s", help_text, re.M), help_text

    def grade_lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines()
                if line.strip().startswith(("gostack grade", "--due"))]

    assert grade_lines(ko) == grade_lines(en), "the instructor's commands differ from README.md"
    assert '<a id="lessons"></a>' in ko  # where the Korean lessons' Index link lands


def test_the_feedback_language_follows_the_submission_or_lang(tmp_path):
    from types import SimpleNamespace

    from gostack.grade import report

    def result(*paths):
        return SimpleNamespace(student=SimpleNamespace(files=list(paths)))

    ko = ROOT / "exercises" / "ko" / "02-newstack.ipynb"
    en = ROOT / "exercises" / "02-newstack.ipynb"
    junk = tmp_path / "02-newstack.ipynb"
    junk.write_text("{not json", encoding="utf-8")
    assert report.submission_language(result(ko)) == "ko"
    assert report.submission_language(result(en)) == "en"
    assert report.submission_language(result(junk, ko)) == "ko"
    assert report.submission_language(result(junk)) == "en"
    assert report.submission_language(result(ko), "en") == "en"
    assert report.submission_language(result(en), "ko") == "ko"


def test_lab_main_picks_the_edition_from_lang_or_the_locale(monkeypatch):
    ran = []
    monkeypatch.setattr(lab.os, "execv", lambda exe, argv: ran.append(argv))
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    lab.main(["--lang", "ko", "--no-browser"])
    lab.main(["--no-browser"])
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    lab.main([])
    lab.main(["--lang=en"])
    fronts = [next(a for a in argv if a.startswith("--LabApp.default_url=")) for argv in ran]
    assert ["/ko/" in f for f in fronts] == [True, False, True, False]
    assert ran[0][-1] == "--no-browser" and "--lang" not in ran[0]


# ---------------------------------------------------------------------------
# What a Korean learner sees in lessons 00-02 and exercise 01
# ---------------------------------------------------------------------------


def test_the_lesson_map_speaks_korean_and_lines_up():
    from gostack import course

    # English: lesson 00's map as it printed before (title padded to 60 characters).
    assert course.lesson_map() == "\n".join(
        f"{le.number:02d}  {le.title:<60} {le.teaches}" for le in course.LESSONS)
    ko = _lesson_words()
    with i18n.using("ko"):
        lines = course.lesson_map().splitlines()
    assert len(lines) == len(course.LESSONS)
    for le, line in zip(course.LESSONS, lines, strict=True):
        title, teaches = ko[le.title], ko[le.teaches]
        assert line.startswith(f"{le.number:02d}  {title}") and line.endswith(f" {teaches}")
        # Hangul takes two columns: every "what it teaches" starts in column 65.
        assert i18n.text_width(line[:-len(teaches)]) == 4 + 60 + 1


def _lesson_words() -> dict[str, str]:
    """English -> Korean of every translated entry of gostack.po, read with polib (not
    through gettext)."""
    po = polib.pofile(str(tn.LOCALE / "ko" / "LC_MESSAGES" / "gostack.po"))
    return {e.msgid: e.msgstr for e in po if e.msgstr and not e.obsolete and not e.fuzzy}


def test_readme_ko_takes_the_lesson_titles_from_the_package_catalog():
    """One source for a lesson's Korean title and what it teaches: gostack.po, which lesson
    00's map and README.ko.md's table both show; course.po holds only the table's words."""
    from gostack import course

    ko = _lesson_words()
    readme = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    for le in course.existing():
        assert f"| {le.number:02d} | [{ko[le.title]}](" in readme, le.stem
        assert f") | {ko[le.teaches]} | " in readme, le.stem
    ctxs = [e.msgctxt for e in polib.pofile(str(tn.course_po("ko")))]
    assert ctxs == [f"table:{i}" for i in range(len(tn.COURSE_WORDS))]


def test_korean_lesson_00_names_the_korean_menu_and_folders():
    """The menu path as JupyterLab's Korean language pack shows it (its own catalog)."""
    import json

    pack = importlib.util.find_spec("jupyterlab_language_pack_ko_KR")
    if pack is None:
        pytest.skip("JupyterLab's Korean language pack (the `ko` extra) is not installed")
    words = json.loads((Path(pack.origin).parent / "locale" / "ko_KR" / "LC_MESSAGES"
                        / "jupyterlab.json").read_text(encoding="utf-8"))
    run, restart = words["menu\x04Run"][0], words["Restart Kernel and Run All Cells…"][0]
    text = "\n".join(c.source for c in nbformat.read(ROOT / "notebooks" / "ko" / "00-welcome.ipynb",
                                                     as_version=4).cells
                     if c.cell_type == "markdown")
    assert f"*{run} → {restart}*" in text
    assert "Run All Cells" not in text
    assert "`exercises/ko/`" in text and "`exercises/`" not in text


def test_figures_get_hangul_only_outside_english():
    import matplotlib

    before = list(matplotlib.rcParams["font.family"])
    with i18n.using("en"), i18n.figure_fonts():
        assert list(matplotlib.rcParams["font.family"]) == before
    with i18n.using("ko"), i18n.figure_fonts():
        assert tuple(matplotlib.rcParams["font.family"]) == i18n.font_family()
    assert list(matplotlib.rcParams["font.family"]) == before
