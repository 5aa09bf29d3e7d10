"""The preflight items of reputation: DNS authentication per sending domain and blacklists per IP,
both from the last stored check (the jobs ``dns-auth`` and ``blacklists`` make them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from email_engine.context import AppContext
from email_engine.ips.service import sending_inventory
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings
from email_engine.reputation.auth_facts import CheckStatus
from email_engine.reputation.auth_service import StoredDomainReport, latest_domain_report
from email_engine.reputation.compliance import ComplianceStatus
from email_engine.reputation.dnsbl import RESOLVER_FIX
from email_engine.reputation.service import last_checks, listed_ips, unusable_zones
from email_engine.reputation.settings import ReputationSettings

__all__ = ["CHECKS", "check_blacklists", "check_dns_auth", "dns_auth_item"]


def check_dns_auth(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    """SPF, DKIM, DMARC, PTR and bounce MX per domain, from the last stored dns-auth validation."""
    max_age = timedelta(seconds=2 * ctx.settings.section(ReputationSettings).dns_auth_interval)
    with ctx.session_factory() as session:
        _ips, domains = sending_inventory(session)
        reports = [(domain_id, name, latest_domain_report(session, name)) for domain_id, name in domains]
    if not domains:
        yield Item("dns records", "skip", "no sending domains", "Add sending domains first.")
        return
    for domain_id, name, report in reports:
        yield dns_auth_item(domain_id, name, report, now=now, max_age=max_age)


def dns_auth_item(
    domain_id: int, name: str, report: StoredDomainReport | None, *, now: datetime, max_age: timedelta
) -> Item:
    """Pure: the checklist line for one domain from reputation's last stored validation."""
    revalidate = f"POST /api/v1/domains/{domain_id}/validate (or `email-engine jobs run dns-auth`)"
    if report is None:
        return Item(
            f"dns {name}", "fail", "SPF/DKIM/DMARC/PTR never validated", f"Validate it: {revalidate}."
        )
    age = now - report.checked_at
    if age > max_age:
        return Item(
            f"dns {name}",
            "fail",
            f"last validated {age.total_seconds() / 3600:.0f} h ago (older than {max_age})",
            f"Validate it again: {revalidate}.",
        )
    failing = [
        f"{check.name}: {check.message}" for check in report.checks if check.status == CheckStatus.FAIL
    ]
    # A record DNS did not answer for (timeout, server failure) is "unknown": neither pass nor fail.
    unread = [
        f"{check.name}: {check.message}" for check in report.checks if check.status == CheckStatus.UNKNOWN
    ]
    if failing or report.compliance == ComplianceStatus.NON_COMPLIANT:
        detail = "; ".join(failing) or "not compliant with the Gmail/Yahoo bulk-sender rules"
        return Item(
            f"dns {name}",
            "fail",
            detail[:500],
            f"Publish the records from `email-engine dns records {name}`, then {revalidate}.",
        )
    if unread or report.compliance == ComplianceStatus.UNKNOWN:
        detail = "; ".join(unread) or "some records could not be read"
        return Item(
            f"dns {name}",
            "fail",
            f"not verified: {detail}"[:500],
            f"Check that the domain's name servers answer, then {revalidate}.",
        )
    warnings = sum(1 for check in report.checks if check.status == CheckStatus.WARN)
    note = f" ({warnings} warnings: `email-engine auth-check {name}`)" if warnings else ""
    return Item(
        f"dns {name}",
        "pass",
        f"SPF, DKIM, DMARC and PTR pass, validated {age.total_seconds() / 3600:.1f} h ago{note}",
    )


def check_blacklists(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    """0 listed IPs, each proven by a recent check in which at least one zone answered "clean"."""
    # The same lateness rule as the reputation health check: two missed runs of the blacklists job.
    max_age = timedelta(seconds=2 * ctx.settings.section(ReputationSettings).dnsbl_interval)
    with ctx.session_factory() as session:
        ips, _domains = sending_inventory(session)
        listed = listed_ips(session)
        checks = {check.target: check for check in last_checks(session)}
    if not ips:
        yield Item("blacklists", "skip", "no sending IPs to check", "Add IPs first.")
        return
    on_lists = {ip: [listing.zone for listing in listed[ip]] for ip in ips if ip in listed}
    stale = [ip for ip in ips if ip not in checks or checks[ip].checked_at < now - max_age]
    # A timeout or an error answer is "unknown", never "clean": an IP no zone answered for is unproven.
    blind = [
        ip
        for ip in ips
        if ip in checks and not any(result.get("status") == "clean" for result in checks[ip].results)
    ]
    if on_lists:
        detail = "; ".join(f"{ip} on {', '.join(zones)}" for ip, zones in on_lists.items())
        yield Item(
            "blacklists",
            "fail",
            detail,
            "Find and fix the cause, request delisting from each zone, and keep the IP out of sending until "
            "a check is clean (`email-engine ips transition ID quarantined --reason …`).",
        )
    elif stale:
        yield Item(
            "blacklists",
            "fail",
            f"not checked in the last {max_age.total_seconds() / 3600:g} h: {', '.join(stale)}",
            "Run `email-engine jobs run blacklists`.",
        )
    elif blind:
        cannot_see = unusable_zones(checks[ip].results for ip in blind)
        why = f"; zones that failed their RFC 5782 test points: {', '.join(cannot_see)}" if cannot_see else ""
        yield Item(
            "blacklists",
            "fail",
            f"no DNSBL zone gave a usable answer for {', '.join(blind)}{why}",
            f"{RESOLVER_FIX[0].upper()}{RESOLVER_FIX[1:]} (not a public resolver), then run "
            "`email-engine jobs run blacklists`.",
        )
    else:
        unanswered = sum(
            1 for ip in ips for result in checks[ip].results if result.get("status") in ("error", "unknown")
        )
        note = f"; {unanswered} zone answers missing (see GET /health)" if unanswered else ""
        cannot_see = unusable_zones(checks[ip].results for ip in ips)
        if cannot_see:  # listed as a warning, not a NO-GO: other zones did see
            note += f"; warning: {', '.join(cannot_see)} failed their RFC 5782 test points ({RESOLVER_FIX})"
        yield Item("blacklists", "pass", f"0 of {len(ips)} IPs listed (checked within {max_age}){note}")


CHECKS = [
    PreflightCheck("dns records", check_dns_auth, order=60),
    PreflightCheck("blacklists", check_blacklists, order=70),
]
