"""Traffic-hold gauges for /metrics (``ops/gauges.py`` collects every domain's ``GAUGES``).

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

from email_engine.ips.models import SendingIp
from email_engine.warmup.models import TrafficHold

__all__ = ["GAUGES", "collect"]


def collect(session: Session, now: datetime) -> Iterator[Metric]:
    del now
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


GAUGES = [collect]
