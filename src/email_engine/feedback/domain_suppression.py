"""Recipient domains whose 7-day hard-bounce rate is too high get suppressed as a whole.

A domain qualifies with at least ``min_volume`` sends in 7 days and a hard-bounce rate (hard / sent)
above ``threshold``. Big mailbox providers (gmail.com, outlook.com…) are never suppressed as a
whole: a high rate there says the list is bad, not that the domain is dead, so they are reported
as ``flagged`` for a person to look at. Both raise a warning alert (deduplicated by domain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.feedback.aggregate import hour_of
from email_engine.feedback.models import StatBucket, Suppression
from email_engine.feedback.providers import OTHER, provider_for_domain
from email_engine.feedback.suppression import SuppressionEntry, upsert_suppressions
from email_engine.integrations.alerts.service import raise_alert

__all__ = ["DomainVerdict", "SuppressionRun", "decide_domains", "suppress_bad_domains"]

log = structlog.get_logger("email_engine.feedback.domains")
WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DomainVerdict:
    domain: str
    sent: int
    hard: int

    @property
    def rate(self) -> float:
        return self.hard / self.sent if self.sent else 0.0


@dataclass(slots=True)
class SuppressionRun:
    suppressed: list[DomainVerdict] = field(default_factory=list)
    flagged: list[DomainVerdict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def show(items: list[DomainVerdict]) -> list[dict[str, Any]]:
            return [
                {"domain": v.domain, "sent": v.sent, "hard": v.hard, "rate": round(v.rate, 4)} for v in items
            ]

        return {"suppressed": show(self.suppressed), "flagged": show(self.flagged)}


def decide_domains(
    totals: list[tuple[str, int, int]], *, threshold: float, min_volume: int, already: set[str]
) -> SuppressionRun:
    """Pure: which (domain, sent, hard) rows to suppress and which to flag."""
    run = SuppressionRun()
    for domain, sent, hard in sorted(totals):
        verdict = DomainVerdict(domain=domain, sent=sent, hard=hard)
        if sent < min_volume or verdict.rate <= threshold or domain in already:
            continue
        if provider_for_domain(domain) != OTHER:
            run.flagged.append(verdict)
        else:
            run.suppressed.append(verdict)
    return run


def suppress_bad_domains(
    session: Session, *, now: datetime, threshold: float, min_volume: int
) -> SuppressionRun:
    since = hour_of(now - WINDOW)
    rows = session.execute(
        select(StatBucket.key, func.sum(StatBucket.sent), func.sum(StatBucket.hard))
        .where(StatBucket.dimension == "rcpt_domain", StatBucket.hour >= since)
        .group_by(StatBucket.key)
        .having(func.sum(StatBucket.sent) >= min_volume)
    ).all()
    totals = [(str(key), int(sent), int(hard)) for key, sent, hard in rows]
    domains = [domain for domain, _sent, _hard in totals]
    already = (
        set(session.scalars(select(Suppression.value).where(Suppression.value.in_(domains))))
        if domains
        else set()
    )
    run = decide_domains(totals, threshold=threshold, min_volume=min_volume, already=already)
    upsert_suppressions(
        session,
        [
            SuppressionEntry(
                value=verdict.domain,
                kind="domain",
                reason="domain_hard_bounce_rate",
                source="job:feedback.domain_suppression",
                seen_at=now,
                note=f"{verdict.hard} hard bounces of {verdict.sent} sent in 7 days ({verdict.rate:.1%})",
            )
            for verdict in run.suppressed
        ],
    )
    for verdict in run.suppressed:
        raise_alert(
            session,
            key=f"feedback.domain_suppressed:{verdict.domain}",
            severity="warning",
            title=f"Recipient domain {verdict.domain} suppressed",
            text=f"{verdict.hard} hard bounces of {verdict.sent} sent in 7 days ({verdict.rate:.1%}, over "
            f"{threshold:.0%}); the whole domain is on the suppression list. Remove it with "
            f"DELETE /api/v1/suppressions/{verdict.domain} if it recovers.",
            now=now,
        )
        log.warning(
            "domain_suppressed",
            domain=verdict.domain,
            sent=verdict.sent,
            hard=verdict.hard,
            rate=round(verdict.rate, 4),
        )
    for verdict in run.flagged:
        raise_alert(
            session,
            key=f"feedback.provider_hard_bounces:{verdict.domain}",
            severity="warning",
            title=f"High hard-bounce rate at {verdict.domain}",
            text=f"{verdict.hard} hard bounces of {verdict.sent} sent in 7 days ({verdict.rate:.1%}). A big "
            "provider is never suppressed whole: clean the list that feeds it.",
            now=now,
        )
        log.warning(
            "provider_domain_high_hard_bounce_rate",
            domain=verdict.domain,
            sent=verdict.sent,
            hard=verdict.hard,
            rate=round(verdict.rate, 4),
        )
    session.flush()
    return run
