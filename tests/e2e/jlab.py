"""Driving JupyterLab and ipywidgets 8 in a page, through what a learner sees and does.

Everything here looks only inside the visible notebook panel, and waits with conditions that are
retried (Playwright's `expect`, `wait_for_function`), never with fixed sleeps.
"""

from __future__ import annotations

import re
import time

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # collected anyway: the conftest then skips, or fails, with one clear line
    Locator = Page = expect = None

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# The kernel is really ready only when the toolbar indicator says idle AND the status bar says
# "... | Idle" (not "No Kernel | Initializing"): the indicator alone reads idle about a second
# too early, and a Run All sent then opens a "Select Kernel" dialog instead of running.
KERNEL_READY = r"""() => {
  const nb = document.querySelector('PANEL');
  const ind = nb && nb.querySelector('.jp-Notebook-ExecutionIndicator');
  const items = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
      .map(e => e.textContent.trim());
  return !!ind && ind.dataset.status === 'idle'
      && items.some(t => /\|\s*Idle$/.test(t) && !t.startsWith('No Kernel'));
}""".replace("PANEL", PANEL)

# Nothing is queued or running any more in the visible notebook (no "[*]:" prompt, indicator idle).
NOTHING_PENDING = r"""() => {
  const nb = document.querySelector('PANEL');
  if (!nb) return false;
  const p = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  const ind = nb.querySelector('.jp-Notebook-ExecutionIndicator');
  return !p.some(e => e.textContent.trim() === '[*]:') && (!ind || ind.dataset.status === 'idle');
}""".replace("PANEL", PANEL)

# Indexes of the non-empty code cells whose prompt is not "[n]:" (never run, or aborted).
NOT_RUN = r"""() => {
  const cells = [...document.querySelectorAll('PANEL .jp-Cell')];
  const out = [];
  cells.forEach((c, i) => {
    if (!c.classList.contains('jp-CodeCell')) return;
    const src = c.querySelector('.cm-content');
    if (src && !src.textContent.trim()) return;
    const p = c.querySelector('.jp-InputPrompt');
    if (!p || !/^\[\d+\]:$/.test(p.textContent.trim())) out.push(i);
  });
  return out;
}""".replace("PANEL", PANEL)

# Resolves once the kernel has answered a kernel_info request (or after `ms`, with false).
# Shell messages are handled in order, so by then everything sent before it has finished:
# the cells of a Run All (JupyterLab sends all their execute requests at once, before the click
# returns) or a widget's callbacks. The kernel's busy/idle status does not say as much: it
# reads idle while a widget's comm message is being handled.
KERNEL_DRAINED = r"""async (ms) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  if (!k) return false;
  const late = new Promise(resolve => setTimeout(() => resolve(false), ms));
  return await Promise.race([k.requestKernelInfo().then(() => true), late]);
}"""


def drain_kernel(page: Page, timeout: float = 60_000) -> None:
    if not page.evaluate(KERNEL_DRAINED, timeout):
        raise TimeoutError(f"the kernel did not answer within {timeout / 1000:.0f} s "
                           "(still running, or dead)")


# Code cells with an error among their outputs, read from JupyterLab's own notebook model.
MODEL_ERRORS = r"""() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.content || !w.content.model) return null;
  const found = [];
  const cells = w.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    for (const o of c.outputs.toJSON()) {
      if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
    }
  }
  return found;
}"""

# What a widget view shows: the text of its readouts (HTML, labels, printed output) and a
# signature of its pictures (the data-URI src of each image, or the markup of an SVG).
VIEW_STATE = r"""(root) => {
  const text = [...root.querySelectorAll(
        '.widget-html-content, .widget-htmlmath-content, .widget-label-basic, '
      + '.widget-output .jp-OutputArea-output:not(.jp-RenderedImage)')]
      .map(e => e.innerText.trim()).filter(Boolean).join('\n');
  const pics = [...root.querySelectorAll(
        '.widget-output img, img.widget-image, .widget-output svg')]
      .map(e => e.tagName === 'IMG' ? e.getAttribute('src') || '' : e.outerHTML);
  return {text, pictures: pics};
}"""


def panel(page: Page) -> Locator:
    return page.locator(PANEL)


