"""Fixtures for the browser tests: one throwaway JupyterLab, headless Chromium, a loopback fence.

Switches (environment variables):
  GOSTACK_CHROMIUM          the browser to drive (default /usr/bin/chromium, Debian's package)
  GOSTACK_REQUIRE_BROWSER=1 a missing browser (or playwright) fails the run instead of skipping
  GOSTACK_E2E_ARTIFACTS     where screenshots go (default test-artifacts/e2e, ignored by git)
  GOSTACK_E2E_KEEP=1        keep the server's temporary folder (its log) after the run
  CI=true                   (or GOSTACK_REQUIRE_BROWSER=1) a file of the checkout that changed
                            during the run fails it instead of printing a warning

Playwright's own browser downloads are never used: the tests launch the Chromium above.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fence import Fence  # noqa: E402
from labserver import ROOT, JupyterLab, changed, snapshot  # noqa: E402

CHROMIUM = os.environ.get("GOSTACK_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("GOSTACK_REQUIRE_BROWSER", "").strip() not in ("", "0", "false", "no")
ARTIFACTS = Path(os.environ.get("GOSTACK_E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
KEEP = os.environ.get("GOSTACK_E2E_KEEP", "").strip() not in ("", "0")
# A file of the checkout that changes during the run fails it in CI; elsewhere it is reported
# as a warning (someone may be editing a lesson while the tests run).
STRICT = REQUIRE or os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# Chromium flags: headless as root without a display, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-quic",
    "--no-pings",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    # No name resolves except localhost: a stray request cannot even look a host up.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def browser_missing() -> tuple[str, str] | None:
    """Why the browser tests cannot run here and how to enable them, or None if they can."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"no Chromium at {CHROMIUM}", "sudo apt-get install chromium fonts-dejavu-core, "
                "or set GOSTACK_CHROMIUM=/path/to/chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("the playwright package is not installed",
                "pip install -e '.[test]' (make test does this)")
    return None


# --- the one line a learner without a browser sees ---------------------------------------------

_skipped: list[str] = []


def pytest_terminal_summary(terminalreporter):
    # With -rs/-ra (pyproject's addopts) pytest already prints the skip as one folded line;
    # otherwise say it here, once.
    if _skipped and "s" not in getattr(terminalreporter, "reportchars", ""):
        terminalreporter.write_line(_skipped[0])


# --- browser and fence -------------------------------------------------------------------------

@pytest.fixture(scope="package")
def fence():
    f = Fence()
    yield f
    assert not f.blocked, ("the browser tried to leave loopback during the session: "
                           + "; ".join(sorted(set(f.blocked))))


@pytest.fixture(scope="package")
def browser():
    missing = browser_missing()
    if missing:
        why, how = missing
        msg = f"browser tests skipped ({why}); to run them: {how}"
        if REQUIRE:
            pytest.fail(f"GOSTACK_REQUIRE_BROWSER is set but the browser tests cannot run: {why}",
                        pytrace=False)
        if not _skipped:
            _skipped.append(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                              timeout=60_000, env={**os.environ, "DISPLAY": ""})
        yield b
        b.close()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # ours alone; stale shots would mislead
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def lab(browser, artifacts, tmp_path_factory):
    """JupyterLab on the checkout, started as `make lab` starts it (labserver.py). At the end,
    the checkout's notebooks and README must be as they were: no write reached the server, and
    no file under notebooks/, exercises/ or solutions/ changed."""
    before = snapshot(ROOT)
    t0 = time.monotonic()
    server = JupyterLab(base=tmp_path_factory.mktemp("lab"))
    server.start()
    with (ARTIFACTS / "timings.tsv").open("a") as f:
        f.write(f"jupyter lab\tstart until /api/status answers\t{time.monotonic() - t0:.1f}\n")
    yield server
    server.stop()
    refused, touched = server.refused_writes(), changed(before, snapshot(ROOT))
    if not KEEP:
        shutil.rmtree(server.base, ignore_errors=True)
    assert not refused, "the browser tests tried to write to the checkout: " + "; ".join(refused)
    if touched:
        msg = ("files of the checkout changed while the browser tests ran: " + ", ".join(touched)
               + " (the server wrote none of them: a kernel did, or someone edited them "
               "meanwhile)")
        if STRICT:  # in CI nobody else edits the clone: any change is the tests' doing
            pytest.fail(msg, pytrace=False)
        warnings.warn(msg, stacklevel=1)


@pytest.fixture(scope="package")
def timings(artifacts):
    """`clock = timings(name)`, then `clock("phase")` logs the seconds since the last call to
    test-artifacts/e2e/timings.tsv (the server's start-up is logged too)."""
    path = artifacts / "timings.tsv"

    def start(name):
        last = [time.monotonic()]

        def clock(phase):
            now = time.monotonic()
            with path.open("a") as f:
                f.write(f"{name}\t{phase}\t{now - last[0]:.1f}\n")
            last[0] = now

        return clock

    return start


@pytest.fixture
def new_page(browser, fence, lab):
    """Makes fresh browser pages on the lab, fenced to loopback: ``new_page(viewport,
    locale)``. At teardown it closes them and fails if a page asked for anything outside
    loopback or tried to write to the checkout."""
    before, refused = len(fence.blocked), len(lab.refused_writes())
    contexts = []

    def make(viewport=None, locale="en-US"):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                      device_scale_factor=1, locale=locale,
                                      timezone_id="UTC", service_workers="block")
        contexts.append(context)
        fence.install(context)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        return pg

    yield make
    for context in contexts:
        context.close()
    lab.shutdown_all_sessions()
    leaked = fence.blocked[before:]
    assert not leaked, "requests outside loopback were blocked: " + "; ".join(leaked)
    writes = lab.refused_writes()[refused:]
    assert not writes, "the page tried to write to the checkout (refused): " + "; ".join(writes)


@pytest.fixture
def page(new_page, timings):
    return new_page()


# --- one line for skips; a screenshot of the failing state ---------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if (rep.skipped and _skipped and isinstance(rep.longrepr, tuple)
            and str(rep.longrepr[2]).endswith(_skipped[0])):
        # One location for every skipped browser test, so that pytest folds them into a
        # single line: "SKIPPED [n] tests/e2e: browser tests skipped (...); to run them: ..."
        rep.longrepr = (str(HERE), None, rep.longrepr[2])
        return
    if rep.when != "call" or not rep.failed:
        return
    pg = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if pg is None or pg.is_closed():
        return
    out = ARTIFACTS / "failures"
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1]).strip("_")
    path = out / f"{name}.png"
    try:
        pg.screenshot(path=str(path), full_page=False, timeout=15_000)
        rep.sections.append(("failure screenshot", str(path)))
    except Exception as e:  # a dead page must not hide the real failure
        rep.sections.append(("failure screenshot", f"could not take one: {e}"))
    lab = item.funcargs.get("lab")
    if lab is not None:
        rep.sections.append(("jupyter lab log (tail)", lab.log_tail(30)))
