"""Jobs of the ops domain: ``health`` (checks + alerts) and ``job-runs-prune``."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.integrations.alerts.service import Severity, raise_alert, resolve_alert
from email_engine.ops.domain_settings import domain_settings
from email_engine.ops.jobspec import JobSpec
from email_engine.ops.models import JobRun
from email_engine.ops.settings import SchedulerSettings

__all__ = ["JOBS", "alert_on_health", "run_health", "run_prune"]


def alert_on_health(ctx: AppContext, checks: dict[str, Any], now: datetime) -> int:
    """Raise ``health:<check>`` alerts for failing (critical) and warning checks, resolve the rest."""
    queued = 0
    with session_scope(ctx.session_factory) as session:
        for name, check in sorted(checks.items()):
            key = f"health:{name}"
            status = check["status"]
            if status in ("fail", "warn"):
                severity: Severity = "critical" if status == "fail" else "warning"
                queued += raise_alert(
                    session,
                    key=key,
                    severity=severity,
                    title=f"Health check {name}: {'failing' if status == 'fail' else 'warning'}",
                    text=str(check.get("detail", "")),
                    now=now,
                )
            else:
                queued += resolve_alert(session, key=key, now=now)
    return queued


def run_health(ctx: AppContext, now: datetime) -> dict[str, Any]:
    from email_engine.ops.router import run_checks  # the same checks as GET /health

    report = asyncio.run(run_checks(ctx))
    checks: dict[str, Any] = report["checks"]  # type: ignore[assignment]
    alerts = alert_on_health(ctx, checks, now)
    return {
        "status": report["status"],
        "checks": {name: check["status"] for name, check in checks.items()},
        "issues": report["issues"],
        "alerts_queued": alerts,
    }


def run_prune(ctx: AppContext, now: datetime) -> dict[str, Any]:
    days = domain_settings(ctx, SchedulerSettings).run_retention_days
    with session_scope(ctx.session_factory) as session:
        result = session.execute(delete(JobRun).where(JobRun.started_at < now - timedelta(days=days)))
        removed = int(getattr(result, "rowcount", 0) or 0)
    return {"removed": removed, "retention_days": days}


JOBS = [
    JobSpec(
        name="health",
        run=run_health,
        interval_seconds=300,
        description="Run every health check, record the results, raise or resolve alerts.",
    ),
    JobSpec(
        name="job-runs-prune",
        run=run_prune,
        interval_seconds=86400,
        description="Delete job-run records older than JOB_RUN_RETENTION_DAYS.",
    ),
]
