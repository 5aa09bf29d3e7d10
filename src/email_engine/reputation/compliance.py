"""One sending domain, every DNS-authentication check, and the Gmail/Yahoo bulk-sender summary (pure).

:func:`validate_domain` runs the checks of ``spf.py``, ``dmarc.py`` and ``records.py`` over one
:class:`DnsFacts` snapshot and raises :class:`NeedFacts` with everything the snapshot lacks, so the adapter
asks for all of it in one round. A check whose records could not be read is ``unknown``; the summary then
says ``unknown`` for that requirement, never "met" nor "not met" (:class:`RequirementStatus`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from email_engine.reputation.auth_facts import (
    Check,
    CheckStatus,
    DnsFacts,
    MissingFact,
    NeedFacts,
    normalise_name,
    worst_status,
)
from email_engine.reputation.dmarc import check_dmarc, dmarc_questions, organisational_domain
from email_engine.reputation.records import (
    MIN_RSA_BITS,
    check_bounce_mx,
    check_dkim,
    check_mta_sts,
    check_ptr,
    check_tls_rpt,
    reverse_name,
)
from email_engine.reputation.spf import check_spf

__all__ = [
    "ComplianceStatus",
    "DomainReport",
    "RequirementStatus",
    "SendingIpFacts",
    "compliance",
    "initial_questions",
    "validate_domain",
]


class RequirementStatus(StrEnum):
    """One bulk-sender requirement as far as DNS shows it; stored in ``dns_auth_check.report``."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"  # it depends on records that could not be read
    UNVERIFIED = "unverified"  # DNS cannot show it (one-click unsubscribe)


class ComplianceStatus(StrEnum):
    """The bulk-sender summary of one domain; stored in ``dns_auth_check.compliance``."""

    DNS_COMPLIANT = "dns_compliant"
    NON_COMPLIANT = "non_compliant"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SendingIpFacts:
    address: str
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class DomainReport:
    domain: str
    status: CheckStatus
    checks: tuple[Check, ...]
    compliance: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "checks": [c.as_dict() for c in self.checks],
            "compliance": self.compliance,
        }


def _aligned(from_domain: str, other: str, mode: str) -> bool:
    if mode == "s":
        return normalise_name(from_domain) == normalise_name(other)
    return organisational_domain(from_domain) == organisational_domain(other)


def _requirement(name: str, met: bool | None, sentence: str) -> dict[str, Any]:
    if met is None:
        status = RequirementStatus.UNKNOWN
    else:
        status = RequirementStatus.MET if met else RequirementStatus.NOT_MET
    return {"name": name, "status": status, "sentence": sentence}


def _all_ok(group: list[Check], ok: tuple[CheckStatus, ...]) -> bool | None:
    """None (unknown) when a check could not read DNS or there is nothing to judge."""
    if not group or any(check.status == CheckStatus.UNKNOWN for check in group):
        return None
    return all(check.status in ok for check in group)


