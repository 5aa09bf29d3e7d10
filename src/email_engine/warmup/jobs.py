"""Scheduled jobs: ``warmup`` (daily decisions + MailWizz quotas) and ``failover`` (guarded failover)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.errors import ConfigurationError
from email_engine.ips.actuation import MAILWIZZ_ADAPTER_KEY, ServerWriter
from email_engine.platform.jobspec import JobSpec
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup import daily_run, failover_service
from email_engine.warmup.settings import WarmupSettings

if TYPE_CHECKING:
    from email_engine.integrations.mailwizz.campaigns import CampaignApi

__all__ = [
    "JOBS",
    "MAILWIZZ_API_KEY",
    "campaign_api",
    "fail_over_listed",
    "mailwizz_writer",
    "run_failover_job",
    "run_warmup_job",
]

log = structlog.get_logger(__name__)

MAILWIZZ_KEY = MAILWIZZ_ADAPTER_KEY  # tests install an adapter under this key
MAILWIZZ_API_KEY = "warmup.mailwizz_api"  # … and a MailWizz API client under this one


def mailwizz_writer(ctx: AppContext) -> ServerWriter | None:
    """The inventory's MailWizz adapter for this context (``ips.actuation.mailwizz_adapter``), or None
    when the MailWizz database is not configured (pushes are then skipped and reported)."""
    from email_engine.ips.actuation import mailwizz_adapter

    try:
        return mailwizz_adapter(ctx)
    except ConfigurationError as exc:
        log.info("warmup.mailwizz_not_configured", detail=exc.detail)
        return None


@contextmanager
def campaign_api(ctx: AppContext) -> Iterator[CampaignApi | None]:
    """MailWizz's API client for pausing campaigns (``MAILWIZZ_API_URL`` and its credentials), or
    None when it is not configured (the failover alert then names the campaigns to pause by hand)."""
    installed = ctx.extras.get(MAILWIZZ_API_KEY)
    if installed is not None:
        yield installed  # type: ignore[misc]
        return
    from email_engine.integrations.mailwizz.api import MailwizzApi
    from email_engine.integrations.mailwizz.settings import MailwizzSettings

    settings = ctx.settings.section(MailwizzSettings)
    if not settings.api_url:
        yield None
        return
    try:
        api = MailwizzApi.from_settings(settings)
    except ConfigurationError as exc:
        log.warning("warmup.mailwizz_api_not_configured", detail=exc.detail)
        yield None
        return
    with api:
        yield api


def run_warmup_job(ctx: AppContext, now: datetime) -> dict[str, Any]:
    with session_scope(ctx.session_factory) as session:
        return daily_run.run_warmup(
            session, now=now, mailwizz=mailwizz_writer(ctx), signals=ctx.settings.section(SignalSettings)
        )


def run_failover_job(ctx: AppContext, now: datetime) -> dict[str, Any]:
    with campaign_api(ctx) as api, session_scope(ctx.session_factory) as session:
        return failover_service.run_failover(
            session,
            now=now,
            mailwizz=mailwizz_writer(ctx),
            settings=ctx.settings.section(WarmupSettings),
            signals=ctx.settings.section(SignalSettings),
            campaigns_api=api,
        )


def fail_over_listed(ctx: AppContext, now: datetime) -> dict[str, Any]:
    """The failover pass the blacklists job runs as soon as it finds a listed IP (``ON_LISTED``)."""
    failover = run_failover_job(ctx, now)
    return {
        "failover": {
            "actions": [{"address": a["address"], "action": a["action"]} for a in failover["actions"]],
            "errors": failover["errors"],
        }
    }


#: Run by reputation's ``blacklists`` job when a check finds a listed IP; its keys join that run's result.
ON_LISTED = fail_over_listed

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
        "cause a traffic hold keeps it stopped until an operator resolves it and the MailWizz campaigns "
        "that were sending through it are paused through MailWizz's API (never unpaused); otherwise a warm standby of "
        "the same pool takes over at a safe volume, once per cooldown (a cold one starts warming). Moves "
        "quarantined IPs without a hold through resting back to a new warmup plan.",
    ),
]
