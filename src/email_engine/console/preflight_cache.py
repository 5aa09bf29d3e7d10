"""The Overview's preflight result, refreshed off the request path.

Preflight asks peers (PowerMTA, MailWizz, monitoring…) and takes about 1.5 s, too long to run inside a
page request. The Overview shows the last result with its age; once it is older than
``PREFLIGHT_CACHE_SECONDS`` a request starts one refresh in a background thread (never two at once)
and is answered with the result it has. Only the process's first Overview (nothing to show yet) and
"Run preflight again" (the operator asked for a fresh answer) wait for a run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import structlog

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.platform.preflight import Item, PreflightSettings
from email_engine.preflight.runner import run_preflight

__all__ = ["EXTRAS_KEY", "PREFLIGHT_CACHE_SECONDS", "PreflightCache", "PreflightView", "preflight_cache"]

log = structlog.get_logger("email_engine.console")

#: A result older than this is refreshed in the background at the next Overview request.
PREFLIGHT_CACHE_SECONDS: Final = 60
EXTRAS_KEY: Final = "console.preflight"

Runner = Callable[[datetime], list[Item]]


@dataclass(frozen=True, slots=True)
class PreflightView:
    checked_at: datetime
    items: list[Item]
    #: Seconds since the run that produced ``items`` started.
    age_seconds: int
    #: A background refresh is running (the page says a newer result is coming).
    refreshing: bool


@dataclass(slots=True)
class _Result:
    checked_at: datetime
    items: list[Item]
    monotonic: float


class PreflightCache:
    """One per application (``ctx.extras``); safe to call from several worker threads at once."""

    def __init__(self, run: Runner, *, max_age: float = PREFLIGHT_CACHE_SECONDS) -> None:
        self._run = run
        self._max_age = max_age
        self._lock = threading.Lock()  # guards _result and _refresher
        self._run_lock = threading.Lock()  # one preflight run at a time
        self._result: _Result | None = None
        self._refresher: threading.Thread | None = None

    def view(self, now: datetime, *, fresh: bool = False) -> PreflightView:
        """The result to show now. ``fresh`` runs preflight in this call (the operator's "run again")."""
        if fresh:
            self._refresh()
        with self._lock:
            result = self._result
        if result is None:
            with self._run_lock:  # concurrent first requests share one run
                with self._lock:
                    result = self._result
                if result is None:
                    result = self._run_and_store()
        refreshing = False
        with self._lock:
            age = time.monotonic() - result.monotonic
            if age >= self._max_age and not self._refreshing():
                self._refresher = threading.Thread(
                    target=self._background, name="console-preflight", daemon=True
                )
                self._refresher.start()
            refreshing = self._refreshing()
        return PreflightView(
            checked_at=result.checked_at,
            items=result.items,
            age_seconds=max(0, int((now - result.checked_at).total_seconds())),
            refreshing=refreshing,
        )

    def wait(self, timeout: float) -> bool:
        """Wait for a running background refresh (tests, shutdown); True when none is left running."""
        with self._lock:
            thread = self._refresher
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _refreshing(self) -> bool:
        return self._refresher is not None and self._refresher.is_alive()

    def _background(self) -> None:
        try:
            self._refresh()
        except Exception:  # a failed refresh keeps the last result; the next request tries again
            log.exception("console_preflight_refresh_failed")

    def _refresh(self) -> None:
        with self._run_lock:
            self._run_and_store()

    def _run_and_store(self) -> _Result:
        started, now = time.monotonic(), utcnow()
        result = _Result(checked_at=now, items=self._run(now), monotonic=started)
        with self._lock:
            if self._result is None or self._result.monotonic <= started:
                self._result = result
            return self._result


def preflight_cache(ctx: AppContext) -> PreflightCache:
    """The application's cache (created on first use)."""
    cache = ctx.extras.get(EXTRAS_KEY)
    if not isinstance(cache, PreflightCache):
        made = PreflightCache(lambda now: run_preflight(ctx, ctx.settings.section(PreflightSettings), now))
        cache = ctx.extras.setdefault(EXTRAS_KEY, made)  # atomic: two first requests share one
    assert isinstance(cache, PreflightCache)
    return cache
