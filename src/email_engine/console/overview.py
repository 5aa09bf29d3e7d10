"""``/ui/``: GO/NO-GO from preflight (each failing item with its fix; the last result with its age,
refreshed off the request path: ``console.preflight_cache``), health checks, open alerts, today's
totals with their rates against the warmup gates, and the providers with 7-day sparklines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.charts import sparkline
from email_engine.console.preflight_cache import preflight_cache
from email_engine.console.web import ConsoleRoute, ViewerDep, show
from email_engine.context import AppContext
from email_engine.deps import ContextDep
from email_engine.feedback import stats
from email_engine.integrations.alerts.service import active_alerts
from email_engine.ops.service import run_checks
from email_engine.preflight.report import summary
from email_engine.warmup.settings import WarmupSettings

__all__ = ["overview_values", "router"]

router = APIRouter(route_class=ConsoleRoute)


def overview_values(ctx: AppContext, now: datetime) -> dict[str, Any]:
    """Everything but preflight and health (those ask peers): the database part of the page."""
    gates = ctx.settings.section(WarmupSettings).default_gates()
    midnight = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    with ctx.session_factory() as session:
        today = stats.summary(session, since=midnight, until=now + timedelta(hours=1))
        alerts = active_alerts(session)
        _total, providers = stats.dimension_rows(session, dimension="provider", now=now, limit=25)
        first_day = now.astimezone(UTC).date() - timedelta(days=6)
        daily = stats.daily_key_totals(
            session,
            dimension="provider",
            first_day=first_day,
            last_day=now.astimezone(UTC).date(),
            keys=[row["key"] for row in providers],
        )
        session.expunge_all()
    days = [first_day + timedelta(days=offset) for offset in range(7)]
    provider_rows = [
        {
            "key": row["key"],
            "day": row["windows"]["24h"],
            "week": row["windows"]["7d"],
            "spark": sparkline(
                [daily.get(row["key"], {}).get(day, {}).get("sent", 0) for day in days],
                label=f"{row['key']}: sent per day over the last 7 days",
            ),
        }
        for row in providers
    ]
    thresholds = [
        ("Hard bounces", today["hard_bounce_rate"], gates.max_hard_bounce_rate),
        ("Complaints", today["complaint_rate"], gates.max_complaint_rate),
        ("Blocks", today["block_rate"], gates.max_block_rate),
    ]
    return {
        "today": today,
        "thresholds": [
            {"name": name, "rate": rate, "limit": limit, "over": rate is not None and rate > limit}
            for name, rate, limit in thresholds
        ],
        "alerts": alerts,
        "providers": provider_rows,
    }


@router.get("/")
async def overview(request: Request, viewer: ViewerDep, ctx: ContextDep) -> Response:
    now = utcnow()
    fresh = request.query_params.get("preflight") == "run"
    values = await anyio.to_thread.run_sync(overview_values, ctx, now)
    shown = await anyio.to_thread.run_sync(lambda: preflight_cache(ctx).view(now, fresh=fresh))
    health = await run_checks(ctx)
    report = summary(shown.items)
    return show(
        request,
        "overview.html",
        viewer,
        {
            **values,
            "preflight": report,
            "failing": [item for item in shown.items if item.status == "fail"],
            "preflight_at": shown.checked_at,
            "preflight_age": shown.age_seconds,
            "preflight_refreshing": shown.refreshing,
            "health": health,
            "title": "Overview",
        },
    )
