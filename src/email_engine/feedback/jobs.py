"""Scheduled feedback jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.feedback.domain_suppression import suppress_bad_domains
from email_engine.feedback.settings import feedback_settings
from email_engine.ops.jobspec import JobSpec

__all__ = ["JOBS", "run_domain_suppression"]


def run_domain_suppression(ctx: AppContext, now: datetime) -> dict[str, Any]:
    settings = feedback_settings(ctx)
    with session_scope(ctx.session_factory) as session:
        run = suppress_bad_domains(
            session,
            now=now,
            threshold=settings.domain_suppress_hard_rate,
            min_volume=settings.domain_suppress_min_volume,
        )
    return run.as_dict()


JOBS: list[JobSpec] = [
    JobSpec(
        name="feedback.domain_suppression",
        run=run_domain_suppression,
        interval_seconds=3600,
        description="Suppress recipient domains whose 7-day hard-bounce rate is over "
        "DOMAIN_SUPPRESS_HARD_BOUNCE_RATE (with at least DOMAIN_SUPPRESS_MIN_VOLUME sends); "
        "big providers are only reported.",
    )
]
