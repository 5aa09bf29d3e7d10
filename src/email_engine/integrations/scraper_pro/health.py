"""``/health`` check of scraper-pro: its bounce and delivery endpoints answer (not critical; feedback
waits in the outbox while scraper-pro is down)."""

from __future__ import annotations

import asyncio

from email_engine.context import AppContext
from email_engine.ops.settings import HealthSettings
from email_engine.platform.healthcheck import CheckResult, HealthCheck
from email_engine.platform.probes import reachable


async def check_scraper_pro(ctx: AppContext) -> CheckResult:
    urls = [u for u in (ctx.settings.scraper_pro_bounce_url, ctx.settings.scraper_pro_delivery_url) if u]
    if not urls:
        return CheckResult(
            "not_configured",
            "SCRAPER_PRO_BOUNCE_URL / SCRAPER_PRO_DELIVERY_URL are not set; feedback waits in the outbox",
        )
    timeout = ctx.settings.section(HealthSettings).check_timeout_seconds
    results = await asyncio.gather(*(reachable("scraper-pro", url, timeout) for url in dict.fromkeys(urls)))
    failed = [result for result in results if result.status != "ok"]
    return failed[0] if failed else results[0]


CHECKS = [HealthCheck("scraper_pro", check_scraper_pro)]
