"""The ``postmaster`` job: Gmail's daily domain statistics and compliance (skipped until configured)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.integrations.postmaster.service import fetch_and_store
from email_engine.integrations.postmaster.settings import PostmasterSettings
from email_engine.platform.jobspec import JobSpec

__all__ = ["job_specs", "run_postmaster"]


def run_postmaster(ctx: AppContext, now: datetime) -> dict[str, Any]:
    options = ctx.settings.section(PostmasterSettings)
    if not options.configured:
        return {"skipped": "POSTMASTER_CREDENTIALS_FILE is not set"}
    with session_scope(ctx.session_factory) as session:
        return fetch_and_store(session, options, now=now)


def job_specs(settings: Settings) -> list[JobSpec]:
    return [
        JobSpec(
            name="postmaster",
            run=run_postmaster,
            interval_seconds=settings.section(PostmasterSettings).interval,
            description="Fetch Google Postmaster Tools v2 daily statistics (spam rate, authentication, delivery "
            "errors, feedback loops) and compliance status of each verified sending domain.",
        )
    ]
