"""Provider-signal gauges for /metrics (``ops/collector.py`` collects every domain's ``GAUGES``).

Each gauge shows the newest day within the last week; label sets are bounded by the inventory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.dmarc.models import DmarcRecord
from email_engine.dmarc.service import PASSED_MESSAGES
from email_engine.integrations.postmaster.models import PostmasterCompliance, PostmasterDomainDay
from email_engine.integrations.snds.models import SndsIpDay
from email_engine.reputation_signals.service import org_domain, our_domains

__all__ = ["GAUGES", "collect"]

FILTER_VALUE = {"GREEN": 0, "YELLOW": 1, "RED": 2}
WINDOW = timedelta(days=7)


def _snds(session: Session, since: datetime) -> Iterator[Metric]:
    filter_result = GaugeMetricFamily(
        "email_engine_snds_filter_result",
        "Newest SNDS filter result of the IP: 0 GREEN, 1 YELLOW, 2 RED.",
        labels=["ip"],
    )
    traps = GaugeMetricFamily(
        "email_engine_snds_trap_hits", "Spam-trap hits on the newest SNDS day.", labels=["ip"]
    )
    complaints = GaugeMetricFamily(
        "email_engine_snds_complaint_rate",
        "Complaint rate on the newest SNDS day (upper bound for '< 0.1%').",
        labels=["ip"],
    )
    newest = (
        select(SndsIpDay.ip, func.max(SndsIpDay.day).label("day"))
        .where(SndsIpDay.day >= since.date())
        .group_by(SndsIpDay.ip)
        .subquery()
    )
    for row in session.scalars(
        select(SndsIpDay).join(newest, (SndsIpDay.ip == newest.c.ip) & (SndsIpDay.day == newest.c.day))
    ):
        if row.filter_result in FILTER_VALUE:
            filter_result.add_metric([row.ip], FILTER_VALUE[row.filter_result])
        traps.add_metric([row.ip], row.trap_hits or 0)
        if row.complaint_rate is not None:
            complaints.add_metric([row.ip], row.complaint_rate)
    yield from (filter_result, traps, complaints)


def _gmail(session: Session, since: datetime) -> Iterator[Metric]:
    rates = GaugeMetricFamily(
        "email_engine_gmail_rate",
        "Newest Postmaster Tools rate of the domain (spam, dkim/spf/dmarc success, delivery errors).",
        labels=["domain", "rate"],
    )
    newest = (
        select(PostmasterDomainDay.domain, func.max(PostmasterDomainDay.day).label("day"))
        .where(PostmasterDomainDay.day >= since.date())
        .group_by(PostmasterDomainDay.domain)
        .subquery()
    )
    for row in session.scalars(
        select(PostmasterDomainDay).join(
            newest,
            (PostmasterDomainDay.domain == newest.c.domain) & (PostmasterDomainDay.day == newest.c.day),
        )
    ):
        for name in (
            "spam_rate",
            "dkim_success_rate",
            "spf_success_rate",
            "dmarc_success_rate",
            "delivery_error_rate",
        ):
            value = getattr(row, name)
            if value is not None:
                rates.add_metric([row.domain, name.removesuffix("_rate")], value)
    yield rates
    compliant = GaugeMetricFamily(
        "email_engine_gmail_compliant",
        "1 when Postmaster Tools says the domain meets every requirement.",
        labels=["domain"],
    )
    for state in session.scalars(select(PostmasterCompliance)):
        if state.compliant is not None:
            compliant.add_metric([state.domain], 1 if state.compliant else 0)
    yield compliant


def _dmarc(session: Session, since: datetime) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "email_engine_dmarc_messages",
        "Messages in DMARC aggregate reports over the last 7 days, per sending domain and result.",
        labels=["domain", "result"],
    )
    domains = {org_domain(name): name for name in our_domains(session)}
    totals: dict[str, list[int]] = {}
    for header_from, messages, passed in session.execute(
        select(
            DmarcRecord.header_from,
            func.sum(DmarcRecord.messages),
            func.sum(PASSED_MESSAGES),
        )
        .where(DmarcRecord.day >= since.date())
        .group_by(DmarcRecord.header_from)
    ):
        domain = domains.get(org_domain(header_from))
        if domain is not None:
            entry = totals.setdefault(domain, [0, 0])
            entry[0] += int(messages or 0)
            entry[1] += int(passed or 0)
    for domain, (messages, passed) in sorted(totals.items()):
        family.add_metric([domain, "pass"], passed)
        family.add_metric([domain, "fail"], messages - passed)
    yield family


def collect(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx
    since = now - WINDOW
    yield from _snds(session, since)
    yield from _gmail(session, since)
    yield from _dmarc(session, since)


GAUGES = [collect]
