"""The verdict on one address (pure): syntax result + rules + DNS facts + suppression → verdict.

    invalid   syntax, nxdomain, no_mx, null_mx, mx_unroutable, disposable, blocked_prefix, suppressed
    unknown   dns_timeout, dns_error   (never valid: the answer may come next time)
    risky     role, typo (with a suggestion)
    valid     none of the above

Reasons accumulate; the worst class decides (invalid > unknown > risky > valid).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from email_engine.validation.rules import RuleSet, suggest_domain
from email_engine.validation.syntax import ParsedAddress, SyntaxIssue

__all__ = [
    "AddressVerdict",
    "DnsStatus",
    "DomainFacts",
    "Reason",
    "Verdict",
    "decide",
    "rule_reasons",
    "wants_dns",
]


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    RISKY = "risky"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    SYNTAX = "syntax"
    SUPPRESSED = "suppressed"
    BLOCKED_PREFIX = "blocked_prefix"
    DISPOSABLE = "disposable"
    NXDOMAIN = "nxdomain"
    NULL_MX = "null_mx"
    NO_MX = "no_mx"
    MX_UNROUTABLE = "mx_unroutable"
    DNS_TIMEOUT = "dns_timeout"
    DNS_ERROR = "dns_error"
    ROLE = "role"
    TYPO = "typo"


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NO_MX = "no_mx"
    NULL_MX = "null_mx"
    UNROUTABLE = "unroutable"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class DomainFacts:
    """What DNS says about a mail domain. ``ttl`` is how long it may be cached (None: never)."""

    status: DnsStatus
    mx: tuple[str, ...] = ()
    ttl: int | None = None


class AddressVerdict(NamedTuple):
    email: str
    normalized: str | None
    verdict: Verdict
    reasons: tuple[Reason, ...]
    suggestion: str | None = None
    mx: tuple[str, ...] = ()
    detail: str | None = None

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID


INVALID_REASONS = frozenset(
    {
        Reason.SYNTAX,
        Reason.SUPPRESSED,
        Reason.BLOCKED_PREFIX,
        Reason.DISPOSABLE,
        Reason.NXDOMAIN,
        Reason.NULL_MX,
        Reason.NO_MX,
        Reason.MX_UNROUTABLE,
    }
)
UNKNOWN_REASONS = frozenset({Reason.DNS_TIMEOUT, Reason.DNS_ERROR})
_ORDER = {reason: index for index, reason in enumerate(Reason)}
_DNS_REASON = {
    DnsStatus.NXDOMAIN: Reason.NXDOMAIN,
    DnsStatus.NO_MX: Reason.NO_MX,
    DnsStatus.NULL_MX: Reason.NULL_MX,
    DnsStatus.UNROUTABLE: Reason.MX_UNROUTABLE,
    DnsStatus.TIMEOUT: Reason.DNS_TIMEOUT,
    DnsStatus.ERROR: Reason.DNS_ERROR,
}


# Enum member access is an attribute lookup through a descriptor: module constants keep the hot path
# (a million addresses per file) cheap.
_BLOCKED, _ROLE, _DISPOSABLE, _TYPO = Reason.BLOCKED_PREFIX, Reason.ROLE, Reason.DISPOSABLE, Reason.TYPO
_SUPPRESSED, _DNS_ERROR, _SYNTAX = Reason.SUPPRESSED, Reason.DNS_ERROR, Reason.SYNTAX
_VALID, _INVALID, _RISKY, _UNKNOWN = Verdict.VALID, Verdict.INVALID, Verdict.RISKY, Verdict.UNKNOWN
_OK = DnsStatus.OK
_NO_REASONS: tuple[Reason, ...] = ()


def rule_reasons(address: ParsedAddress, rules: RuleSet) -> tuple[list[Reason], str | None]:
    """Reasons that need no DNS (prefixes, disposable, typo) and the typo suggestion."""
    reasons: list[Reason] = []
    kind = rules.prefix_kind(address.local)
    if kind == "blocked":
        reasons.append(_BLOCKED)
    elif kind == "role":
        reasons.append(_ROLE)
    if rules.is_disposable(address.domain) or (
        address.ascii_domain != address.domain and rules.is_disposable(address.ascii_domain)
    ):
        reasons.append(_DISPOSABLE)
    suggested = suggest_domain(address.domain)
    suggestion = None
    if suggested is not None:
        reasons.append(_TYPO)
        suggestion = f"{address.local}@{suggested}"
    return reasons, suggestion


def wants_dns(reasons: list[Reason]) -> bool:
    """DNS is only asked when the rules have not already made the address invalid."""
    return not reasons or INVALID_REASONS.isdisjoint(reasons)


def _classify(reasons: tuple[Reason, ...]) -> Verdict:
    if not reasons:
        return _VALID
    if not INVALID_REASONS.isdisjoint(reasons):
        return _INVALID
    if not UNKNOWN_REASONS.isdisjoint(reasons):
        return _UNKNOWN
    return _RISKY


def decide(
    parsed: ParsedAddress | SyntaxIssue,
    *,
    rules: RuleSet,
    facts: DomainFacts | None,
    suppressed: bool = False,
    precomputed: tuple[list[Reason], str | None] | None = None,
) -> AddressVerdict:
    """The verdict for one address. ``facts`` may be None only when the rules already make it invalid;
    a missing answer otherwise counts as a DNS error, never as valid. ``precomputed`` is what
    :func:`rule_reasons` returned for this address, when the caller has it already."""
    if isinstance(parsed, SyntaxIssue):
        return AddressVerdict(parsed.original, None, _INVALID, (_SYNTAX,), detail=parsed.message)
    found, suggestion = precomputed if precomputed is not None else rule_reasons(parsed, rules)
    if not found and not suppressed and facts is not None and facts.status is _OK:
        return AddressVerdict(
            parsed.original, parsed.normalized, _VALID, _NO_REASONS, None, facts.mx
        )  # common case
    reasons = list(found)
    if suppressed:
        reasons.append(_SUPPRESSED)
    mx: tuple[str, ...] = ()
    if wants_dns(reasons):
        if facts is None:
            reasons.append(_DNS_ERROR)
        else:
            mx = facts.mx
            dns_reason = _DNS_REASON.get(facts.status)
            if dns_reason is not None:
                reasons.append(dns_reason)
    ordered = tuple(sorted(reasons, key=_ORDER.__getitem__)) if len(reasons) > 1 else tuple(reasons)
    return AddressVerdict(parsed.original, parsed.normalized, _classify(ordered), ordered, suggestion, mx)
