"""Outbox gauges for ``/metrics``: events by kind and status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.outbox.service import status_counts

__all__ = ["GAUGES", "queue"]


def queue(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    family = GaugeMetricFamily(
        "email_engine_outbox_queue", "Outbox events now, by kind and status.", labels=["kind", "status"]
    )
    for kind, by_status in sorted(status_counts(session).items()):
        for status, count in sorted(by_status.items()):
            family.add_metric([kind, status], count)
    yield family


GAUGES = [queue]
