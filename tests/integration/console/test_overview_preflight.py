"""The Overview serves the last preflight result with its age and refreshes it in a background thread:
a request never waits for a refresh (one at a time), a failed refresh keeps the last result, and "Run
preflight again" runs it at once. Preflight is the real one; the gate only holds a refresh open so
the test can look at the page meanwhile."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient

from email_engine.auth.roles import Role
from email_engine.console.preflight_cache import EXTRAS_KEY, PreflightCache
from email_engine.context import AppContext
from email_engine.platform.preflight import Item, PreflightSettings
from email_engine.preflight.runner import run_preflight

_CHECKED = re.compile(r'checked <time datetime="([^"]+)"')


def _checked(html: str) -> str:
    match = _CHECKED.search(html)
    assert match, "the Overview shows no preflight time"
    return match.group(1)


def test_overview_serves_the_last_preflight_while_a_refresh_runs(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    gate = threading.Event()
    gate.set()
    runs: list[datetime] = []
    failing = threading.Event()

    def run(now: datetime) -> list[Item]:
        runs.append(now)
        assert gate.wait(30)
        if failing.is_set():
            raise RuntimeError("a peer broke mid-check")
        return run_preflight(ctx, PreflightSettings(), now)

    # Every result is stale at once (max_age 0), so each request wants a refresh.
    cache = PreflightCache(run, max_age=0)
    ctx.extras[EXTRAS_KEY] = cache
    client = login(Role.OPERATOR)
    try:
        first = client.get("/ui/")  # nothing to show yet: the first run is inline
        assert first.status_code == 200 and "GO</span>" in first.text
        assert cache.wait(30)
        after_first = len(runs)
        assert after_first == 2  # the inline run, then one background refresh

        gate.clear()  # the next refresh hangs until the gate opens
        page = client.get("/ui/")
        assert page.status_code == 200  # answered while the refresh is held
        assert "a newer check is running" in page.text
        held = _checked(page.text)
        assert held > _checked(first.text)  # the background run's result is shown
        again = client.get("/ui/")
        assert _checked(again.text) == held and "a newer check is running" in again.text
        assert len(runs) == after_first + 1  # one refresh at a time, not one per request

        gate.set()
        assert cache.wait(30)
        newer = _checked(client.get("/ui/").text)
        assert newer > held

        # A failing refresh keeps the last result.
        assert cache.wait(30)
        failing.set()
        before = _checked(client.get("/ui/").text)  # starts a refresh that fails
        assert cache.wait(30)
        kept = client.get("/ui/")
        assert kept.status_code == 200 and "GO</span>" in kept.text
        assert _checked(kept.text) == before
        failing.clear()
        assert cache.wait(30)

        # "Run preflight again" runs it in the request.
        count = len(runs)
        rerun = client.get("/ui/?preflight=run")
        assert rerun.status_code == 200 and "Run preflight again" in rerun.text
        assert len(runs) >= count + 1
        assert _checked(rerun.text) > newer
        assert re.search(r'class="preflight-age">\d+ s ago', rerun.text)
    finally:
        gate.set()
        cache.wait(30)