def open_notebook(page: Page, url: str, clock=lambda phase: None) -> None:
    page.goto(url)
    expect(panel(page).locator(".jp-Cell").first).to_be_visible(timeout=90_000)
    clock("page load until the notebook shows")
    page.wait_for_function(KERNEL_READY, timeout=90_000, polling=200)
    clock("then until the kernel is idle")


def run_all(page: Page, timeout: float = 120_000) -> None:
    """Run > Run All Cells, by the menu, as a learner would; wait until the kernel has run them
    and the page shows it. Cells after an error are not run: see `not_run`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    drain_kernel(page, timeout)
    page.wait_for_function(NOTHING_PENDING, timeout=30_000, polling=100)


def open_and_run_all(page: Page, lab, notebook: str, clock, timeout_s: float):
    """``notebook`` (a path in the kit) opened in a fresh workspace, Run All, and checked for
    errors and unrun cells. Returns its path on the server."""
    path = lab.path(notebook)
    lab.start_kernel(path)
    open_notebook(page, lab.notebook_url(path), clock)
    collapse_left_sidebar(page)
    run_all(page, timeout=timeout_s * 1000)
    clock("Run All")
    errors = error_outputs(page)
    assert not errors, f"{notebook}: error output after Run All:\n" + "\n".join(errors)
    skipped = not_run(page)
    assert not skipped, f"{notebook}: cells left unrun by Run All: {skipped}"
    return path


def open_widget(page: Page, lab, notebook: str, index: int):
    """``notebook`` opened and Run All (see :func:`open_and_run_all`), then its widget cell
    ``index`` scrolled to and settled. Returns that cell's output area."""
    open_and_run_all(page, lab, notebook, lambda phase: None, 120)
    cell_ = cell(page, index)
    area = output_area(cell_)
    scroll_to_top_of(cell_)
    expect(area.locator(".jupyter-widgets").first).to_be_visible(timeout=30_000)
    wait_settled(page, area)
    return area


def not_run(page: Page) -> list[int]:
    """Non-empty code cells of the visible notebook that have not run."""
    return page.evaluate(NOT_RUN)


def run_cell(page: Page, index: int, timeout: float = 60_000) -> None:
    """Select cell `index` and press Shift+Enter, as a learner would; wait until it has run."""
    c = cell(page, index)
    prompt = c.locator(".jp-InputPrompt")
    before = prompt.inner_text().strip()
    prompt.click()  # selects the cell in command mode
    page.keyboard.press("Shift+Enter")
    drain_kernel(page, timeout)
    page.wait_for_function(NOTHING_PENDING, timeout=30_000, polling=100)
    after = prompt.inner_text().strip()
    assert re.fullmatch(r"\[\d+\]:", after) and after != before, (
        f"cell {index} did not run: its prompt went from {before!r} to {after!r}")


STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _tracebacks(texts: list[str]) -> list[str]:
    return [t.strip()[:2000] for t in texts
            if "Traceback" in t or re.search(r"^\w*(Error|Exception)\b", t, re.M)]


def error_outputs(page: Page) -> list[str]:
    """Error outputs in the visible notebook: from the model, and any traceback on screen
    (including inside widget Output areas, which the model does not hold)."""
    found = list(page.evaluate(MODEL_ERRORS) or [])
    return found + _tracebacks(panel(page).locator(STDERR).all_inner_texts())


def errors_in(area: Locator) -> list[str]:
    """Tracebacks shown inside one output area (e.g. a widget callback that raised)."""
    return _tracebacks(area.locator(STDERR).all_inner_texts())


def cell(page: Page, index: int) -> Locator:
    return panel(page).locator(".jp-Cell").nth(index)


def view_state(view: Locator) -> dict:
    return view.evaluate(VIEW_STATE)


# --- widgets ---------------------------------------------------------------------------------

# ipywidgets 8 DOM classes of each widget kind the harness can drive (see plans.py).
KIND_SELECTORS = {
    "slider": ".widget-slider",
    "dropdown": ".widget-dropdown",
    "button": "button.widget-button, "
              "button.widget-toggle-button:not(.widget-toggle-buttons button)",
    "toggle": ".widget-toggle-buttons",
    "checkbox": ".widget-checkbox",
    "text": ".widget-text, .widget-textarea",
    "play": ".widget-play",
}


