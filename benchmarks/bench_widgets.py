"""How long each lesson's widgets take to answer, in JupyterLab in headless Chromium.

For every widget in every lesson that has widgets (the lessons the browser tests drive, found
by tests/e2e/plans.py), nudge it REPS times the way a learner would (a slider one step by the
arrow keys, a dropdown to its next option, a button clicked, a toggle to its next option, a
checkbox flipped, a number retyped) and time, inside the page, from the action to:
  first   the first change of the cell's readout or picture;
  done    the last change, once the kernel has answered and the view has been still for
          QUIET_MS (what a learner waits for: the text and the picture both redrawn).
Prints p50 and p95 of each per widget, in milliseconds (nearest rank: with 10 nudges, p95 is
the slowest of the 10). A nudge that cannot be made (a disabled button) or goes unanswered for
MAX_S is counted in the "missed" column, not in the times.

JupyterLab is started exactly as for the browser tests (tests/e2e/labserver.py: `make lab`'s
command line, on the checkout, nothing saved), and the same Chromium with the same loopback
fence. It needs Chromium (GOSTACK_CHROMIUM, default /usr/bin/chromium) and the playwright
package (the `test` extra); without them it says so and exits 0.

    python benchmarks/bench_widgets.py                  # every lesson, REPS=10
    python benchmarks/bench_widgets.py --reps 5 -k 03   # lessons whose file name contains 03
    python benchmarks/bench_widgets.py --json out.json  # also the raw samples
    python benchmarks/bench_widgets.py --walk -k 04     # sliders step one way: new states

By default a slider goes back and forth, so after two nudges its widget answers from its
PNG cache: the times are then the round trip (browser, server, kernel, browser), not the
drawing. With --walk every slider nudge is a state the widget has not drawn yet. The
kernel's share alone, without a browser: benchmarks/bench_widget_render.py.

Times on a shared 2-vCPU machine swing with the load: compare widgets within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
E2E = ROOT / "tests" / "e2e"
sys.path.insert(0, str(E2E))

REPS = 10
QUIET_MS = 400  # the view must stay still this long after the kernel has answered
MAX_S = 30.0  # a nudge unanswered after this long is a miss

# Records, every 5 ms from the moment it is started, the page time at which the area's view
# (jlab.VIEW_STATE: readout texts and pictures) changes.
RECORD = r"""(root) => {
  const view = VIEW;
  const key = () => { const s = view(root); return s.text + '\u0000' + s.pictures.join('\u0000'); };
  const rec = {t0: performance.now(), changes: [], last: key(), stop: false};
  const tick = () => {
    if (rec.stop) return;
    const k = key();
    if (k !== rec.last) { rec.changes.push(performance.now() - rec.t0); rec.last = k; }
    setTimeout(tick, 5);
  };
  setTimeout(tick, 5);
  window.__benchRec = rec;
}"""
READ = r"""() => { const r = window.__benchRec; return {changes: r.changes,
                    since: performance.now() - r.t0}; }"""
STOP = "() => { if (window.__benchRec) window.__benchRec.stop = true; }"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    from conftest import CHROMIUM

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GOSTACK_CHROMIUM)"
    return None


WALK = False  # --walk: sliders step one way, to states not drawn yet


def nudge(page, jlab, area, kind: str, index: int, step: int) -> bool:
    """One learner's action on widget ``index`` of ``kind``; False if it cannot be done now."""
    w = jlab.widgets_of(area, kind).nth(index)
    if kind == "slider":
        frac = jlab.slider_fraction(w)
        # Alternate right and left, so the slider stays near where the lesson left it; or
        # (--walk) to the right until the end, then to the left.
        back = step % 2 and not WALK
        key = "ArrowLeft" if frac >= 1 or (back and frac > 0) else "ArrowRight"
        jlab.perform(page, w, "keys", keys=(key,))
    elif kind == "button":
        if not w.is_enabled():
            return False
        jlab.perform(page, w, "click")
    elif kind == "dropdown":
        if w.locator("option").count() < 2:
            return False
        jlab.perform(page, w, "select")
    else:
        how = {"text": "type", "toggle": "toggle", "checkbox": "check"}[kind]
        if not w.locator("select, input, textarea, button").first.is_enabled():
            return False
        jlab.perform(page, w, how)
    return True


def unblock(page, jlab, area, kind: str, index: int) -> None:
    """A button disabled at one end of a stepper ("step ▶" at the last step, "◀ back" at the
    first): move the cell's first slider to its start (Home), or else its end (End)."""
    if kind != "button":
        return
    w = jlab.widgets_of(area, "button").nth(index)
    sliders = jlab.widgets_of(area, "slider")
    for key in ("Home", "End"):
        if w.is_enabled() or not sliders.count():
            return
        jlab.perform(page, sliders.first, "keys", keys=(key,))
        jlab.wait_settled(page, area)


SKIPPED = "skipped"


