"""The loopback fence: every request a browser context makes outside loopback is recorded
and blocked (the tests then assert that none was made)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Everything that is not http(s)/ws(s) to loopback, data: or blob: goes to the fence.
NOT_LOOPBACK = re.compile(
    r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$)|data:|blob:|about:)")


class Fence:
    """Records, and blocks, every request the browser makes outside loopback."""

    def __init__(self):
        self.blocked: list[str] = []

    def install(self, context) -> None:
        def block(route):
            self.blocked.append(f"{route.request.method} {route.request.url}")
            route.abort("blockedbyclient")

        def block_ws(ws):
            self.blocked.append(f"WEBSOCKET {ws.url}")
            ws.close()

        context.route(NOT_LOOPBACK, block)
        context.route_web_socket(NOT_LOOPBACK, block_ws)

        def watch(request):  # belt and braces: anything the pattern above let through
            url = request.url
            if NOT_LOOPBACK.match(url):
                return  # the route has it
            if url.startswith(("http:", "https:", "ws:", "wss:")) and (
                    urlsplit(url).hostname not in LOOPBACK_HOSTS):
                self.blocked.append(f"SEEN {request.method} {request.url}")

        context.on("request", watch)
