"""The ``outbox`` job: deliver due events every few seconds (on the scheduler leader)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.ops.domain_settings import domain_settings
from email_engine.ops.jobspec import JobSpec
from email_engine.outbox.delivery import drain
from email_engine.outbox.settings import OutboxSettings


def run_outbox(ctx: AppContext, now: datetime) -> dict[str, Any]:
    del now  # the drain reads the clock itself to keep within its time budget
    report = drain(ctx, settings=domain_settings(ctx, OutboxSettings), clock=utcnow)
    return report.as_dict()


JOBS = [
    JobSpec(
        name="outbox",
        run=run_outbox,
        interval_seconds=10,
        description="Deliver due outbox events (alerts, scraper-pro feedback) with retries and backoff.",
    )
]
