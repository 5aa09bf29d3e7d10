"""Browser tests: Debian's Chromium (/usr/bin/chromium, scripts/system-packages.txt) driven by
Playwright for Python (pyproject.toml; it never downloads a browser of its own) against the real app on a
real uvicorn (tests/support/live_server.py), on the test run's database (PostgreSQL + Redis in
scripts/test.sh) and a real DNS server on loopback for list validation.

Each page's screenshot is saved under ``E2E_SCREENSHOTS`` (default ``var/screenshots``); the copies in
docs/console/ come from such a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from email_engine.auth.roles import Role
from email_engine.context import AppContext
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.main import create_app
from tests.conftest import dns_settings
from tests.integration.powermta.conftest import pmta_env
from tests.support.factories import USER_PASSWORD
from tests.support.live_server import LiveServer
from tests.support.validation_zones import zone_validation_settings

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
#: The flags the project runs Chromium with: no sandbox (root in CI), nothing that calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshot_dir() -> Path:
    root = Path(__file__).resolve().parent.parent.parent
    path = Path(os.environ.get("E2E_SCREENSHOTS", root / "var" / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main thread while it is
# started, and every later test that calls asyncio.run() (the DNS, health and CLI tests) would fail under it.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; scripts/services.sh installs Debian's chromium "
            "(scripts/system-packages.txt)"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    # Playwright's launch gives Chromium a fresh temporary --user-data-dir of its own (and removes it).
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


settings = dns_settings  # the resolver asks the loopback DNS server of the validation zones


@pytest.fixture
def server(ctx: AppContext, tmp_path: Path) -> Iterator[LiveServer]:
    ctx.settings.install(
        zone_validation_settings(
            tmp_path / "jobs", VALIDATION_JOBS_AUTOSTART=True, VALIDATION_JOB_CHUNK_ROWS=500
        ),
    )
    (tmp_path / "pmta").mkdir()
    ctx.settings.install(PowerMtaSettings(_env_file=None, **pmta_env(tmp_path / "pmta")))  # type: ignore[call-arg]
    app: FastAPI = create_app(ctx=ctx)
    with LiveServer(app) as live:
        yield live


@dataclass
class Watched:
    """What a page did that a test must check: console errors and requests to another host."""

    page: Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def screenshot(self, name: str) -> Path:
        target = screenshot_dir() / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.foreign_requests == [], self.foreign_requests


@pytest.fixture
def open_browser(
    browser: Browser, server: LiveServer, make_user: Callable[[Role], str]
) -> Iterator[Callable[[Role], Watched]]:
    contexts = []

    def open_as(role: Role) -> Watched:
        email = make_user(role)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/Berlin"
        )
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page=page, base=server.url)
        host = urlsplit(server.url).netloc
        page.on(
            "console", lambda message: message.type == "error" and watched.console_errors.append(message.text)
        )
        page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
        page.on(
            "request",
            lambda request: (
                urlsplit(request.url).netloc not in (host, "")
                and not request.url.startswith(("data:", "about:"))
                and watched.foreign_requests.append(request.url)
            ),
        )
        watched.goto("/ui/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(USER_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.url}/ui/")
        return watched

    yield open_as
    for context in contexts:
        context.close()