def measure(page, jlab, area, kind: str, index: int, step: int):
    """(first, done) in ms for one nudge; None if it went unanswered, SKIPPED if it could not
    be made."""
    unblock(page, jlab, area, kind, index)
    page.evaluate(RECORD.replace("VIEW", jlab.VIEW_STATE), area.element_handle())
    try:
        if not nudge(page, jlab, area, kind, index, step):
            return SKIPPED
        deadline = time.monotonic() + MAX_S
        jlab.drain_kernel(page, MAX_S * 1000)
        while True:
            r = page.evaluate(READ)
            if r["changes"] and r["since"] - r["changes"][-1] >= QUIET_MS:
                return r["changes"][0], r["changes"][-1]
            if time.monotonic() > deadline:
                return None
            page.wait_for_timeout(50)
    finally:
        page.evaluate(STOP)


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile, by the nearest rank (no interpolation between samples)."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=REPS, help=f"nudges per widget (default {REPS})")
    ap.add_argument("-k", dest="select", default="", help="only lessons whose file name "
                    "contains this")
    ap.add_argument("--json", type=Path, help="also write every sample here")
    ap.add_argument("--walk", action="store_true", help="sliders step one way (each nudge a "
                    "state not drawn yet) instead of back and forth")
    args = ap.parse_args(argv)
    global WALK
    WALK = args.walk

    why = _missing()
    if why:
        print(f"bench_widgets: skipped: {why}")
        return 0
    import jlab
    import plans
    from conftest import CHROMIUM, CHROMIUM_ARGS
    from fence import Fence
    from labserver import JupyterLab
    from playwright.sync_api import sync_playwright

    cases = [c for c in plans.lessons() if args.select in Path(c.notebook).name]
    rows, samples = [], {}
    t_start = time.monotonic()
    with JupyterLab() as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                    env={**os.environ, "DISPLAY": ""})
        fence = Fence()
        for case in cases:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          device_scale_factor=1, locale="en-US",
                                          timezone_id="UTC", service_workers="block")
            fence.install(context)
            page = context.new_page()
            page.set_default_timeout(60_000)
            stem = Path(case.notebook).stem
            try:
                jlab.open_and_run_all(page, lab, case.notebook, lambda _: None,
                                      case.run_all_timeout_s)
                for index, _plan in case.cells:
                    cell = jlab.cell(page, index)
                    area = jlab.output_area(cell)
                    jlab.scroll_to_top_of(cell)
                    jlab.expect(area.locator(".jupyter-widgets").first).to_be_visible(
                        timeout=30_000)
                    jlab.wait_settled(page, area)
                    for kind, i, label in jlab.inventory(area):
                        if kind == "play":  # it animates the step slider, timed above
                            continue
                        name = f"{stem} cell {index}: {kind} {label or i!r}"
                        got, missed = [], 0
                        for step in range(args.reps):
                            m = measure(page, jlab, area, kind, i, step)
                            if m is None or m == SKIPPED:
                                missed += 1
                            else:
                                got.append(m)
                        samples[name] = got
                        rows.append((name, got, missed))
                        print(_row(name, got, missed), flush=True)
            except Exception as e:  # noqa: BLE001 - one broken lesson must not hide the rest
                print(f"{stem}: not measured: {type(e).__name__}: {str(e)[:300]}", flush=True)
            finally:
                context.close()
                lab.shutdown_all_sessions()
        browser.close()
        refused = lab.refused_writes()
    if fence.blocked or refused:
        print("warning: blocked requests " + "; ".join(fence.blocked)
              + " refused writes " + "; ".join(refused))
    print(f"\n{len(rows)} widgets, {args.reps} nudges each, "
          f"{time.monotonic() - t_start:.0f} s in all; load average {os.getloadavg()[0]:.1f}")
    print("\n" + _table(rows))
    if args.json:
        args.json.write_text(json.dumps(
            {"reps": args.reps, "quiet_ms": QUIET_MS,
             "samples_ms": {k: [list(s) for s in v] for k, v in samples.items()}}, indent=1))
    return 0


def _row(name: str, got: list[tuple[float, float]], missed: int) -> str:
    if not got:
        return f"{name}: no answer ({missed} missed)"
    first, done = [g[0] for g in got], [g[1] for g in got]
    return (f"{name}: first p50 {pct(first, 50):.0f} p95 {pct(first, 95):.0f} ms, "
            f"done p50 {pct(done, 50):.0f} p95 {pct(done, 95):.0f} ms"
            + (f", {missed} missed" if missed else ""))


def _table(rows) -> str:
    head = ("widget", "n", "first p50", "first p95", "done p50", "done p95", "missed")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, got, missed in rows:
        if got:
            first, done = [g[0] for g in got], [g[1] for g in got]
            cols = [f"{pct(x, q):.0f}" for x in (first, done) for q in (50, 95)]
        else:
            cols = ["-"] * 4
        lines.append("| " + " | ".join([name, str(len(got)), *cols, str(missed)]) + " |")
    return "\n".join(lines) + "\n(milliseconds, from the action to the view's first and last "\
        "change)"


if __name__ == "__main__":
    sys.exit(main())
