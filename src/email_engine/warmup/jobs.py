"""Scheduled jobs: ``warmup`` (daily decisions + MailWizz quotas) and ``failover`` (guarded failover)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.errors import ConfigurationError
from email_engine.ips.actuation import MAILWIZZ_ADAPTER_KEY, ServerWriter
from email_engine.ops.jobspec import JobSpec
from email_engine.warmup import failover_service, service
from email_engine.warmup.settings import WarmupSettings, get_warmup_settings

__all__ = ["JOBS", "mailwizz_writer", "run_failover_job", "run_warmup_job", "warmup_settings"]

log = structlog.get_logger(__name__)

SETTINGS_KEY = "warmup.settings"
MAILWIZZ_KEY = MAILWIZZ_ADAPTER_KEY  # tests install an adapter under this key


def warmup_settings(ctx: AppContext) -> WarmupSettings:
    """The context's warmup settings (tests install their own under ``ctx.extras``)."""
    value = ctx.extras.get(SETTINGS_KEY)
    return value if isinstance(value, WarmupSettings) else get_warmup_settings()


def mailwizz_writer(ctx: AppContext) -> ServerWriter | None:
    """The inventory's MailWizz adapter for this context (``ips.actuation.mailwizz_adapter``), or None
    when the MailWizz database is not configured (pushes are then skipped and reported)."""
    from email_engine.ips.actuation import mailwizz_adapter

    try:
        return mailwizz_adapter(ctx)
    except ConfigurationError as exc:
        log.info("warmup.mailwizz_not_configured", detail=exc.detail)
        return None


def run_warmup_job(ctx: AppContext, now: datetime) -> dict[str, Any]:
    with session_scope(ctx.session_factory) as session:
        return service.run_warmup(session, now=now, mailwizz=mailwizz_writer(ctx))


def run_failover_job(ctx: AppContext, now: datetime) -> dict[str, Any]:
    with session_scope(ctx.session_factory) as session:
        return failover_service.run_failover(
            session, now=now, mailwizz=mailwizz_writer(ctx), settings=warmup_settings(ctx)
        )


JOBS: list[JobSpec] = [
    JobSpec(
        name="warmup",
        run=run_warmup_job,
        interval_seconds=3600,
        description="Decide today's step of every running warmup plan from yesterday's results (once per "
        "UTC day) and push the day's hourly/daily quotas and status to MailWizz (every run; failed pushes "
        "are retried).",
    ),
    JobSpec(
        name="failover",
        run=run_failover_job,
        interval_seconds=900,
        description="Stop every sending IP listed on a major DNSBL or with a block spike (quarantined, "
        "MailWizz inactive, PowerMTA rate 0). Blocks never fail over; when the list or the content is the "
        "cause a traffic hold keeps it stopped until an operator resolves it; otherwise a warm standby of "
        "the same pool takes over at a safe volume, once per cooldown (a cold one starts warming). Moves "
        "quarantined IPs without a hold through resting back to a new warmup plan.",
    ),
]
