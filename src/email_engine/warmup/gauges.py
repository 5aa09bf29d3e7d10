"""Warmup gauges for /metrics (``ops/collector.py`` collects every domain's ``GAUGES``).

Each running or paused plan shows its day, length, today's limit and whether it is paused.
``email_engine_traffic_hold_open{ip, cause}`` is 1 for every IP stopped by an open hold (the list or
the content is the cause) and absent otherwise; the label set is bounded by the inventory. Alert on
it to remind the operator that an IP waits for ``email-engine failover resolve``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.ips.models import SendingIp
from email_engine.warmup.models import TrafficHold, WarmupPlan
from email_engine.warmup.plan import PlanStatus

__all__ = ["GAUGES", "holds", "plans"]


def plans(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    day = GaugeMetricFamily(
        "email_engine_warmup_day", "Current day (1-based) of the IP's warmup plan.", labels=["ip"]
    )
    days = GaugeMetricFamily(
        "email_engine_warmup_plan_days", "Length of the IP's warmup plan in days.", labels=["ip"]
    )
    limit = GaugeMetricFamily(
        "email_engine_warmup_daily_limit", "Today's daily volume limit of the plan.", labels=["ip"]
    )
    paused = GaugeMetricFamily(
        "email_engine_warmup_paused", "1 while the IP's warmup plan is paused.", labels=["ip"]
    )
    rows = session.execute(
        select(SendingIp.address, WarmupPlan.status, WarmupPlan.day_index, WarmupPlan.schedule)
        .join(WarmupPlan, WarmupPlan.ip_id == SendingIp.id)
        .where(WarmupPlan.status.in_((PlanStatus.RUNNING, PlanStatus.PAUSED)))
    )
    for address, status, day_index, schedule in rows:
        position = min(day_index or 0, len(schedule) - 1) if schedule else 0
        day.add_metric([address], position + 1)
        days.add_metric([address], len(schedule))
        if schedule:
            limit.add_metric([address], schedule[position])
        paused.add_metric([address], 1 if status == PlanStatus.PAUSED else 0)
    yield from (day, days, limit, paused)


def holds(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    gauge = GaugeMetricFamily(
        "email_engine_traffic_hold_open",
        "1 while an IP is stopped by an open traffic hold (the list or the content is the cause).",
        labels=["ip", "cause"],
    )
    rows = session.execute(
        select(SendingIp.address, TrafficHold.cause)
        .join(SendingIp, SendingIp.id == TrafficHold.ip_id)
        .where(TrafficHold.resolved_at.is_(None))
    )
    for address, cause in rows:
        gauge.add_metric([address, cause], 1.0)
    yield gauge


GAUGES = [plans, holds]