def output_area(cell_loc: Locator) -> Locator:
    """The cell's own output area (widgets inside it may hold output areas of their own)."""
    return cell_loc.locator(".jp-Cell-outputArea").first


def widgets_of(area: Locator, kind: str) -> Locator:
    return area.locator(KIND_SELECTORS[kind])


def label_of(widget: Locator, kind: str) -> str:
    if kind == "button":
        return widget.inner_text().strip()
    if kind == "checkbox":  # ipywidgets 8 writes its description beside the box, not before it
        lab = widget.locator(".widget-label-basic")
        return lab.first.inner_text().strip() if lab.count() else ""
    lab = widget.locator(":scope > .widget-label")
    return lab.first.inner_text().strip() if lab.count() else ""


def inventory(area: Locator) -> list[tuple[str, int, str]]:
    """(kind, index among that kind, label) of every drivable widget in the area."""
    found = []
    for kind in KIND_SELECTORS:
        loc = widgets_of(area, kind)
        for i in range(loc.count()):
            found.append((kind, i, label_of(loc.nth(i), kind)))
    return found


def find_widget(area: Locator, kind: str, which: str | int) -> tuple[Locator, int]:
    loc = widgets_of(area, kind)
    if isinstance(which, int):
        return loc.nth(which), which
    labels = [label_of(loc.nth(i), kind) for i in range(loc.count())]
    hits = [i for i, t in enumerate(labels) if t == which]
    if len(hits) != 1:
        raise LookupError(f"no single {kind} labelled {which!r} here; the {kind}s are {labels}")
    return loc.nth(hits[0]), hits[0]


def widget_value(widget: Locator, kind: str) -> str:
    if kind == "slider":
        return widget.locator(".widget-readout").first.inner_text().strip()
    if kind == "dropdown":  # ipywidgets shows spaces in option labels as no-break spaces
        return widget.locator("select").evaluate(
            "s => s.selectedIndex < 0 ? '' "
            ": s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ')")
    if kind == "text":
        return widget.locator("input, textarea").first.input_value()
    if kind == "checkbox":
        return str(widget.locator("input").is_checked())
    if kind == "toggle":
        sel = widget.locator("button.mod-active")
        return sel.first.inner_text().strip() if sel.count() else ""
    return widget.inner_text().strip()


def widget_values(area: Locator) -> dict[str, str]:
    """{description label: value as displayed} of every labelled widget in the area."""
    values = {}
    for kind, i, label in inventory(area):
        if label and kind != "button":
            values[label] = widget_value(widgets_of(area, kind).nth(i), kind)
    return values


def wait_settled(page: Page, area: Locator, timeout: float = 30_000) -> dict:
    """Wait until the kernel has run every callback sent so far and the view has not changed
    for a moment; return the view's state."""
    drain_kernel(page, timeout)
    state = view_state(area)
    for _ in range(int(timeout / 150)):
        page.wait_for_timeout(150)  # a poll interval: stable over two reads 150 ms apart
        again = view_state(area)
        if again == state:
            return state
        state = again
    return state


def collapse_left_sidebar(page: Page) -> None:
    """Close the file browser, as a learner who wants room would (click its active tab)."""
    tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if tab.count():
        tab.first.click()
        expect(page.locator("#jp-left-stack")).to_be_hidden()


def scroll_to_top_of(loc: Locator) -> None:
    loc.evaluate("e => e.scrollIntoView({block: 'start'})")


def slider_drag(page: Page, widget: Locator, fraction: float) -> None:
    handle = widget.locator(".noUi-handle").first
    base = widget.locator(".noUi-base").first
    handle.scroll_into_view_if_needed()
    hb, bb = handle.bounding_box(), base.bounding_box()
    x0, y0 = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    vertical = handle.get_attribute("aria-orientation") == "vertical"
    page.mouse.move(x0, y0)
    page.mouse.down()
    if vertical:
        page.mouse.move(x0, bb["y"] + bb["height"] * (1 - fraction), steps=8)
    else:
        page.mouse.move(bb["x"] + bb["width"] * fraction, y0, steps=8)
    page.mouse.up()


