"""Scheduled feedback jobs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.errors import ConfigurationError
from email_engine.feedback.domain_suppression import suppress_bad_domains
from email_engine.feedback.partitions import PARTITIONED, ensure_partitions
from email_engine.feedback.pseudonym import pseudonym_key
from email_engine.feedback.retention import RetentionPolicy, pseudonymise_before, purge_expired
from email_engine.feedback.settings import FeedbackSettings
from email_engine.ops.job_status import last_result
from email_engine.platform.jobspec import JobSpec

__all__ = ["JOBS", "RETENTION_JOB", "run_domain_suppression", "run_partitions", "run_retention"]

RETENTION_JOB = "feedback.retention"


def run_domain_suppression(ctx: AppContext, now: datetime) -> dict[str, Any]:
    settings = ctx.settings.section(FeedbackSettings)
    with session_scope(ctx.session_factory) as session:
        run = suppress_bad_domains(
            session,
            now=now,
            threshold=settings.domain_suppress_hard_rate,
            min_volume=settings.domain_suppress_min_volume,
        )
    return run.as_dict()


def run_partitions(ctx: AppContext, now: datetime) -> dict[str, Any]:
    """Day partitions from yesterday to PARTITIONS_AHEAD_DAYS ahead (PostgreSQL; nothing on SQLite)."""
    ahead = ctx.settings.section(FeedbackSettings).partitions_ahead_days
    today = now.date()
    days = [today + timedelta(days=offset) for offset in range(-1, ahead + 1)]
    made = {table: ensure_partitions(ctx.engine, table, days) for table in PARTITIONED}
    return {"created": sum(made.values()), **{f"created_{table}": count for table, count in made.items()}}


def _last_result(ctx: AppContext, job: str) -> dict[str, Any]:
    with ctx.session_factory() as session:
        return last_result(session, job)


def run_retention(ctx: AppContext, now: datetime) -> dict[str, Any]:
    """Purge past retention; then, with ACCOUNTING_PSEUDONYMISE_AFTER_DAYS, pseudonymise older recipients
    (from where the last run stopped, ``pseudonymised_before``)."""
    settings = ctx.settings.section(FeedbackSettings)
    policy = RetentionPolicy(
        records_days=settings.accounting_retention_days,
        dead_letters_days=settings.dead_letter_retention_days,
        stats_days=settings.stats_retention_days,
    )
    summary: dict[str, Any] = purge_expired(ctx.engine, now=now, policy=policy).as_dict()
    after = settings.pseudonymise_after_days
    key = pseudonym_key(ctx.settings)
    if after is not None:
        if key is None:
            raise ConfigurationError(
                "ACCOUNTING_PSEUDONYMISE_AFTER_DAYS is set but PRIVACY_HASH_KEY is not: set the key "
                "(a long random secret, kept stable) so recipients can be pseudonymised."
            )
        before = now.date() - timedelta(days=after)
        previous = _last_result(ctx, RETENTION_JOB).get("pseudonymised_before")
        since = date.fromisoformat(previous) if isinstance(previous, str) else None
        summary["pseudonymised"] = pseudonymise_before(ctx.engine, before=before, since=since, key=key)
        summary["pseudonymised_before"] = before.isoformat()
    return summary


JOBS: list[JobSpec] = [
    JobSpec(
        name=RETENTION_JOB,
        run=run_retention,
        interval_seconds=3600,
        description="Drop accounting records older than ACCOUNTING_RETENTION_DAYS (whole day partitions on "
        "PostgreSQL), dead letters older than DEAD_LETTER_RETENTION_DAYS, hourly aggregates older than "
        "STATS_RETENTION_DAYS and dictionary entries no kept record uses; with ACCOUNTING_PSEUDONYMISE_AFTER_DAYS, "
        "replace recipients of older records by their keyed pseudonyms; counts in the run's result.",
    ),
    JobSpec(
        name="feedback.partitions",
        run=run_partitions,
        interval_seconds=3600,
        description="Create the day partitions of accounting records and dead letters from yesterday to "
        "PARTITIONS_AHEAD_DAYS ahead (PostgreSQL; ingestion also creates a missing day on demand).",
    ),
    JobSpec(
        name="feedback.domain_suppression",
        run=run_domain_suppression,
        interval_seconds=3600,
        description="Suppress recipient domains whose 7-day hard-bounce rate is over "
        "DOMAIN_SUPPRESS_HARD_BOUNCE_RATE (with at least DOMAIN_SUPPRESS_MIN_VOLUME sends); "
        "big providers are only reported.",
    ),
]
