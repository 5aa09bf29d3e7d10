"""The console in a real headless Chromium against the real server (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from email_engine.auth.roles import Role
from tests.e2e.conftest import Watched


def test_login_and_overview(open_browser: Callable[[Role], Watched]) -> None:
    watched = open_browser(Role.ADMIN)
    page = watched.page
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.get_by_text("Preflight:").is_visible()
    watched.screenshot("overview")
    watched.assert_clean()
