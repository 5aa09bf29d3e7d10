"""Scheduled job: run pending validation jobs and resume those whose worker died."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.platform.jobspec import JobSpec
from email_engine.validation.bulk import purge_expired_jobs, run_pending_jobs


def run_validation_jobs(ctx: AppContext, now: datetime) -> dict[str, Any]:
    # Long jobs read the clock for their lease as they go; `now` dates the retention cut-off.
    summary = run_pending_jobs(ctx, clock=utcnow)
    summary["purged"] = purge_expired_jobs(ctx, now=now)
    return summary


JOBS = [
    JobSpec(
        name="validation-jobs",
        run=run_validation_jobs,
        interval_seconds=30,
        description="Run uploaded CSV validation jobs, resume any whose worker stopped (from its checkpoint), "
        "delete job files older than VALIDATION_JOBS_RETENTION_DAYS.",
    )
]
