"""The learner's path between files, clicked in a real JupyterLab started as `make lab` starts it.

The server's root is the kit's folder, so a lesson's links out of notebooks/ resolve: lesson
03's "Exercises for this lesson" opens exercise 01, and a lesson's "Index" opens the README.
With notebooks/ as the root (as `make lab` once did) both answered 403 and JupyterLab showed
"Cannot open" instead. The server's front page is lesson 00.
"""

from __future__ import annotations

import re

import jlab
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

# What JupyterLab shows in its main area: the widget's kind, tab title and file path.
CURRENT = r"""() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w) return null;
  return {label: w.title.label, path: w.context ? w.context.path : null,
          notebook: !!w.node.querySelector('.jp-Notebook'),
          markdown: !!w.node.querySelector('.jp-RenderedMarkdown'),
          editor: !!w.node.querySelector('.jp-FileEditor')};
}"""

DIALOG = ".jp-Dialog"


def _current(page) -> dict | None:
    return page.evaluate(CURRENT)


def _wait_for_current(page, path: str, timeout_ms: float = 30_000) -> dict:
    page.wait_for_function(f"() => {{ const c = ({CURRENT})(); return c && c.path === {path!r}; }}",
                           timeout=timeout_ms, polling=200)
    return _current(page)


def _click_link(page, cell_text: str, link_text: str) -> None:
    """Click the link reading ``link_text`` in the markdown cell that says ``cell_text``, in the
    visible notebook, as a learner would: scroll down to it (a long notebook renders its cells
    as they come into view), click. JupyterLab rewrites a link's href to the file's URL, so the
    link is found by what the learner reads."""
    panel = jlab.panel(page)
    cell = panel.locator(".jp-MarkdownCell", has_text=cell_text)
    for _ in range(20):  # the last cells are rendered once scrolled into view
        if cell.count():
            break
        panel.locator(".jp-Cell").last.scroll_into_view_if_needed()
        page.wait_for_timeout(250)
    link = cell.locator("a", has_text=re.compile(rf"^{re.escape(link_text)}$"))
    jlab.expect(link).to_have_count(1)
    link.scroll_into_view_if_needed()
    link.click()


def _no_error_dialog(page) -> None:
    dialogs = page.locator(DIALOG)
    assert dialogs.count() == 0, "JupyterLab shows a dialog: " + " | ".join(
        dialogs.all_inner_texts())


def test_the_front_page_is_lesson_00(lab, page, artifacts):
    """The URL `make lab` prints and opens (the server's /) lands on lesson 00."""
    page.goto(f"{lab.url}/?token={lab.token}")
    shown = _wait_for_current(page, "notebooks/00-welcome.ipynb", 90_000)
    assert shown["notebook"], shown
    jlab.expect(jlab.panel(page).locator(".jp-MarkdownCell").first).to_contain_text(
        "00 · Welcome", timeout=30_000)
    assert re.search(r"/lab/tree/notebooks/00-welcome\.ipynb", page.url), page.url
    page.screenshot(path=str(artifacts / "links-front-page.png"))


def test_lesson_03_opens_its_exercise(lab, page, artifacts):
    page.goto(lab.notebook_url(lab.path("notebooks/03-prologue.ipynb")))
    _wait_for_current(page, "notebooks/03-prologue.ipynb", 90_000)
    _click_link(page, "Exercises for this lesson", "01-prologue")
    shown = _wait_for_current(page, "exercises/01-prologue.ipynb")
    assert shown["notebook"] and shown["label"] == "01-prologue.ipynb", shown
    jlab.expect(jlab.panel(page).locator(".jp-MarkdownCell").first).to_contain_text(
        "Exercise 01 · The prologue check", timeout=30_000)
    _no_error_dialog(page)
    page.screenshot(path=str(artifacts / "links-lesson-03-to-exercise-01.png"))


def test_lesson_00_index_link_opens_the_readme(lab, page, artifacts):
    page.goto(lab.notebook_url(lab.path("notebooks/00-welcome.ipynb")))
    _wait_for_current(page, "notebooks/00-welcome.ipynb", 90_000)
    _click_link(page, "Next: What an OS thread really costs", "Index")
    shown = _wait_for_current(page, "README.md")
    assert shown["markdown"] and not shown["editor"], (
        f"the README should open rendered (Markdown Preview), not in an editor: {shown}")
    readme = page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) .jp-RenderedMarkdown")
    jlab.expect(readme.locator("h1").first).to_contain_text("gostack: how goroutines work")
    # The index the link points at: a heading "Lessons" and a link to every lesson.
    jlab.expect(readme.locator("h2", has_text=re.compile(r"^Lessons"))).to_have_count(1)
    jlab.expect(readme.locator('a[href*="/notebooks/03-prologue.ipynb"]')).not_to_have_count(0)
    _no_error_dialog(page)
    page.screenshot(path=str(artifacts / "links-lesson-00-to-readme.png"))
