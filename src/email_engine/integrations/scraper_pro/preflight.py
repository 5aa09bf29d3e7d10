"""The preflight item of scraper-pro: a real signed call through the engine's own client."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import httpx

from email_engine.context import AppContext
from email_engine.feedback.scraper_events import BOUNCE_EVENT
from email_engine.integrations.scraper_pro.client import post_events
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = ["CHECKS", "check_scraper_pro"]


def check_scraper_pro(ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """A real signed call through the engine's own client: an empty bounce batch (nothing to store)."""
    settings = ctx.settings
    if not settings.scraper_pro_bounce_url:
        yield Item(
            "scraper-pro signed call",
            "skip",
            "SCRAPER_PRO_BOUNCE_URL not set",
            "Set SCRAPER_PRO_BOUNCE_URL and SCRAPER_PRO_HMAC_SECRET to feed bounces back.",
        )
        return
    if settings.scraper_pro_hmac_secret is None:
        yield Item(
            "scraper-pro signed call",
            "fail",
            "SCRAPER_PRO_HMAC_SECRET not set",
            "Set SCRAPER_PRO_HMAC_SECRET (the same value scraper-pro verifies with).",
        )
        return
    try:
        outcome = post_events(
            url=settings.scraper_pro_bounce_url,
            secret=settings.scraper_pro_hmac_secret.get_secret_value(),
            kind=BOUNCE_EVENT,
            events=[],
            timeout=pf.timeout,
        )
    except httpx.InvalidURL:
        yield Item(
            "scraper-pro signed call",
            "fail",
            "SCRAPER_PRO_BOUNCE_URL is not a valid URL",
            "Set SCRAPER_PRO_BOUNCE_URL to scraper-pro's bounce endpoint (https://…).",
        )
        return
    error = outcome.error or "refused"
    if outcome.ok:
        yield Item("scraper-pro signed call", "pass", "an empty signed bounce batch was accepted")
    elif outcome.unreachable:
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Check SCRAPER_PRO_BOUNCE_URL and that scraper-pro is running.",
        )
    elif re.search(r"HTTP 40[13]\b", error):
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Give scraper-pro the same SCRAPER_PRO_HMAC_SECRET; it must verify X-Timestamp/X-Signature.",
        )
    else:
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Check that SCRAPER_PRO_BOUNCE_URL is scraper-pro's bounce endpoint (docs/feedback.md).",
        )


CHECKS = [PreflightCheck("scraper-pro signed call", check_scraper_pro, order=100)]
