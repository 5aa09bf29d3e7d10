"""Core health checks: the database (critical) and Redis (critical when configured)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from email_engine.context import AppContext
from email_engine.ops.healthcheck import CheckResult, HealthCheck


async def check_database(ctx: AppContext) -> CheckResult:
    def ping() -> None:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=5)
    except Exception as exc:  # any driver error means "down" here
        return CheckResult("fail", f"database unreachable: {type(exc).__name__}")
    return CheckResult("ok", "database answers", {"backend": ctx.engine.dialect.name})


async def check_redis(ctx: AppContext) -> CheckResult:
    client = ctx.redis
    if client is None:
        return CheckResult("not_configured", "REDIS_URL is not set; rate limits are per process")
    try:
        await asyncio.wait_for(asyncio.to_thread(client.ping), timeout=3)
    except Exception as exc:
        return CheckResult("fail", f"redis unreachable: {type(exc).__name__}")
    return CheckResult("ok", "redis answers")


CHECKS = [
    HealthCheck("database", check_database, critical=True),
    HealthCheck("redis", check_redis, critical=True),
]
