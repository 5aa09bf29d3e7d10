"""Health checks: DNSBL listings (fail on a major list, warn on a minor one or a zone that cannot see) and the
DNS-auth summary."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.ips.models import SendingDomain, SendingIp
from email_engine.platform.healthcheck import CheckResult, HealthCheck
from email_engine.reputation.auth_facts import CheckStatus
from email_engine.reputation.dnsbl import RESOLVER_FIX
from email_engine.reputation.models import DnsAuthCheck, DnsblCheck, DnsblListing
from email_engine.reputation.service import unusable_zones
from email_engine.reputation.settings import ReputationSettings


def blacklist_summary(ctx: AppContext, now: datetime) -> CheckResult:
    rep = ctx.settings.section(ReputationSettings)
    with ctx.session_factory() as session:
        listings = list(session.scalars(select(DnsblListing).where(DnsblListing.delisted_at.is_(None))))
        checks = list(session.scalars(select(DnsblCheck)))
        has_inventory = session.scalar(select(func.count()).select_from(SendingIp)) or session.scalar(
            select(func.count()).select_from(SendingDomain)
        )
    if not checks and not has_inventory:
        return CheckResult("ok", "No sending IPs or domains in the inventory; nothing to check.")
    if not checks:
        return CheckResult("warn", "No DNSBL check has run yet; run `email-engine jobs run blacklists`.")
    last = max(check.checked_at for check in checks)
    data: dict[str, Any] = {
        "last_check_at": last.isoformat(),
        "listings": [
            {
                "target": row.target,
                "zone": row.zone,
                "major": row.major,
                "since": row.first_seen_at.isoformat(),
            }
            for row in listings
        ],
    }
    major = sorted({f"{row.target} on {row.zone}" for row in listings if row.major})
    minor = sorted({f"{row.target} on {row.zone}" for row in listings if not row.major})
    if major:
        return CheckResult("fail", "Listed on a major blocklist: " + ", ".join(major), data)
    if minor:
        return CheckResult("warn", "Listed on a minor blocklist: " + ", ".join(minor), data)
    blind = sorted(
        {
            result["zone"]
            for check in checks
            for result in check.results
            if result["status"] in ("error", "unknown")
        }
    )
    if now - last > timedelta(seconds=2 * rep.dnsbl_interval):
        return CheckResult(
            "warn", f"The last DNSBL check ran at {last.isoformat()}; the blacklists job is late.", data
        )
    unusable = unusable_zones(check.results for check in checks)
    if unusable:
        data["unusable_zones"] = unusable
        return CheckResult(
            "warn",
            "No listing seen, but these zones failed their RFC 5782 test points (127.0.0.2 must be listed, "
            "127.0.0.1 must not), so they cannot see and a listing there would go unseen: "
            + ", ".join(unusable)
            + f". Fix: {RESOLVER_FIX}.",
            data,
        )
    if blind:
        data["zones_without_answer"] = blind
        return CheckResult(
            "warn",
            "No listing, but these zones gave no usable answer last time (so a listing there would go "
            "unseen): "
            + ", ".join(blind)
            + ". Fix the resolver (see the meanings in GET /api/v1/blacklists/checks) "
            "or drop the zone with PUT /api/v1/blacklists/zones.",
            data,
        )
    return CheckResult("ok", f"No listings (last check {last.isoformat()})", data)


def dns_auth_summary(ctx: AppContext, now: datetime) -> CheckResult:
    rep = ctx.settings.section(ReputationSettings)
    with ctx.session_factory() as session:
        rows = list(session.scalars(select(DnsAuthCheck).order_by(DnsAuthCheck.domain)))
        domains = session.scalar(select(func.count()).select_from(SendingDomain))
    if not rows and not domains:
        return CheckResult("ok", "No sending domains in the inventory; nothing to validate.")
    if not rows:
        return CheckResult("warn", "No domain has been validated yet; run `email-engine jobs run dns-auth`.")
    data = {
        row.domain: {
            "status": row.status,
            "compliance": row.compliance,
            "checked_at": row.checked_at.isoformat(),
        }
        for row in rows
    }
    failing = [row.domain for row in rows if row.status == CheckStatus.FAIL]
    warned = [row.domain for row in rows if row.status == CheckStatus.WARN]
    stale = [
        row.domain for row in rows if now - row.checked_at > timedelta(seconds=2 * rep.dns_auth_interval)
    ]
    if failing:
        return CheckResult("fail", "DNS authentication fails for " + ", ".join(failing), data)
    if stale:
        return CheckResult("warn", "DNS authentication not re-checked recently for " + ", ".join(stale), data)
    unverified = [row.domain for row in rows if row.status == CheckStatus.UNKNOWN]
    if unverified:
        return CheckResult(
            "warn",
            "DNS authentication could not be verified (DNS did not answer) for " + ", ".join(unverified),
            data,
        )
    if warned:
        return CheckResult("warn", "DNS authentication has warnings for " + ", ".join(warned), data)
    return CheckResult("ok", f"{len(rows)} domain(s) pass SPF, DKIM, DMARC and PTR checks", data)


async def check_blacklists(ctx: AppContext) -> CheckResult:
    return await asyncio.to_thread(blacklist_summary, ctx, utcnow())


async def check_dns_auth(ctx: AppContext) -> CheckResult:
    return await asyncio.to_thread(dns_auth_summary, ctx, utcnow())


CHECKS = [
    HealthCheck("blacklists", check_blacklists, critical=False),
    HealthCheck("dns_auth", check_dns_auth, critical=False),
]
