"""The ``health`` job: every health check (``ops.service.run_checks``, the same as GET /health), recorded
with the job run, and a ``health:<check>`` alert raised for each failing or warning check and resolved
when it passes again."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.integrations.alerts.service import Severity, raise_alert, resolve_alert
from email_engine.ops.service import run_checks
from email_engine.platform.jobspec import JobSpec

__all__ = ["HEALTH_JOB", "JOBS", "alert_on_health", "run_health"]

HEALTH_JOB = "health"


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
    report = asyncio.run(run_checks(ctx))
    checks: dict[str, Any] = report["checks"]
    alerts = alert_on_health(ctx, checks, now)
    return {
        "status": report["status"],
        "checks": {name: check["status"] for name, check in checks.items()},
        "issues": report["issues"],
        "alerts_queued": alerts,
    }


JOBS = [
    JobSpec(
        name=HEALTH_JOB,
        run=run_health,
        interval_seconds=300,
        description="Run every health check, record the results, raise or resolve alerts.",
    ),
]
