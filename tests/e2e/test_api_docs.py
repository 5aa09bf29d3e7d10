"""/docs and /redoc render in a real Chromium from the packaged assets alone: every request stays on the server
(an operator's machine without outbound web access sees the same pages)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Request

from tests.support.live_server import LiveServer


def _watch(browser: Browser, server: LiveServer, path: str, ready: str) -> tuple[list[str], list[str], str]:
    context = browser.new_context()
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    host = urlsplit(server.url).netloc

    def on_request(request: Request) -> None:
        if urlsplit(request.url).netloc not in (host, "") and not request.url.startswith(("data:", "blob:")):
            foreign.append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Anything leaving the server is refused, as on a machine without outbound access.
    page.route(lambda url: urlsplit(url).netloc not in (host, ""), lambda route: route.abort())
    try:
        page.goto(server.url + path)
        page.wait_for_selector(ready, timeout=30_000)
        text = page.inner_text("body")
    finally:
        context.close()
    return foreign, errors, text


def test_swagger_ui_renders_without_a_cdn(browser: Browser, server: LiveServer) -> None:
    foreign, errors, text = _watch(browser, server, "/docs", ".swagger-ui .info .title")
    assert foreign == [] and errors == []
    assert "Email Engine" in text and "/api/v1/ips" in text


def test_redoc_renders_without_a_cdn(browser: Browser, server: LiveServer) -> None:
    foreign, errors, text = _watch(browser, server, "/redoc", "h1")
    # ReDoc's footer asks its CDN for the Redocly logo (unconditionally, in redoc.standalone.js); refused here as
    # offline, the image hides itself (its onError) and nothing else leaves the server.
    assert foreign in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"]) and errors == []
    assert "Email Engine" in text


def test_only_the_named_assets_are_served(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
        for name in ("swagger-ui-LICENSE.txt", "..%2Fapi_docs.py", "nope.js"):
            missing = client.get(f"/docs/assets/{name}")
            assert missing.status_code == 404 and missing.json()["error"] == "not_found", name
        html = client.get("/docs").text
        assert "cdn.jsdelivr.net" not in html and "/docs/assets/swagger-ui-bundle.js" in html
        assert "fonts.googleapis.com" not in client.get("/redoc").text
