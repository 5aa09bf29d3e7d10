"""Blacklist gauges for ``/metrics``: one sample per open listing of a sending IP or domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.reputation.service import listed_ips

__all__ = ["GAUGES", "listings"]


def listings(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    family = GaugeMetricFamily(
        "email_engine_ip_listed",
        "1 while a blacklist lists the sending IP or domain.",
        labels=["ip", "zone", "major"],
    )
    for target, found in sorted(listed_ips(session).items()):
        for listing in found:
            family.add_metric([target, listing.zone, "true" if listing.major else "false"], 1)
    yield family


GAUGES = [listings]
