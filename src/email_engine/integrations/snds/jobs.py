"""The ``snds`` job: fetch the data and IP status feeds (skipped while SNDS_KEY is not set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.integrations.snds.service import fetch_and_store
from email_engine.integrations.snds.settings import SndsSettings
from email_engine.platform.jobspec import JobSpec

__all__ = ["job_specs", "run_snds"]


def run_snds(ctx: AppContext, now: datetime) -> dict[str, Any]:
    options = ctx.settings.section(SndsSettings)
    if not options.configured:
        return {"skipped": "SNDS_KEY is not set"}
    with session_scope(ctx.session_factory) as session:
        return fetch_and_store(session, options, now=now)


def job_specs(settings: Settings) -> list[JobSpec]:
    return [
        JobSpec(
            name="snds",
            run=run_snds,
            interval_seconds=settings.section(SndsSettings).interval,
            description="Fetch Microsoft SNDS data (per IP and day: filter result, complaint rate, trap hits) and "
            "the IP status feed of blocked ranges; the last SNDS_BACKFILL_DAYS days are asked again by date.",
        )
    ]
