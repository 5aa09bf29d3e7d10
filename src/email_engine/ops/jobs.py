"""Jobs of the ops domain: ``job-runs-prune`` (the ``health`` job raises alerts: ``integrations/alerts/jobs.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.jobspec import JobSpec
from email_engine.platform.models import JobRun

__all__ = ["JOBS", "run_prune"]


def run_prune(ctx: AppContext, now: datetime) -> dict[str, Any]:
    days = ctx.settings.section(SchedulerSettings).run_retention_days
    with session_scope(ctx.session_factory) as session:
        result = session.execute(delete(JobRun).where(JobRun.started_at < now - timedelta(days=days)))
        removed = int(getattr(result, "rowcount", 0) or 0)
    return {"removed": removed, "retention_days": days}


JOBS = [
    JobSpec(
        name="job-runs-prune",
        run=run_prune,
        interval_seconds=86400,
        description="Delete job-run records older than JOB_RUN_RETENTION_DAYS.",
    ),
]
