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