def compliance(domain: str, bounce_domain: str | None, checks: Sequence[Check]) -> dict[str, Any]:
    """Gmail/Yahoo bulk-sender requirements (2024) as far as DNS can show them."""
    by_prefix: dict[str, list[Check]] = {}
    for check in checks:
        by_prefix.setdefault(check.name.split(":")[0], []).append(check)
    spf = by_prefix.get("spf", [])
    dkim = by_prefix.get("dkim", [])
    dmarc = by_prefix.get("dmarc", [])
    ptr = by_prefix.get("ptr", [])

    spf_met = _all_ok(spf, (CheckStatus.PASS, CheckStatus.WARN))
    if spf_met and any(c.data.get("result") != "pass" for c in spf):  # the SPF result, not the check's status
        spf_met = False
    dkim_met: bool | None = None
    if dkim and dkim[0].data.get("selector") and dkim[0].status != CheckStatus.UNKNOWN:
        dkim_met = dkim[0].status != CheckStatus.FAIL and (
            dkim[0].data.get("bits", 0) >= MIN_RSA_BITS or dkim[0].data.get("key_type") == "ed25519"
        )
    dmarc_met = _all_ok(dmarc, (CheckStatus.PASS, CheckStatus.WARN))
    tags = dmarc[0].data.get("tags", {}) if dmarc else {}
    aspf, adkim = tags.get("aspf", "r"), tags.get("adkim", "r")
    spf_aligned = _aligned(domain, bounce_domain or domain, aspf)
    # The DKIM key is published under the sending domain itself, so d= is that domain: aligned.
    dkim_aligned = bool(dkim_met) and _aligned(domain, domain, adkim)
    aligned: bool | None = bool(dmarc_met) and ((bool(spf_met) and spf_aligned) or dkim_aligned)
    if dmarc_met is None or (not aligned and None in (spf_met, dkim_met)):
        aligned = None  # cannot be judged from records that could not be read
    ptr_met = _all_ok(ptr, (CheckStatus.PASS, CheckStatus.WARN))
    requirements = [
        _requirement(
            "spf",
            spf_met,
            "SPF passes for every sending IP" if spf_met else "SPF must pass for every sending IP",
        ),
        _requirement(
            "dkim",
            dkim_met,
            "DKIM key of at least 1024 bits published"
            if dkim_met
            else "a DKIM key of at least 1024 bits must be published",
        ),
        _requirement(
            "dmarc",
            dmarc_met,
            "DMARC record published (p=none is enough)"
            if dmarc_met
            else "a DMARC record must be published (p=none is enough)",
        ),
        _requirement(
            "alignment",
            aligned,
            f"DMARC alignment: DKIM d={domain} aligned={'yes' if dkim_aligned else 'no'}, SPF via "
            f"{bounce_domain or domain} aligned ({aspf})={'yes' if spf_aligned else 'no'}",
        ),
        _requirement(
            "ptr",
            ptr_met,
            "every sending IP has forward-confirmed reverse DNS"
            if ptr_met
            else "every sending IP needs a PTR that resolves back to it",
        ),
        {
            "name": "one_click_unsubscribe",
            "status": RequirementStatus.UNVERIFIED,
            "sentence": "not verifiable from DNS — check MailWizz list headers (List-Unsubscribe with an https URL "
            "and List-Unsubscribe-Post: List-Unsubscribe=One-Click)",
        },
    ]
    statuses = [r["status"] for r in requirements if r["name"] != "one_click_unsubscribe"]
    if RequirementStatus.NOT_MET in statuses:
        overall = ComplianceStatus.NON_COMPLIANT
    elif RequirementStatus.UNKNOWN in statuses:
        overall = ComplianceStatus.UNKNOWN
    else:
        overall = ComplianceStatus.DNS_COMPLIANT
    return {"status": overall, "requirements": requirements}


def validate_domain(
    domain: str,
    *,
    dkim_selector: str | None,
    bounce_domain: str | None,
    ips: Sequence[SendingIpFacts],
    facts: DnsFacts,
) -> DomainReport:
    """Every check for one sending domain. Raises NeedFacts listing what the snapshot lacks."""
    missing: list[tuple[str, str]] = []
    checks: list[Check] = []
    spf_domain = normalise_name(bounce_domain or domain)
    runs: list[Callable[[], Check]] = [
        lambda ip=ip: check_spf(spf_domain, ip.address, facts, helo=ip.hostname)  # type: ignore[misc]
        for ip in ips
    ]
    runs += [
        lambda: check_dkim(normalise_name(domain), dkim_selector, facts),
        lambda: check_dmarc(domain, facts),
    ]
    runs += [lambda ip=ip: check_ptr(ip.address, ip.hostname, facts) for ip in ips]  # type: ignore[misc]
    runs += [
        lambda: check_bounce_mx(domain, bounce_domain, facts),
        lambda: check_mta_sts(domain, facts),
        lambda: check_tls_rpt(domain, facts),
    ]
    for run in runs:
        try:
            checks.append(run())
        except MissingFact as exc:
            missing.append((exc.name, exc.rdtype))
    if missing:
        raise NeedFacts(missing)
    if not ips:
        checks.insert(
            0,
            Check(
                "spf",
                CheckStatus.WARN,
                f"No sending IPs are in the inventory, so SPF for {spf_domain} was not evaluated; add IPs or "
                "check one with --ip.",
            ),
        )
    status = worst_status(c.status for c in checks)
    name = normalise_name(domain)
    return DomainReport(name, status, tuple(checks), compliance(name, bounce_domain, checks))


def initial_questions(
    domain: str, *, dkim_selector: str | None, bounce_domain: str | None, ips: Sequence[SendingIpFacts]
) -> list[tuple[str, str]]:
    """The lookups every validation needs; asked together before the first pass."""
    d = normalise_name(domain)
    questions = [
        (normalise_name(bounce_domain or domain), "TXT"),
        *dmarc_questions(d),
        (normalise_name(bounce_domain or domain), "MX"),
        (f"_mta-sts.{d}", "TXT"),
        (f"_smtp._tls.{d}", "TXT"),
    ]
    if dkim_selector:
        questions.append((f"{dkim_selector}._domainkey.{d}", "TXT"))
    questions += [(reverse_name(ip.address), "PTR") for ip in ips]
    return questions
