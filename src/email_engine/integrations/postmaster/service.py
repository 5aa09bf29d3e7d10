"""Fetch Gmail's daily domain statistics and compliance status; read them back per domain and day.

Which domains: ``POSTMASTER_DOMAINS``, else every sending domain of the inventory. Each is checked
against the domains registered to the service account (``domains.list``): an unverified or unknown
domain is reported, not queried. One domain's error (e.g. PERMISSION_DENIED) is recorded and the
others go on; an unreachable API or token endpoint fails the run (retried at the next interval).
Days are upserted per (domain, day), so a re-fetch only refreshes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError
from email_engine.integrations.postmaster.client import PostmasterApiError, PostmasterClient, TokenSource
from email_engine.integrations.postmaster.models import PostmasterCompliance, PostmasterDomainDay
from email_engine.integrations.postmaster.settings import PostmasterSettings
from email_engine.integrations.postmaster.stats import (
    RATE_FIELDS,
    DomainDay,
    fbl_metrics,
    parse_compliance,
    parse_domain_stats,
)

__all__ = [
    "domain_days",
    "fetch_and_store",
    "latest_compliance",
    "make_client",
    "store_days",
    "stored_domains",
]

log = structlog.get_logger(__name__)

ClientFactory = Callable[[PostmasterSettings], PostmasterClient]


def make_client(options: PostmasterSettings) -> PostmasterClient:
    if options.credentials_file is None:
        raise ConfigurationError(
            "Set POSTMASTER_CREDENTIALS_FILE to a service-account key to read Postmaster Tools."
        )
    tokens = TokenSource(options.credentials_file, token_url=options.token_url, timeout=options.timeout)
    return PostmasterClient(options.api_url, tokens, timeout=options.timeout)


def store_days(session: Session, domain: str, days: Iterable[DomainDay], *, now: datetime) -> int:
    written = 0
    for day in days:
        row = session.scalar(
            select(PostmasterDomainDay).where(
                PostmasterDomainDay.domain == domain, PostmasterDomainDay.day == day.day
            )
        )
        if row is None:
            row = PostmasterDomainDay(domain=domain, day=day.day)
            session.add(row)
        for name in RATE_FIELDS:
            setattr(row, name, day.rates.get(name))
        row.fbl_spam_rate = day.fbl_spam_rate
        row.extra = {"feedback_loop_ids": day.feedback_loop_ids, "fbl_spam_rates": day.fbl_spam_rates}
        row.fetched_at = now
        written += 1
    session.flush()
    return written


def _domains(session: Session, options: PostmasterSettings) -> list[str]:
    if options.domains:
        return list(dict.fromkeys(options.domains))
    from email_engine.ips.models import SendingDomain

    return sorted(session.scalars(select(SendingDomain.name)))


def _fetch_domain(
    session: Session, api: PostmasterClient, domain: str, options: PostmasterSettings, *, now: datetime
) -> dict[str, Any]:
    end = now.date()
    start = end - timedelta(days=options.lookback_days)
    days, problems = parse_domain_stats(api.domain_stats(domain, start, end))
    ids = sorted({fbl for day in days.values() for fbl in day.feedback_loop_ids})[
        : options.max_feedback_loops
    ]
    if ids:
        _more, fbl_problems = parse_domain_stats(
            api.domain_stats(domain, start, end, metrics=fbl_metrics(ids)), days
        )
        problems += fbl_problems
    written = store_days(session, domain, days.values(), now=now)
    compliance = parse_compliance(api.compliance(domain))
    row = session.scalar(select(PostmasterCompliance).where(PostmasterCompliance.domain == domain))
    if row is None:
        row = PostmasterCompliance(domain=domain)
        session.add(row)
    row.requirements = dict(compliance.requirements)
    row.one_click_unsubscribe = compliance.one_click_unsubscribe
    row.honor_unsubscribe = compliance.honor_unsubscribe
    row.compliant = compliance.compliant
    row.fetched_at = now
    session.flush()
    return {
        "days": written,
        "problems": problems[:20],
        "compliant": compliance.compliant,
        "needs_work": compliance.needs_work(),
    }


def fetch_and_store(
    session: Session,
    options: PostmasterSettings,
    *,
    now: datetime,
    client_factory: ClientFactory = make_client,
) -> dict[str, Any]:
    api = client_factory(options)
    summary: dict[str, Any] = {"domains": {}, "skipped": {}, "errors": {}}
    try:
        registered = {
            str(item.get("name", "")).removeprefix("domains/").lower(): str(item.get("verificationState", ""))
            for item in api.domains()
        }
        for domain in _domains(session, options):
            state = registered.get(domain)
            if state is None:
                summary["skipped"][domain] = "not registered in Postmaster Tools for this service account"
                continue
            if state not in ("VERIFIED", ""):
                summary["skipped"][domain] = f"registered but {state.lower()}"
                continue
            try:
                with session.begin_nested():
                    summary["domains"][domain] = _fetch_domain(session, api, domain, options, now=now)
            except PostmasterApiError as exc:
                if exc.http_status >= 500 or exc.http_status == 429:
                    raise  # the API is down or throttling: fail the run, retry later
                summary["errors"][domain] = exc.detail
    finally:
        api.close()
    log.info(
        "postmaster.fetched",
        domains=len(summary["domains"]),
        skipped=len(summary["skipped"]),
        errors=len(summary["errors"]),
    )
    return summary


def domain_days(
    session: Session, *, domains: Iterable[str], since: date, until: date
) -> list[PostmasterDomainDay]:
    wanted = list(set(domains))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(PostmasterDomainDay)
            .where(
                PostmasterDomainDay.domain.in_(wanted),
                PostmasterDomainDay.day >= since,
                PostmasterDomainDay.day <= until,
            )
            .order_by(PostmasterDomainDay.day, PostmasterDomainDay.domain)
        )
    )


def latest_compliance(session: Session) -> list[PostmasterCompliance]:
    return list(session.scalars(select(PostmasterCompliance).order_by(PostmasterCompliance.domain)))


def stored_domains(session: Session) -> list[str]:
    return sorted(session.scalars(select(PostmasterDomainDay.domain).distinct()))
