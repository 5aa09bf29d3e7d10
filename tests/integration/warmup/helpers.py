"""Helpers for warmup tests: results in the feedback domain's stat buckets, listings through the
reputation service (IPs: tests/support/factories.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def feed_day(session: Session, address: str, day: date, **counts: int) -> None:
    """One day's results for an IP, in the feedback domain's hourly stat buckets (what its ingestion
    writes): keys sent, delivered, hard, soft, block, complaints, deferred."""
    from email_engine.feedback.models import StatBucket

    hour = datetime.combine(day, time(12), tzinfo=UTC)
    values: dict[str, Any] = {
        "sent": 0,
        "delivered": 0,
        "bounced": 0,
        "hard": 0,
        "soft": 0,
        "block": 0,
        "complaints": 0,
        "deferred": 0,
    }
    values.update(counts)
    values["bounced"] = values["hard"] + values["soft"] + values["block"]
    row = session.scalar(
        select(StatBucket).where(
            StatBucket.hour == hour, StatBucket.dimension == "ip", StatBucket.key == address
        )
    )
    if row is None:
        session.add(StatBucket(hour=hour, dimension="ip", key=address, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()


def list_on(session: Session, address: str, zone: str, now: datetime) -> None:
    """Record a DNSBL listing through the reputation domain's service."""
    from email_engine.reputation.dnsbl import ZoneResult
    from email_engine.reputation.service import record_dnsbl_results

    record_dnsbl_results(
        session, target=address, results=[ZoneResult(zone, "listed", ("127.0.0.2",), "test listing")], now=now
    )
    session.flush()