def slider_fraction(widget: Locator) -> float:
    h = widget.locator(".noUi-handle").first
    lo, hi, now = (float(h.get_attribute(a) or 0)
                   for a in ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
    return 0.0 if hi == lo else (now - lo) / (hi - lo)


def play_then_pause(page: Page, play: Locator, timeout: float = 15_000) -> None:
    """Press an ipywidgets Play's play button, see the slider it drives move on its own
    twice (the browser runs it: the link is a jslink), press pause, and check that the
    slider then stays where it is."""
    area = play.locator("xpath=ancestor::div[contains(@class, 'jp-Cell-outputArea')][1]")
    readout = area.locator(KIND_SELECTORS["slider"]).first.locator(".widget-readout").first
    # ipywidgets 8: one play/pause toggle, then stop (back to the minimum) and repeat; icons only
    buttons = play.locator("button")
    seen = [readout.inner_text().strip()]
    buttons.nth(0).click()
    deadline = time.monotonic() + timeout / 1000
    while len(seen) < 3:
        now = readout.inner_text().strip()
        if now != seen[-1]:
            seen.append(now)
        if time.monotonic() > deadline:
            raise AssertionError(f"Play did not move the slider on its own: it showed {seen}")
        page.wait_for_timeout(50)
    buttons.nth(0).click()  # pause
    page.wait_for_timeout(300)  # a step already on its way may still land
    stopped = readout.inner_text().strip()
    page.wait_for_timeout(1500)  # two Play intervals
    after = readout.inner_text().strip()
    assert after == stopped, f"after pause the slider went on moving: {stopped} -> {after}"


def perform(page: Page, widget: Locator, how: str, keys=(), to=None) -> None:
    """Do one action to one widget, as a learner would (keyboard, mouse, select)."""
    widget.scroll_into_view_if_needed()
    if how == "keys":
        handle = widget.locator(".noUi-handle").first
        handle.focus()
        for k in keys:
            handle.press(k)
    elif how == "drag":
        slider_drag(page, widget, float(to))
    elif how == "select":
        sel = widget.locator("select")
        if to is None:
            labels = sel.locator("option").all_inner_texts()
            cur = sel.evaluate("s => s.selectedIndex")
            to = labels[(cur + 1) % len(labels)]
        sel.select_option(label=str(to))
    elif how == "click":
        expect(widget).to_be_enabled()
        widget.click()
    elif how == "type":
        box = widget.locator("input, textarea").first
        if to is None:
            cur = box.input_value()
            to = str(int(float(cur)) + 1) if re.fullmatch(r"-?\d+(\.\d*)?", cur) else cur + "x"
        box.fill(str(to))
        box.press("Enter")
    elif how == "toggle":
        buttons = widget.locator("button")
        if to is None:
            texts = buttons.all_inner_texts()
            active = [i for i in range(buttons.count())
                      if "mod-active" in (buttons.nth(i).get_attribute("class") or "")]
            to = texts[((active[0] if active else -1) + 1) % len(texts)].strip()
        buttons.filter(has_text=re.compile(rf"^\s*{re.escape(str(to))}\s*$")).first.click()
    elif how == "check":
        widget.locator("input").click()
    elif how == "play":
        play_then_pause(page, widget)
    else:
        raise ValueError(f"unknown action {how!r}")


# --- editing ---------------------------------------------------------------------------------

CELL_SOURCE = r"""(i) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return w && w.content && w.content.model ? w.content.model.cells.get(i).sharedModel.getSource()
                                           : null;
}"""


def fill_cell(page: Page, index: int, code: str) -> None:
    """Click into a cell's editor, select everything, write `code` in its place.

    The text goes in as typed text in one piece (as a paste would), so the editor's
    auto-indent and bracket closing do not rewrite it."""
    c = cell(page, index)
    scroll_to_top_of(c)
    editor = c.locator(".cm-content").first
    editor.click()
    expect(c).to_have_class(re.compile(r"\bjp-mod-active\b"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)
    page.wait_for_function(f"(want) => ({CELL_SOURCE})({index}) === want", arg=code,
                           timeout=10_000, polling=100)


def output_text(page: Page, index: int) -> str:
    return output_area(cell(page, index)).inner_text()
