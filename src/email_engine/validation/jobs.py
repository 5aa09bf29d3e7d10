"""Scheduled job: run pending validation jobs and resume those whose worker died."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.ops.jobspec import JobSpec
from email_engine.validation.bulk import run_pending_jobs


def run_validation_jobs(ctx: AppContext, now: datetime) -> dict[str, Any]:
    del now  # long jobs read the clock for their lease as they go
    return run_pending_jobs(ctx, clock=utcnow)


JOBS = [
    JobSpec(
        name="validation-jobs",
        run=run_validation_jobs,
        interval_seconds=30,
        description="Run uploaded CSV validation jobs; resume any whose worker stopped (from its checkpoint).",
    )
]
