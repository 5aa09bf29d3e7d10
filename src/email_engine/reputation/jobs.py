"""Periodic reputation jobs: DNSBL checks (every DNSBL_INTERVAL, default 4 h) and DNS authentication (daily)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.ops.domain_settings import domain_settings
from email_engine.ops.jobspec import JobSpec
from email_engine.reputation import auth_service, service
from email_engine.reputation.settings import ReputationSettings, get_reputation_settings


def run_blacklists(ctx: AppContext, now: datetime) -> dict[str, Any]:
    rep = domain_settings(ctx, ReputationSettings)
    with session_scope(ctx.session_factory) as session:
        summary = service.check_all(session, ctx.settings, rep, now=now)
    return {key: value for key, value in summary.items() if key != "results"}


def run_dns_auth(ctx: AppContext, now: datetime) -> dict[str, Any]:
    rep = domain_settings(ctx, ReputationSettings)
    with session_scope(ctx.session_factory) as session:
        summary = auth_service.validate_all_domains(session, ctx.settings, rep, now=now)
    return {key: value for key, value in summary.items() if key != "results"}


_settings = get_reputation_settings()

JOBS = [
    JobSpec(
        name="blacklists",
        run=run_blacklists,
        interval_seconds=_settings.dnsbl_interval,
        description="Check every sending IP and domain against the selected DNSBL zones; alert on new listings "
        "and delistings.",
    ),
    JobSpec(
        name="dns-auth",
        run=run_dns_auth,
        interval_seconds=_settings.dns_auth_interval,
        description="Validate SPF, DKIM, DMARC, PTR and bounce MX of every sending domain (Gmail/Yahoo summary).",
    ),
]
