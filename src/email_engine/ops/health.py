"""Health checks of the ops domain.

Core: the database (critical) and Redis (critical when configured). Operations: the scheduler
leader, disk space of the data directory, and the last successful run of each job.
Peers of other domains are checked by their own ``health.py``. "not configured" is its own status
and never counts as down.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.errors import EmailEngineError
from email_engine.ops.settings import HealthSettings, SchedulerSettings
from email_engine.platform.healthcheck import CheckResult, HealthCheck
from email_engine.platform.models import JobStatus
from email_engine.platform.probes import disk_free_fraction


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


async def check_scheduler(ctx: AppContext) -> CheckResult:
    from email_engine.ops.scheduler import make_lease

    settings = ctx.settings.section(SchedulerSettings)
    try:
        lease = make_lease(ctx, settings, "health-check")
        holder = await asyncio.wait_for(asyncio.to_thread(lease.current), timeout=5)
    except Exception as exc:
        return CheckResult("fail", f"the scheduler lease cannot be read: {type(exc).__name__}")
    if holder is None:
        return CheckResult(
            "warn",
            "No process holds the scheduler lease, so periodic jobs are not running; "
            "start `email-engine serve` or `email-engine scheduler run` with SCHEDULER_ENABLED=true.",
        )
    data = holder.as_dict()
    if not holder.live:
        return CheckResult(
            "fail",
            f"The scheduler leader {holder.holder} stopped renewing its lease at {holder.renewed_at}.",
            data,
        )
    return CheckResult("ok", f"leader {holder.holder} ({holder.backend})", data)


def data_directory(ctx: AppContext) -> str:
    configured = ctx.settings.section(HealthSettings).data_dir
    if configured:
        return configured
    database = ctx.engine.url.database
    if ctx.engine.dialect.name == "sqlite" and database and database != ":memory:":
        return str(Path(database).resolve().parent)
    return str(Path.cwd())


async def check_disk(ctx: AppContext) -> CheckResult:
    settings = ctx.settings.section(HealthSettings)
    path = data_directory(ctx)
    try:
        fraction, free, total = await asyncio.to_thread(disk_free_fraction, path)
    except OSError as exc:
        return CheckResult("fail", f"the data directory {path} cannot be read: {exc.strerror or exc}")
    data = {"path": path, "free_bytes": free, "total_bytes": total, "free_percent": round(fraction * 100, 1)}
    detail = f"{fraction * 100:.1f}% free ({free // 2**20} MiB) on {path}"
    if fraction * 100 < settings.disk_fail_percent:
        return CheckResult("fail", f"Disk almost full: {detail}; spools and the database will stop.", data)
    if fraction * 100 < settings.disk_warn_percent:
        return CheckResult("warn", f"Disk getting full: {detail}.", data)
    return CheckResult("ok", detail, data)


def job_freshness(
    jobs: list[tuple[str, int]],
    last_ok: dict[str, datetime],
    last_run: dict[str, tuple[str, str | None]],
    *,
    now: datetime,
    first_run_at: datetime | None,
    stale_factor: float,
) -> CheckResult:
    """Pure verdict on job runs: stale (no success for ``stale_factor`` intervals) or failing → warn."""
    if first_run_at is None:
        return CheckResult("warn", "No job has run yet; is a scheduler running (SCHEDULER_ENABLED)?")
    problems: list[str] = []
    data: dict[str, Any] = {}
    for name, interval in jobs:
        allowed = timedelta(seconds=interval * stale_factor + 60)
        ok_at = last_ok.get(name)
        status, error = last_run.get(name, ("never", None))
        data[name] = {"last_success_at": ok_at.isoformat() if ok_at else None, "last_status": status}
        if status == JobStatus.ERROR:
            problems.append(f"{name} failed: {(error or '')[:120]}")
        elif ok_at is None and now - first_run_at > allowed:
            problems.append(f"{name} never succeeded")
        elif ok_at is not None and now - ok_at > allowed:
            problems.append(f"{name} last succeeded {int((now - ok_at).total_seconds() // 60)} min ago")
    if problems:
        return CheckResult("warn", "; ".join(problems), data)
    return CheckResult("ok", f"{len(jobs)} jobs up to date", data)


async def check_jobs(ctx: AppContext) -> CheckResult:
    from sqlalchemy import func, select

    from email_engine.ops.job_status import last_runs
    from email_engine.ops.registry import all_jobs
    from email_engine.platform.models import JobRun

    def gather() -> CheckResult:
        jobs = [(spec.name, spec.interval_seconds) for spec in all_jobs(ctx.settings)]
        with ctx.session_factory() as session:
            last, last_ok, _scheduled = last_runs(session)
            first = session.scalar(select(func.min(JobRun.started_at)))
        aware = {name: run.started_at.astimezone(UTC) for name, run in last_ok.items()}
        return job_freshness(
            jobs,
            aware,
            {name: (run.status, run.error) for name, run in last.items()},
            now=utcnow(),
            first_run_at=first.astimezone(UTC) if first else None,
            stale_factor=ctx.settings.section(HealthSettings).job_stale_factor,
        )

    try:
        return await asyncio.wait_for(asyncio.to_thread(gather), timeout=5)
    except EmailEngineError as exc:  # e.g. scheduler settings naming an unknown job
        return CheckResult("fail", exc.detail)
    except Exception as exc:
        return CheckResult("fail", f"job runs cannot be read: {type(exc).__name__}")


CHECKS = [
    HealthCheck("database", check_database, critical=True),
    HealthCheck("redis", check_redis, critical=True),
    HealthCheck("scheduler", check_scheduler),
    HealthCheck("disk", check_disk),
    HealthCheck("jobs", check_jobs),
]
