"""DMARC jobs: ``dmarc-imap`` (read reports from the mailbox) and ``dmarc-classify`` (reverse DNS of sources)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.dmarc import service
from email_engine.dmarc.settings import DmarcSettings
from email_engine.platform.jobspec import JobSpec
from email_engine.resolver import make_async_resolver

__all__ = ["job_specs", "run_classify", "run_imap"]


def run_classify(ctx: AppContext, now: datetime) -> dict[str, Any]:
    options = ctx.settings.section(DmarcSettings)
    resolver = make_async_resolver(ctx.settings)
    with session_scope(ctx.session_factory) as session:
        return service.classify_sources(
            session,
            resolver,
            now=now,
            concurrency=options.classify_concurrency,
            retry_after=timedelta(hours=options.classify_retry_hours),
        )


def run_imap(ctx: AppContext, now: datetime) -> dict[str, Any]:
    from email_engine.dmarc.mailbox import fetch_reports

    options = ctx.settings.section(DmarcSettings)
    if not options.imap_configured:
        return {"skipped": "DMARC_IMAP_HOST, DMARC_IMAP_USER and DMARC_IMAP_PASSWORD are not set"}
    summary = fetch_reports(ctx.session_factory, options, now=now)
    return summary.as_dict()


def job_specs(settings: Settings) -> list[JobSpec]:
    options = settings.section(DmarcSettings)
    return [
        JobSpec(
            name="dmarc-imap",
            run=run_imap,
            interval_seconds=options.imap_interval,
            description="Import DMARC aggregate reports from the DMARC_IMAP_* mailbox; imported messages move to "
            "DMARC_IMAP_PROCESSED_FOLDER, unreadable ones to DMARC_IMAP_INVALID_FOLDER (never deleted unless "
            "DMARC_IMAP_DELETE=true).",
        ),
        JobSpec(
            name="dmarc-classify",
            run=run_classify,
            interval_seconds=options.classify_interval,
            description="Look up the reverse DNS of new DMARC source IPs (forward-confirmed) to tell known "
            "forwarders from unknown senders.",
        ),
    ]
