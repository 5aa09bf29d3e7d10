"""``/health`` check of the outbox: backlog size, age of the oldest undelivered event, dead events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.outbox.models import OutboxEvent, OutboxStatus
from email_engine.outbox.service import backlog, oldest_undelivered
from email_engine.outbox.settings import OutboxSettings
from email_engine.platform.healthcheck import CheckResult, HealthCheck

OLD_AGE = timedelta(hours=1)


async def check_outbox(ctx: AppContext) -> CheckResult:
    settings = ctx.settings.section(OutboxSettings)

    def gather() -> CheckResult:
        with ctx.session_factory() as session:
            queued = backlog(session)
            oldest = oldest_undelivered(session)
            dead = int(
                session.scalar(select(func.count()).where(OutboxEvent.status == OutboxStatus.DEAD)) or 0
            )
        total = sum(queued.values())
        data = {
            "backlog": queued,
            "dead": dead,
            "oldest_undelivered_at": oldest.isoformat() if oldest else None,
        }
        if total >= settings.backlog_fail:
            return CheckResult(
                "fail",
                f"{total} events wait in the outbox (limit {settings.backlog_fail}); a peer is down.",
                data,
            )
        problems = []
        if total >= settings.backlog_warn:
            problems.append(f"{total} events wait in the outbox")
        if oldest is not None and utcnow() - oldest > OLD_AGE:
            problems.append(f"the oldest undelivered event is from {oldest:%Y-%m-%d %H:%M} UTC")
        if dead:
            problems.append(f"{dead} dead events (GET /api/v1/outbox, then retry them)")
        if problems:
            return CheckResult("warn", "; ".join(problems), data)
        return CheckResult("ok", f"{total} events queued", data)

    try:
        return await asyncio.wait_for(asyncio.to_thread(gather), timeout=5)
    except Exception as exc:
        return CheckResult("fail", f"the outbox cannot be read: {type(exc).__name__}")


CHECKS = [HealthCheck("outbox", check_outbox)]
