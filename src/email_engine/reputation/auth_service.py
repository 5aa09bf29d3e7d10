"""DNS-authentication validation of sending domains: run the checks, store the last report, alert.

Services flush; routers, CLI commands and jobs commit. ``now`` is always a parameter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.errors import DependencyUnavailable, NotFound
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import SendingDomain, SendingIp
from email_engine.reputation.auth_facts import CheckStatus
from email_engine.reputation.auth_lookup import evaluate_spf_live, gather_and_validate
from email_engine.reputation.compliance import (
    ComplianceStatus,
    DomainReport,
    RequirementStatus,
    SendingIpFacts,
)
from email_engine.reputation.models import DnsAuthCheck
from email_engine.reputation.settings import ReputationSettings
from email_engine.reputation.spf import SpfEvaluation
from email_engine.resolver import make_async_resolver

__all__ = [
    "StoredCheck",
    "StoredDomainReport",
    "StoredRequirement",
    "check_domain",
    "check_spf_now",
    "latest_domain_report",
    "sending_ip_facts",
    "validate_all_domains",
    "validate_domain_by_id",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredCheck:
    name: str
    status: CheckStatus
    sentence: str

    @property
    def message(self) -> str:
        return self.sentence


@dataclass(frozen=True, slots=True)
class StoredRequirement:
    """A Gmail/Yahoo bulk-sender requirement with the sentence saying what to do."""

    name: str
    status: RequirementStatus
    sentence: str


@dataclass(frozen=True, slots=True)
class StoredDomainReport:
    domain: str
    checked_at: datetime
    status: CheckStatus
    compliance: ComplianceStatus
    checks: list[StoredCheck]
    #: The requirements behind ``compliance`` (``reputation.compliance``).
    requirements: list[StoredRequirement] = field(default_factory=list)


def sending_ip_facts(session: Session) -> list[SendingIpFacts]:
    """The IPs that send for every domain: the inventory except retired ones."""
    rows = session.scalars(select(SendingIp).where(SendingIp.state != IpState.RETIRED).order_by(SendingIp.id))
    return [SendingIpFacts(row.address, row.hostname) for row in rows]


async def _bounded(rep: ReputationSettings, domain: str, work: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(work, timeout=rep.dnsbl_deadline)
    except TimeoutError:
        raise DependencyUnavailable(
            f"The DNS checks of {domain} did not finish within {rep.dnsbl_deadline:g} s (DNSBL_DEADLINE); "
            "the resolver is slow or unreachable, check again later."
        ) from None


def check_spf_now(
    settings: Settings, rep: ReputationSettings, *, ip: str, sender: str | None, helo: str | None
) -> SpfEvaluation:
    """RFC 7208 ``check_host()`` for one client as a receiver runs it (CLI ``spf check``); nothing stored."""
    resolver = make_async_resolver(settings, timeout=rep.dnsbl_timeout)
    work = evaluate_spf_live(resolver, ip, sender=sender, helo=helo, timeout=rep.dnsbl_timeout)
    return asyncio.run(_bounded(rep, sender or helo or ip, work))


async def _validate_many(
    settings: Settings,
    rep: ReputationSettings,
    domains: Sequence[SendingDomain],
    ips: Sequence[SendingIpFacts],
) -> list[DomainReport | BaseException]:
    resolver = make_async_resolver(settings, timeout=rep.dnsbl_timeout)
    jobs = [
        _bounded(
            rep,
            domain.name,
            gather_and_validate(
                resolver,
                domain.name,
                dkim_selector=domain.dkim_selector,
                bounce_domain=domain.bounce_domain,
                ips=ips,
                timeout=rep.dnsbl_timeout,
            ),
        )
        for domain in domains
    ]
    return await asyncio.gather(*jobs, return_exceptions=True)


def check_domain(
    settings: Settings,
    rep: ReputationSettings,
    *,
    domain: str,
    dkim_selector: str | None,
    bounce_domain: str | None,
    ips: Sequence[SendingIpFacts],
) -> DomainReport:
    """Validate any domain without storing anything (CLI ``auth-check``)."""
    resolver = make_async_resolver(settings, timeout=rep.dnsbl_timeout)
    work = gather_and_validate(
        resolver,
        domain,
        dkim_selector=dkim_selector,
        bounce_domain=bounce_domain,
        ips=ips,
        timeout=rep.dnsbl_timeout,
    )
    return asyncio.run(_bounded(rep, domain, work))


def _store(session: Session, domain: SendingDomain, report: DomainReport, now: datetime) -> None:
    row = session.scalar(select(DnsAuthCheck).where(DnsAuthCheck.domain_id == domain.id))
    payload = report.as_dict()
    if row is None:
        session.add(
            DnsAuthCheck(
                domain_id=domain.id,
                domain=report.domain,
                checked_at=now,
                status=report.status,
                compliance=report.compliance["status"],
                report=payload,
            )
        )
    else:
        row.domain, row.checked_at, row.status = report.domain, now, report.status
        row.compliance, row.report = report.compliance["status"], payload
    _alert(session, report, now)


def _alert(session: Session, report: DomainReport, now: datetime) -> None:
    try:
        from email_engine.integrations.alerts import service as alerts
    except ImportError:  # pragma: no cover - only in a build without the alerts domain
        return
    key = f"dns-auth:{report.domain}"
    failing = [check for check in report.checks if check.status == CheckStatus.FAIL]
    if failing:
        alerts.raise_alert(
            session,
            key=key,
            severity="warning",
            title=f"DNS authentication problems for {report.domain}",
            text=" ".join(check.sentence for check in failing),
            now=now,
        )
    else:
        alerts.resolve_alert(session, key=key, now=now)


def validate_domain_by_id(
    session: Session, settings: Settings, rep: ReputationSettings, *, domain_id: int, now: datetime
) -> dict[str, Any]:
    domain = session.get(SendingDomain, domain_id)
    if domain is None:
        raise NotFound(f"No sending domain with id {domain_id}; list them with GET /api/v1/domains.")
    [outcome] = asyncio.run(_validate_many(settings, rep, [domain], sending_ip_facts(session)))
    if isinstance(outcome, BaseException):
        raise outcome
    _store(session, domain, outcome, now)
    session.flush()
    return {"id": domain.id, "checked_at": now.isoformat(), **outcome.as_dict()}


def validate_all_domains(
    session: Session, settings: Settings, rep: ReputationSettings, *, now: datetime
) -> dict[str, Any]:
    domains = list(session.scalars(select(SendingDomain).order_by(SendingDomain.id)))
    outcomes = (
        asyncio.run(_validate_many(settings, rep, domains, sending_ip_facts(session))) if domains else []
    )
    reports: list[dict[str, Any]] = []
    errors: list[str] = []
    for domain, outcome in zip(domains, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            log.warning("dns-auth validation failed domain=%s error=%s", domain.name, outcome)
            errors.append(f"{domain.name}: {outcome}")
            continue
        _store(session, domain, outcome, now)
        reports.append({"id": domain.id, "checked_at": now.isoformat(), **outcome.as_dict()})
    session.flush()
    return {
        "checked": len(reports),
        "failing": sorted(r["domain"] for r in reports if r["status"] == CheckStatus.FAIL),
        "non_compliant": sorted(
            r["domain"] for r in reports if r["compliance"]["status"] == ComplianceStatus.NON_COMPLIANT
        ),
        "errors": errors,
        "results": reports,
    }


def latest_domain_report(session: Session, name: str) -> StoredDomainReport | None:
    """The last stored validation of the sending domain called ``name`` (None if never validated)."""
    row = session.scalar(select(DnsAuthCheck).where(DnsAuthCheck.domain == name.strip().lower().rstrip(".")))
    if row is None:
        return None
    checks = [
        StoredCheck(c["name"], CheckStatus(c["status"]), c["sentence"]) for c in row.report.get("checks", [])
    ]
    compliance = row.report.get("compliance")
    listed = compliance.get("requirements", []) if isinstance(compliance, dict) else []
    requirements = [
        StoredRequirement(r["name"], RequirementStatus(r["status"]), r["sentence"]) for r in listed
    ]
    return StoredDomainReport(
        row.domain,
        row.checked_at,
        CheckStatus(row.status),
        ComplianceStatus(row.compliance),
        checks,
        requirements,
    )


def stored_report(session: Session, *, domain_id: int) -> dict[str, Any]:
    """The stored report of one domain as the API returns it; NotFound when never validated."""
    row = session.scalar(select(DnsAuthCheck).where(DnsAuthCheck.domain_id == domain_id))
    if row is None:
        if session.get(SendingDomain, domain_id) is None:
            raise NotFound(f"No sending domain with id {domain_id}; list them with GET /api/v1/domains.")
        raise NotFound(
            f"Domain {domain_id} has not been validated yet; POST /api/v1/domains/{domain_id}/validate."
        )
    return {"id": domain_id, "checked_at": row.checked_at.isoformat(), **row.report}
