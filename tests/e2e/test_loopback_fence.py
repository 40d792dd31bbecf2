"""The fence the browser tests rely on: a request that would leave loopback is blocked and
recorded (page loads, fetches and websockets alike). The hosts are under .invalid, a name that
never resolves, and nothing is sent anyway: the fence aborts each request inside the browser."""

from __future__ import annotations

import pytest
from fence import Fence

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PAGE = """data:text/html,<img src="http://outside-one.invalid/pixel.png">
<script>
  fetch("https://outside-two.invalid/api").catch(() => {});
  try { new WebSocket("wss://outside-three.invalid/socket"); } catch (e) {}
</script>"""


def test_fence_blocks_and_records_requests_outside_loopback(browser):
    fence = Fence()
    context = browser.new_context()
    try:
        fence.install(context)
        page = context.new_page()
        page.goto(PAGE)
        page.wait_for_function("() => document.readyState === 'complete'")
        for _ in range(50):  # the socket is opened asynchronously
            if len(fence.blocked) >= 3:
                break
            page.wait_for_timeout(100)
    finally:
        context.close()
    got = "\n".join(fence.blocked)
    for url in ("http://outside-one.invalid/pixel.png", "https://outside-two.invalid/api",
                "wss://outside-three.invalid/socket"):
        assert url in got, f"{url} was not caught by the fence; it recorded:\n{got}"
    assert not any(b.startswith("SEEN") for b in fence.blocked), got


def test_the_test_server_writes_nothing_to_the_checkout():
    """The server the browser tests use serves the checkout itself (as `make lab` does), so it
    must write nothing there: autosave is off in its JupyterLab settings, and every write
    through its contents API (save, new file, rename, delete) is refused with 403 and recorded.
    A server of its own: the session's server fails the run on any refused write."""
    import urllib.error

    from labserver import ROOT, JupyterLab

    target = "notebooks/00-welcome.ipynb"
    before = (ROOT / target).read_bytes()
    folder = set((ROOT / "notebooks").iterdir())
    with JupyterLab() as lab:
        settings = lab.api("GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        assert settings["settings"]["autosave"] is False, settings["settings"]
        model = lab.api("GET", f"/api/contents/{target}")
        attempts = {
            "save": ("PUT", f"/api/contents/{target}",
                     {"type": "notebook", "format": "json", "content": model["content"]}),
            "new": ("POST", "/api/contents/notebooks", {"type": "notebook"}),
            "rename": ("PATCH", f"/api/contents/{target}", {"path": "notebooks/renamed.ipynb"}),
            "delete": ("DELETE", f"/api/contents/{target}", None),
        }
        codes = {}
        for what, (method, path, body) in attempts.items():
            try:
                lab.api(method, path, body)
                codes[what] = 200
            except urllib.error.HTTPError as e:
                codes[what] = e.code
        refused = lab.refused_writes()
    assert codes == dict.fromkeys(attempts, 403), codes
    assert [r.split()[0] for r in refused] == ["save", "save", "rename", "delete"], refused
    assert (ROOT / target).read_bytes() == before, f"a refused write changed {target}"
    assert set((ROOT / "notebooks").iterdir()) <= folder, "a refused write added a file"
