"""Periodic reputation jobs: DNSBL checks (every DNSBL_INTERVAL, default 4 h) and DNS authentication (daily)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.platform.jobspec import JobSpec
from email_engine.plugins import domain_modules
from email_engine.reputation import auth_service, service
from email_engine.reputation.settings import ReputationSettings


def run_blacklists(ctx: AppContext, now: datetime) -> dict[str, Any]:
    """Check every zone; when an IP is listed, run each domain's ``ON_LISTED`` at once (warmup's
    failover pass, so a listed IP is stopped within this run, not at the next failover tick)."""
    rep = ctx.settings.section(ReputationSettings)
    with session_scope(ctx.session_factory) as session:
        summary = service.check_all(session, ctx.settings, rep, now=now)
    result = {key: value for key, value in summary.items() if key != "results"}
    if summary.get("listed"):
        for module in domain_modules("jobs"):
            if hasattr(module, "ON_LISTED"):
                result.update(module.ON_LISTED(ctx, now))
    return result


def run_dns_auth(ctx: AppContext, now: datetime) -> dict[str, Any]:
    rep = ctx.settings.section(ReputationSettings)
    with session_scope(ctx.session_factory) as session:
        summary = auth_service.validate_all_domains(session, ctx.settings, rep, now=now)
    return {key: value for key, value in summary.items() if key != "results"}


def job_specs(settings: Settings) -> list[JobSpec]:
    rep = settings.section(ReputationSettings)
    return [
        JobSpec(
            name="blacklists",
            run=run_blacklists,
            interval_seconds=rep.dnsbl_interval,
            description="Check every sending IP and domain against the selected DNSBL zones; alert on new listings "
            "and delistings; when an IP is listed, run the failover pass at once (the IP stops within this run).",
        ),
        JobSpec(
            name="dns-auth",
            run=run_dns_auth,
            interval_seconds=rep.dns_auth_interval,
            description="Validate SPF, DKIM, DMARC, PTR and bounce MX of every sending domain (Gmail/Yahoo summary).",
        ),
    ]
