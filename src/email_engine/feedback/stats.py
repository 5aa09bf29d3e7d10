"""Read the hourly stat buckets: summaries, per-key rates over 1 h / 24 h / 7 d, per-IP day results.

Buckets have hourly resolution: a window ``since..until`` covers every hour that starts in it
(``since`` is rounded down to its hour). Rates are ratios of counts: bounce rate = bounced / sent,
hard-bounce rate = hard / sent, complaint rate = complaints / delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from email_engine.feedback.aggregate import COUNTERS, hour_of
from email_engine.feedback.models import StatBucket

__all__ = [
    "WINDOWS",
    "IpDayResult",
    "daily_ip_results",
    "daily_key_totals",
    "dimension_rows",
    "key_totals",
    "rates",
    "summary",
    "window_totals",
]

WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
PUBLIC_DIMENSIONS = {
    "domains": "rcpt_domain",
    "ips": "ip",
    "providers": "provider",
    "vmtas": "vmta",
    "sender-domains": "sender_domain",
}


@dataclass(frozen=True, slots=True)
class IpDayResult:
    sent: int
    delivered: int
    hard_bounces: int
    soft_bounces: int
    blocks: int
    complaints: int
    deferred: int


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(getattr(StatBucket, name)), 0).label(name) for name in COUNTERS]


def window_totals(
    session: Session, *, dimension: str, since: datetime, until: datetime, key: str | None = None
) -> dict[str, int]:
    stmt = select(*_sums()).where(
        StatBucket.dimension == dimension, StatBucket.hour >= hour_of(since), StatBucket.hour < until
    )
    if key is not None:
        stmt = stmt.where(StatBucket.key == key)
    row = session.execute(stmt).one()
    return {name: int(getattr(row, name)) for name in COUNTERS}


def key_totals(
    session: Session, *, dimension: str, since: datetime, until: datetime
) -> dict[str, dict[str, int]]:
    """Counts per key of one dimension over ``since..until`` (one grouped query; the console's inventory)."""
    stmt = (
        select(StatBucket.key, *_sums())
        .where(StatBucket.dimension == dimension, StatBucket.hour >= hour_of(since), StatBucket.hour < until)
        .group_by(StatBucket.key)
    )
    return {row.key: {name: int(getattr(row, name)) for name in COUNTERS} for row in session.execute(stmt)}


def daily_key_totals(
    session: Session, *, dimension: str, first_day: date, last_day: date, keys: list[str] | None = None
) -> dict[str, dict[date, dict[str, int]]]:
    """Counts per key and UTC day (``first_day..last_day`` inclusive), for sparklines and daily charts."""
    since = datetime.combine(first_day, time.min, tzinfo=UTC)
    until = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)
    stmt = select(StatBucket.key, StatBucket.hour, *(getattr(StatBucket, name) for name in COUNTERS)).where(
        StatBucket.dimension == dimension, StatBucket.hour >= since, StatBucket.hour < until
    )
    if keys is not None:
        stmt = stmt.where(StatBucket.key.in_(keys))
    result: dict[str, dict[date, dict[str, int]]] = {}
    for row in session.execute(stmt):
        day = row.hour.astimezone(UTC).date()
        counts = result.setdefault(row.key, {}).setdefault(day, dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            counts[name] += getattr(row, name)
    return result


def daily_ip_results(session: Session, *, ip_address: str, day: date) -> IpDayResult:
    """What one sending IP did on one UTC day (the warmup gates read this)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    totals = window_totals(
        session, dimension="ip", key=ip_address, since=start, until=start + timedelta(days=1)
    )
    return IpDayResult(
        sent=totals["sent"],
        delivered=totals["delivered"],
        hard_bounces=totals["hard"],
        soft_bounces=totals["soft"],
        blocks=totals["block"],
        complaints=totals["complaints"],
        deferred=totals["deferred"],
    )


def rates(totals: dict[str, int]) -> dict[str, float | None]:
    sent, delivered = totals["sent"], totals["delivered"]
    return {
        "bounce_rate": round(totals["bounced"] / sent, 6) if sent else None,
        "hard_bounce_rate": round(totals["hard"] / sent, 6) if sent else None,
        "block_rate": round(totals["block"] / sent, 6) if sent else None,
        "complaint_rate": round(totals["complaints"] / delivered, 6) if delivered else None,
    }


def summary(session: Session, *, since: datetime, until: datetime) -> dict[str, Any]:
    totals = window_totals(session, dimension="all", key="*", since=since, until=until)
    categories = session.execute(
        select(StatBucket.key, func.sum(StatBucket.bounced))
        .where(StatBucket.dimension == "category", StatBucket.hour >= hour_of(since), StatBucket.hour < until)
        .group_by(StatBucket.key)
        .order_by(StatBucket.key)
    ).all()
    return {
        "since": hour_of(since).isoformat(),
        "until": until.isoformat(),
        "sent": totals["sent"],
        "delivered": totals["delivered"],
        "bounced": totals["bounced"],
        "complaints": totals["complaints"],
        "deferred": totals["deferred"],
        "by_category": {name: int(count) for name, count in categories if count},
        "by_type": {"hard": totals["hard"], "soft": totals["soft"], "block": totals["block"]},
        **rates(totals),
    }


def dimension_rows(
    session: Session, *, dimension: str, now: datetime, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Per-key counts and rates for each window, busiest keys (by 24 h volume) first."""
    window_start = {name: hour_of(now - span) for name, span in WINDOWS.items()}
    oldest = min(window_start.values())
    base = select(StatBucket.key).where(StatBucket.dimension == dimension, StatBucket.hour >= oldest)
    total = session.scalar(select(func.count()).select_from(base.group_by(StatBucket.key).subquery())) or 0
    day_start = window_start["24h"]
    day_sent = func.sum(case((StatBucket.hour >= day_start, StatBucket.sent + StatBucket.deferred), else_=0))
    keys = [
        key
        for (key,) in session.execute(
            select(StatBucket.key)
            .where(StatBucket.dimension == dimension, StatBucket.hour >= oldest)
            .group_by(StatBucket.key)
            .order_by(day_sent.desc(), StatBucket.key)
            .limit(limit)
            .offset(offset)
        )
    ]
    if not keys:
        return total, []
    per_key: dict[str, dict[str, dict[str, int]]] = {
        key: {name: dict.fromkeys(COUNTERS, 0) for name in WINDOWS} for key in keys
    }
    # One row per key with every window's sums (the database adds up the hours, not Python).
    sums = [
        func.sum(case((StatBucket.hour >= start, getattr(StatBucket, name)), else_=0)).label(
            f"{window}:{name}"
        )
        for window, start in window_start.items()
        for name in COUNTERS
    ]
    grouped = session.execute(
        select(StatBucket.key, *sums)
        .where(StatBucket.dimension == dimension, StatBucket.hour >= oldest, StatBucket.key.in_(keys))
        .group_by(StatBucket.key)
    )
    for row in grouped:
        values = row._mapping
        for window in WINDOWS:
            target = per_key[row.key][window]
            for name in COUNTERS:
                target[name] = int(values[f"{window}:{name}"] or 0)
    rows = [
        {"key": key, "windows": {window: {**counts, **rates(counts)} for window, counts in windows.items()}}
        for key, windows in per_key.items()
    ]
    return total, rows
