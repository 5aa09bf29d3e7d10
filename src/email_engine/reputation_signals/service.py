"""The daily series and the signals warmup, failover, preflight and alerts read from it.

One series per key: an IP (our accounting for that source IP, SNDS for it, DMARC rows from it,
Gmail for the domains it sends as), a sending domain (accounting by sender domain, Gmail for it,
DMARC rows whose header-from belongs to it), or a provider (accounting for its recipients, SNDS
over our IPs for ``microsoft``, Gmail over our domains for ``gmail``, DMARC rows of its reports).
Nothing is copied: each read joins the stored tables of feedback, SNDS, Postmaster and DMARC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from publicsuffixlist import PublicSuffixList
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from email_engine.dmarc.models import DmarcRecord
from email_engine.dmarc.service import PASSED_MESSAGES
from email_engine.dmarc.sources import SourceClass, classify_source
from email_engine.errors import InvalidInput
from email_engine.integrations.postmaster.models import PostmasterDomainDay
from email_engine.integrations.snds.models import SndsIpDay
from email_engine.integrations.snds.service import blocked_ranges
from email_engine.reputation_signals.decisions import (
    AlignmentRow,
    GmailView,
    ProviderSignal,
    SignalRules,
    SndsView,
    SourceCount,
    list_causes,
    warmup_signals,
)

__all__ = [
    "MAX_DAYS",
    "SeriesKind",
    "alignment_rows",
    "daily_series",
    "failover_list_causes",
    "gmail_views",
    "ip_domains",
    "org_domain",
    "our_domains",
    "provider_of_reporter",
    "snds_view",
    "unknown_sources",
    "warmup_provider_signals",
]

MAX_DAYS = 366
ATTRIBUTION_DAYS = 14  # DMARC rows this recent tie an IP to the domains it sends as


class SeriesKind(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    PROVIDER = "provider"


# Reporter (org_name, or the domain of its address) → the provider name used by feedback.providers.
_REPORTER_PROVIDERS = (
    ("google", "gmail"),
    ("outlook", "microsoft"),
    ("microsoft", "microsoft"),
    ("hotmail", "microsoft"),
    ("yahoo", "yahoo"),
    ("aol", "yahoo"),
    ("apple", "apple"),
    ("icloud", "apple"),
    ("comcast", "comcast"),
    ("gmx", "gmx"),
    ("web.de", "gmx"),
    ("mail.ru", "mailru"),
    ("yandex", "yandex"),
    ("t-online", "t-online"),
    ("orange", "orange"),
    ("laposte", "laposte"),
    ("proton", "proton"),
    ("zoho", "zoho"),
)


def provider_of_reporter(reporter: str) -> str:
    lowered = reporter.lower()
    for marker, provider in _REPORTER_PROVIDERS:
        if marker in lowered:
            return provider
    return "other"


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no download at run time


def org_domain(name: str) -> str:
    """The organisational domain (RFC 7489 §3.2, Public Suffix List): mail.example.co.uk → example.co.uk."""
    cleaned = name.strip().lower().rstrip(".")
    return _psl().privatesuffix(cleaned) or cleaned


def our_domains(session: Session) -> list[str]:
    from email_engine.ips.models import SendingDomain

    return sorted(session.scalars(select(SendingDomain.name)))


def _our_ips(session: Session) -> frozenset[str]:
    from email_engine.dmarc.service import our_addresses

    return our_addresses(session)


def _dates(since: date, until: date) -> list[date]:
    if until < since:
        raise InvalidInput("`until` is before `since`.")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days at a time.")
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


# --- the pieces -------------------------------------------------------------------------------------


def _accounting(
    session: Session, dimension: str, key: str, days: Sequence[date]
) -> dict[date, dict[str, Any]]:
    from email_engine.feedback.stats import rates, window_totals

    result: dict[date, dict[str, Any]] = {}
    for day in days:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        totals = window_totals(
            session, dimension=dimension, key=key, since=start, until=start + timedelta(days=1)
        )
        if any(totals.values()):
            result[day] = {
                "sent": totals["sent"],
                "delivered": totals["delivered"],
                "hard_bounces": totals["hard"],
                "soft_bounces": totals["soft"],
                "blocks": totals["block"],
                "complaints": totals["complaints"],  # ARF feedback-loop reports
                "deferred": totals["deferred"],
                **rates(totals),
            }
    return result


def _snds_public(row: SndsIpDay) -> dict[str, Any]:
    return {
        "filter_result": row.filter_result,
        "complaint_rate": row.complaint_rate,
        "complaint_below": row.complaint_below,
        "complaint_text": row.complaint_text,
        "trap_hits": row.trap_hits,
        "message_recipients": row.message_recipients,
        "rcpt_commands": row.rcpt_commands,
        "data_commands": row.data_commands,
    }


_FILTER_ORDER = {"GREEN": 0, "YELLOW": 1, "RED": 2}


def _snds_combined(rows: Sequence[SndsIpDay]) -> dict[str, Any]:
    """Several IPs on one day (the provider series): the worst filter result, traps and volume summed."""
    worst = max(
        (row.filter_result for row in rows if row.filter_result),
        key=lambda f: _FILTER_ORDER.get(f, 0),
        default=None,
    )
    rates = [row.complaint_rate for row in rows if row.complaint_rate is not None and not row.complaint_below]
    return {
        "filter_result": worst,
        "ips": len(rows),
        "ips_by_filter": {
            name: sum(1 for row in rows if row.filter_result == name) for name in _FILTER_ORDER
        },
        "complaint_rate_max": max(rates) if rates else None,
        "trap_hits": sum(row.trap_hits or 0 for row in rows),
        "message_recipients": sum(row.message_recipients or 0 for row in rows),
    }


_GMAIL_FIELDS = (
    "spam_rate",
    "dkim_success_rate",
    "spf_success_rate",
    "dmarc_success_rate",
    "tls_inbound_rate",
    "delivery_error_rate",
    "fbl_spam_rate",
)


def _gmail_public(rows: Sequence[PostmasterDomainDay]) -> dict[str, Any]:
    """One domain: its values. Several (an IP's domains, the gmail provider): the worst of each."""
    if len(rows) == 1:
        return {"domains": [rows[0].domain], **{name: getattr(rows[0], name) for name in _GMAIL_FIELDS}}
    combined: dict[str, Any] = {"domains": sorted(row.domain for row in rows)}
    for name in _GMAIL_FIELDS:
        values = [getattr(row, name) for row in rows if getattr(row, name) is not None]
        worst = min if name.endswith("success_rate") or name == "tls_inbound_rate" else max
        combined[name] = worst(values) if values else None
    return combined


def _dmarc(session: Session, days: Sequence[date], *where: Any) -> dict[date, dict[str, Any]]:
    messages = func.sum(DmarcRecord.messages)
    query = (
        select(
            DmarcRecord.day,
            messages,
            func.sum(PASSED_MESSAGES),
            func.sum(case((DmarcRecord.dkim_aligned, DmarcRecord.messages), else_=0)),
            func.sum(case((DmarcRecord.spf_aligned, DmarcRecord.messages), else_=0)),
            func.count(func.distinct(DmarcRecord.reporter)),
        )
        .where(DmarcRecord.day >= days[0], DmarcRecord.day <= days[-1], *where)
        .group_by(DmarcRecord.day)
    )
    result: dict[date, dict[str, Any]] = {}
    for day, summed, passed, dkim, spf, reporters in session.execute(query):
        total = int(summed or 0)
        result[day] = {
            "messages": total,
            "dmarc_pass": int(passed or 0),
            "dkim_aligned": int(dkim or 0),
            "spf_aligned": int(spf or 0),
            "pass_rate": round(int(passed or 0) / total, 6) if total else None,
            "dkim_alignment_rate": round(int(dkim or 0) / total, 6) if total else None,
            "spf_alignment_rate": round(int(spf or 0) / total, 6) if total else None,
            "reporters": int(reporters or 0),
        }
    return result


def _header_from_of(session: Session, domain: str, days: Sequence[date]) -> list[str]:
    """Header-from names seen in the window that belong to ``domain``'s organisational domain."""
    target = org_domain(domain)
    names = session.scalars(
        select(DmarcRecord.header_from)
        .where(DmarcRecord.day >= days[0], DmarcRecord.day <= days[-1])
        .distinct()
    )
    return [name for name in names if org_domain(name) == target]


def ip_domains(session: Session, ip_address: str, *, until: date) -> list[str]:
    """The sending domains an IP sends as, from recent DMARC rows; every sending domain if none tie it."""
    ours = our_domains(session)
    by_org: dict[str, list[str]] = {}
    for name in ours:
        by_org.setdefault(org_domain(name), []).append(name)
    seen = session.scalars(
        select(DmarcRecord.header_from)
        .where(
            DmarcRecord.source_ip == ip_address,
            DmarcRecord.day >= until - timedelta(days=ATTRIBUTION_DAYS),
            DmarcRecord.day <= until,
        )
        .distinct()
    )
    tied = sorted({name for header in seen for name in by_org.get(org_domain(header), [])})
    return tied or ours


# --- the series ------------------------------------------------------------------------------------


def _kind_of(key: str, kind: SeriesKind | None) -> SeriesKind:
    if kind is not None:
        return kind
    try:
        ipaddress.ip_address(key)
        return SeriesKind.IP
    except ValueError:
        pass
    from email_engine.feedback.providers import PROVIDER_DOMAINS

    return SeriesKind.PROVIDER if key in PROVIDER_DOMAINS or key == "other" else SeriesKind.DOMAIN


def _normal_key(key: str, kind: SeriesKind) -> str:
    text = key.strip().lower().rstrip(".")
    if not text or len(text) > 253 or any(not char.isprintable() or char.isspace() for char in text):
        raise InvalidInput("`key` must be an IP address, a sending domain or a provider name.")
    if kind is SeriesKind.IP:
        try:
            return ipaddress.ip_address(text).compressed
        except ValueError:
            raise InvalidInput(f"{key!r} is not an IP address.") from None
    return text


def daily_series(
    session: Session,
    *,
    key: str,
    since: date,
    until: date,
    kind: SeriesKind | None = None,
    rules: SignalRules | None = None,
) -> dict[str, Any]:
    """The joined daily series for one IP, sending domain or provider, oldest day first."""
    kind = _kind_of(key.strip().lower(), kind)
    key = _normal_key(key, kind)
    days = _dates(since, until)
    rules = rules or SignalRules()
    snds_rows: dict[date, list[SndsIpDay]] = {}
    gmail_rows: dict[date, list[PostmasterDomainDay]] = {}
    blocked = ""
    if kind is SeriesKind.IP:
        accounting = _accounting(session, "ip", key, days)
        for row in session.scalars(
            select(SndsIpDay).where(SndsIpDay.ip == key, SndsIpDay.day >= since, SndsIpDay.day <= until)
        ):
            snds_rows.setdefault(row.day, []).append(row)
        domains = ip_domains(session, key, until=until)
        dmarc = _dmarc(session, days, DmarcRecord.source_ip == key)
        blocked = next((b.reason or "blocked" for b in blocked_ranges(session) if b.covers(key)), "")
    elif kind is SeriesKind.DOMAIN:
        accounting = _accounting(session, "sender_domain", key, days)
        domains = [key]
        names = _header_from_of(session, key, days)
        dmarc = _dmarc(session, days, DmarcRecord.header_from.in_(names)) if names else {}
    else:
        accounting = _accounting(session, "provider", key, days)
        domains = our_domains(session) if key == "gmail" else []
        if key == "microsoft":
            ips = sorted(_our_ips(session))
            for row in session.scalars(
                select(SndsIpDay).where(SndsIpDay.ip.in_(ips), SndsIpDay.day >= since, SndsIpDay.day <= until)
            ):
                snds_rows.setdefault(row.day, []).append(row)
        reporters = [
            name
            for name in session.scalars(
                select(DmarcRecord.reporter)
                .where(DmarcRecord.day >= since, DmarcRecord.day <= until)
                .distinct()
            )
            if provider_of_reporter(name) == key
        ]
        dmarc = _dmarc(session, days, DmarcRecord.reporter.in_(reporters)) if reporters else {}
    if domains:
        for stat in session.scalars(
            select(PostmasterDomainDay).where(
                PostmasterDomainDay.domain.in_(domains),
                PostmasterDomainDay.day >= since,
                PostmasterDomainDay.day <= until,
            )
        ):
            gmail_rows.setdefault(stat.day, []).append(stat)

    out = []
    for day in days:
        snds_day = snds_rows.get(day, [])
        snds: dict[str, Any] | None = None
        if snds_day:
            snds = _snds_public(snds_day[0]) if kind is SeriesKind.IP else _snds_combined(snds_day)
        gmail = _gmail_public(gmail_rows[day]) if day in gmail_rows else None
        signals: tuple[ProviderSignal, ...] = ()
        if kind is SeriesKind.IP:
            view = _snds_view(snds_day[0], blocked=False) if snds_day else None
            signals = warmup_signals(view, _gmail_from_rows(gmail_rows.get(day, [])), rules)
        elif kind is SeriesKind.DOMAIN:
            signals = warmup_signals(None, _gmail_from_rows(gmail_rows.get(day, [])), rules)
        out.append(
            {
                "day": day.isoformat(),
                "accounting": accounting.get(day),
                "snds": snds,
                "gmail": gmail,
                "dmarc": dmarc.get(day),
                "signals": [{"name": s.name, "action": s.action.value, "reason": s.reason} for s in signals],
            }
        )
    return {
        "key": key,
        "kind": kind.value,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "gmail_domains": domains,
        "snds_blocked": blocked or None,
        "days": out,
    }


# --- signals for decisions ---------------------------------------------------------------------------


def _snds_view(row: SndsIpDay, *, blocked: bool, reason: str = "") -> SndsView:
    return SndsView(
        ip=row.ip,
        day=row.day,
        filter_result=row.filter_result,
        complaint_rate=row.complaint_rate,
        complaint_below=row.complaint_below,
        trap_hits=row.trap_hits,
        blocked=blocked,
        blocked_reason=reason,
    )


def _gmail_from_rows(rows: Iterable[PostmasterDomainDay]) -> list[GmailView]:
    return [GmailView(row.domain, row.day, row.spam_rate) for row in rows]


def snds_view(session: Session, ip_address: str, *, day: date, freshness_days: int) -> SndsView | None:
    """The newest SNDS day of the IP within ``freshness_days`` up to ``day`` (SNDS publishes a day late),
    with the status feed's block; a block alone (no data day) still counts."""
    row = session.scalar(
        select(SndsIpDay)
        .where(
            SndsIpDay.ip == ip_address,
            SndsIpDay.day <= day,
            SndsIpDay.day > day - timedelta(days=freshness_days),
        )
        .order_by(SndsIpDay.day.desc())
        .limit(1)
    )
    block = next((b for b in blocked_ranges(session) if b.covers(ip_address)), None)
    if row is None:
        return (
            None if block is None else SndsView(ip_address, day, None, None, False, None, True, block.reason)
        )
    return _snds_view(row, blocked=block is not None, reason=block.reason if block else "")


def gmail_views(
    session: Session, domains: Sequence[str], *, day: date, freshness_days: int
) -> list[GmailView]:
    """The newest Postmaster day of each domain within ``freshness_days`` up to ``day``."""
    views = []
    for domain in domains:
        row = session.scalar(
            select(PostmasterDomainDay)
            .where(
                PostmasterDomainDay.domain == domain,
                PostmasterDomainDay.day <= day,
                PostmasterDomainDay.day > day - timedelta(days=freshness_days),
                PostmasterDomainDay.spam_rate.is_not(None),
            )
            .order_by(PostmasterDomainDay.day.desc())
            .limit(1)
        )
        if row is not None:
            views.append(GmailView(row.domain, row.day, row.spam_rate))
    return views


def provider_views(
    session: Session, *, ip_address: str, day: date, freshness_days: int
) -> tuple[SndsView | None, list[GmailView]]:
    """SNDS for the IP and Gmail for the domains it sends as, as a decision about ``day`` sees them."""
    snds = snds_view(session, ip_address, day=day, freshness_days=freshness_days)
    domains = ip_domains(session, ip_address, until=day)
    return snds, gmail_views(session, domains, day=day, freshness_days=freshness_days)


def warmup_provider_signals(
    session: Session, *, ip_address: str, day: date, rules: SignalRules, freshness_days: int = 2
) -> tuple[ProviderSignal, ...]:
    """What the providers said about the IP's ``day`` (the day a warmup decision looks back at)."""
    return warmup_signals(
        *provider_views(session, ip_address=ip_address, day=day, freshness_days=freshness_days), rules
    )


def failover_list_causes(
    session: Session, *, ip_address: str, today: date, rules: SignalRules, freshness_days: int = 2
) -> tuple[str, ...]:
    return list_causes(
        *provider_views(session, ip_address=ip_address, day=today, freshness_days=freshness_days), rules
    )


def _by_source(session: Session, *where: Any) -> list[Any]:
    """Messages and DMARC passes per source IP, header-from and reporter."""
    return list(
        session.execute(
            select(
                DmarcRecord.source_ip,
                DmarcRecord.header_from,
                DmarcRecord.reporter,
                func.sum(DmarcRecord.messages),
                func.sum(PASSED_MESSAGES),
            )
            .where(*where)
            .group_by(DmarcRecord.source_ip, DmarcRecord.header_from, DmarcRecord.reporter)
        )
    )


def alignment_rows(session: Session, *, since: date, until: date) -> list[AlignmentRow]:
    """DMARC results of our own IPs, per IP and header-from, over the window."""
    ours = sorted(_our_ips(session))
    if not ours:
        return []
    rows = _by_source(
        session, DmarcRecord.day >= since, DmarcRecord.day <= until, DmarcRecord.source_ip.in_(ours)
    )
    merged: dict[tuple[str, str], list[Any]] = {}
    for ip, header_from, reporter, messages, passed in rows:
        entry = merged.setdefault((ip, header_from), [0, 0, set()])
        entry[0] += int(messages or 0)
        entry[1] += int(passed or 0)
        entry[2].add(reporter)
    return [
        AlignmentRow(ip, header_from, messages, passed, tuple(sorted(reporters)))
        for (ip, header_from), (messages, passed, reporters) in sorted(merged.items())
    ]


@dataclass(frozen=True, slots=True)
class DomainSources:
    domain: str
    day: date
    sources: list[SourceCount]


def unknown_sources(session: Session, *, day: date) -> list[DomainSources]:
    """Per sending domain, the sources on ``day`` that are neither ours nor a known forwarder."""
    from email_engine.dmarc.service import stored_classes

    domains = our_domains(session)
    if not domains:
        return []
    by_org = {org_domain(name): name for name in domains}
    rows = _by_source(session, DmarcRecord.day == day)
    ours = _our_ips(session)
    stored = stored_classes(session, (row[0] for row in rows))
    grouped: dict[str, dict[str, list[Any]]] = {}
    for ip, header_from, reporter, messages, passed in rows:
        domain = by_org.get(org_domain(header_from))
        if domain is None:
            continue
        record = stored.get(ip)
        verdict = classify_source(
            ip, ours=ours, stored=SourceClass(record.classification) if record else None
        )
        if verdict is not SourceClass.UNKNOWN:
            continue
        entry = grouped.setdefault(domain, {}).setdefault(ip, [0, 0, set(), record.ptr if record else None])
        entry[0] += int(messages or 0)
        entry[1] += int(passed or 0)
        entry[2].add(reporter)
    return [
        DomainSources(
            domain,
            day,
            [
                SourceCount(ip, ptr, messages, passed, tuple(sorted(reporters)))
                for ip, (messages, passed, reporters, ptr) in ips.items()
            ],
        )
        for domain, ips in sorted(grouped.items())
    ]
