"""The Korean edition in a real JupyterLab, in headless Chromium, as `make lab-ko` opens it.

JupyterLab is started with `make lab-ko`'s command line (gostack.lab.command(lang="ko"), plus
what a throwaway server needs: tests/e2e/labserver.py). Chromium gets the same flags and loopback
fence as the other browser tests, and NanumGothic (the `ko` extra's font) through a private
fontconfig file, since Debian's minimal fonts have no Hangul.

- JupyterLab's own interface is Korean (the language pack, chosen by the server's settings
  override, not by any user setting);
- the Korean lesson 00 runs top to bottom, its widget answers a key press, its prose is Korean;
- the Korean exercise 01 as handed out says 0 points in Korean, and full marks once the answer
  is written in.

Screenshots go to test-artifacts/e2e/ (`ko-*.png`); `GOSTACK_KO_TOUR=1` also copies them to
docs/tour/ko-*.png, README.ko.md's tour.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
E2E = HERE / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))

from gostack import i18n  # noqa: E402
from gostack import lab as make_lab  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = HERE.parent
CHROMIUM = os.environ.get("GOSTACK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("GOSTACK_E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
TOUR = ROOT / "docs" / "tour"
REQUIRE = os.environ.get("GOSTACK_REQUIRE_BROWSER", "").strip() not in ("", "0", "false", "no")


def _missing() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if i18n.hangul_font_file() is None:
        return "no Hangul font (the `ko` extra: koreanize-matplotlib)"
    return None


def _fontconfig(base: Path) -> Path:
    """A fontconfig file: the system's fonts, and NanumGothic from the `ko` extra."""
    conf = base / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{i18n.hangul_font_file().parent}</dir>\n"
        f"  <cachedir>{base / 'fc-cache'}</cachedir>\n</fontconfig>\n", encoding="utf-8")
    return conf


@pytest.fixture(scope="module")
def ko_browser(tmp_path_factory):
    why = _missing()
    if why:
        if REQUIRE:
            pytest.fail(f"GOSTACK_REQUIRE_BROWSER is set but the Korean browser tests cannot "
                        f"run: {why}", pytrace=False)
        pytest.skip(f"Korean browser tests skipped ({why})")
    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("gostack_e2e_conftest", E2E / "conftest.py")
    e2e_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(e2e_conftest)  # the browser tests' Chromium flags, not a plugin
    CHROMIUM_ARGS = e2e_conftest.CHROMIUM_ARGS  # noqa: N806

    conf = _fontconfig(tmp_path_factory.mktemp("fonts"))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                              timeout=60_000,
                              env={**os.environ, "DISPLAY": "", "FONTCONFIG_FILE": str(conf)})
        yield b
        b.close()


@pytest.fixture(scope="module")
def ko_lab(ko_browser, tmp_path_factory):
    from labserver import JupyterLab

    class KoreanLab(JupyterLab):
        def cmd(self) -> list[str]:  # `make lab-ko`'s command line, plus a throwaway server's
            base = super().cmd()
            extra = base[base.index("--no-browser"):]
            return make_lab.command(root=self.root, python=sys.executable, extra=extra,
                                    lang="ko")

    server = KoreanLab(base=tmp_path_factory.mktemp("lab-ko"))
    server.start()
    yield server
    server.stop()
    refused = server.refused_writes()
    shutil.rmtree(server.base, ignore_errors=True)
    assert not refused, "the Korean browser tests tried to write to the checkout: " + "; ".join(
        refused)


@pytest.fixture
def ko_page(ko_browser, ko_lab):
    from fence import Fence

    fence = Fence()
    context = ko_browser.new_context(viewport={"width": 1280, "height": 900},
                                     device_scale_factor=1, locale="ko-KR", timezone_id="UTC",
                                     service_workers="block")
    fence.install(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
    ko_lab.shutdown_all_sessions()
    assert not fence.blocked, "requests outside loopback were blocked: " + "; ".join(
        fence.blocked)


def _shot(page_or_locator, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page_or_locator.screenshot(path=str(path))
    if os.environ.get("GOSTACK_KO_TOUR", "").strip() not in ("", "0"):
        shutil.copyfile(path, TOUR / name)


# jlab.KERNEL_READY reads the English status bar ("... | Idle"); here the kernel's own model.
KERNEL_READY = r"""() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                     + '.jp-Notebook-ExecutionIndicator');
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected'
      && !!ind && ind.dataset.status === 'idle';
}"""


def _open_and_run_all(page, lab, notebook: str) -> None:
    import jlab
    from playwright.sync_api import expect

    path = lab.path(notebook)
    lab.start_kernel(path)
    page.goto(lab.notebook_url(path))
    expect(jlab.panel(page).locator(".jp-Cell").first).to_be_visible(timeout=90_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000, polling=200)
    jlab.collapse_left_sidebar(page)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    jlab.drain_kernel(page, 180_000)
    page.wait_for_function(jlab.NOTHING_PENDING, timeout=30_000, polling=100)
    errors = jlab.error_outputs(page)
    assert not errors, f"{notebook}: error output after Run All:\n" + "\n".join(errors)
    assert not jlab.not_run(page), f"{notebook}: cells left unrun by Run All"


def test_the_korean_lesson_runs_with_a_korean_interface_and_a_live_widget(ko_page, ko_lab):
    import jlab
    from playwright.sync_api import expect

    page = ko_page
    _open_and_run_all(page, ko_lab, "notebooks/ko/00-welcome.ipynb")
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "파일" in menus and "실행" in menus, f"JupyterLab's menus are not Korean: {menus}"
    panel = jlab.panel(page)
    expect(panel.locator(".jp-MarkdownCell").first).to_contain_text("시작하며")
    slider = panel.locator(".widget-slider [role=slider]").first
    area = slider.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')][1]")
    img = area.locator("img").first
    expect(img).to_be_visible()
    before = img.get_attribute("src")
    jlab.scroll_to_top_of(slider)
    slider.focus()
    slider.press("ArrowRight")
    expect(img).not_to_have_attribute("src", before, timeout=30_000)
    _shot(page, "ko-1-lesson-in-jupyterlab.png")


def test_the_korean_exercise_reaches_full_marks_in_korean(ko_page, ko_lab):
    import jlab
    import plans
    from playwright.sync_api import expect

    page = ko_page
    case = plans._exercise_case(plans.ExercisePlan("exercises/ko/01-prologue.ipynb"), ROOT)
    _open_and_run_all(page, ko_lab, case.notebook)
    feedback = jlab.output_text(page, case.check)
    assert "연습 문제 01 · 프롤로그 검사" in feedback and "점수: 0/10점." in feedback, feedback
    for index, code in case.answers:
        jlab.fill_cell(page, index, code)
        jlab.run_cell(page, index)
    jlab.run_cell(page, case.check)
    check = jlab.output_area(jlab.cell(page, case.check))
    expect(check).to_contain_text("점수: 공개 테스트에서 10/10점.", timeout=30_000)
    jlab.scroll_to_top_of(jlab.cell(page, case.check))
    _shot(jlab.cell(page, case.check), "ko-2-exercise-full-marks.png")
    assert re.search(r"✔", check.inner_text())
