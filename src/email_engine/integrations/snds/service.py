"""Fetch and store the SNDS feeds; read them back per IP and day.

A fetch stores whatever rows it could read and reports the lines it could not; a feed that does not
answer leaves what is stored untouched and fails the job run (retried at the next interval). The
data feed is upserted per (IP, day), so fetching a day twice changes nothing; the status feed
replaces the stored ranges only when it was read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError, DependencyUnavailable
from email_engine.integrations.snds import client
from email_engine.integrations.snds.feed import BlockedRange, SndsDay, parse_data_feed, parse_ip_status
from email_engine.integrations.snds.models import SndsBlock, SndsIpDay
from email_engine.integrations.snds.settings import SndsSettings

__all__ = ["blocked_ranges", "fetch_and_store", "ip_days", "store_blocks", "store_days", "stored_ips"]

log = structlog.get_logger(__name__)

_WIDTH = {
    "activity_start": 32,
    "activity_end": 32,
    "complaint_text": 32,
    "trap_message_start": 32,
    "trap_message_end": 32,
    "sample_helo": 255,
    "jmr_p1_sender": 255,
}
Fetcher = Callable[..., str]


def store_days(session: Session, rows: Iterable[SndsDay], *, now: datetime) -> int:
    """Insert or update one row per (IP, day); returns how many were written."""
    written = 0
    for row in rows:
        values: dict[str, Any] = asdict(row)
        values["filter_result"] = row.filter_result.value if row.filter_result else None
        for name, width in _WIDTH.items():
            if values[name] is not None:
                values[name] = values[name][:width]
        stored = session.scalar(select(SndsIpDay).where(SndsIpDay.ip == row.ip, SndsIpDay.day == row.day))
        if stored is None:
            stored = SndsIpDay(ip=row.ip, day=row.day)
            session.add(stored)
        for name, value in values.items():
            if name not in ("ip", "day"):
                setattr(stored, name, value)
        stored.fetched_at = now
        written += 1
    session.flush()
    return written


def store_blocks(session: Session, ranges: Iterable[BlockedRange], *, now: datetime) -> int:
    session.execute(delete(SndsBlock))
    count = 0
    for item in ranges:
        session.add(
            SndsBlock(
                first_ip=item.first_ip,
                last_ip=item.last_ip,
                blocked=item.blocked,
                reason=item.reason,
                fetched_at=now,
            )
        )
        count += 1
    session.flush()
    return count


def fetch_and_store(
    session: Session,
    options: SndsSettings,
    *,
    now: datetime,
    day: date | None = None,
    fetch_data: Fetcher = client.fetch_data,
    fetch_status: Fetcher = client.fetch_ip_status,
) -> dict[str, Any]:
    """Fetch the latest data (and ``backfill_days`` earlier days, or only ``day``) and the status feed."""
    if not options.configured or options.key is None:
        raise ConfigurationError("Set SNDS_KEY (SNDS → Automated Data Access) to fetch SNDS data.")
    key = options.key.get_secret_value().strip()
    wanted: list[date | None] = (
        [day]
        if day is not None
        else [None, *(now.date() - timedelta(days=n) for n in range(1, options.backfill_days + 1))]
    )
    summary: dict[str, Any] = {"rows": 0, "problems": [], "blocked_ranges": None, "errors": []}
    for asked in wanted:
        label = asked.isoformat() if asked else "latest"
        try:
            text = fetch_data(options.base_url, key, day=asked, timeout=options.timeout)
        except DependencyUnavailable as exc:
            summary["errors"].append(f"data {label}: {exc.detail}")
            continue
        rows, problems = parse_data_feed(text, day=asked)
        summary["rows"] += store_days(session, rows, now=now)
        summary["problems"] += [f"data {label} line {p.line}: {p.reason}" for p in problems]
    try:
        ranges, problems = parse_ip_status(fetch_status(options.base_url, key, timeout=options.timeout))
    except DependencyUnavailable as exc:
        summary["errors"].append(f"ipStatus: {exc.detail}")
    else:
        summary["blocked_ranges"] = store_blocks(session, ranges, now=now)
        summary["problems"] += [f"ipStatus line {p.line}: {p.reason}" for p in problems]
    summary["problems"] = summary["problems"][:50]
    log.info(
        "snds.fetched",
        rows=summary["rows"],
        problems=len(summary["problems"]),
        blocked_ranges=summary["blocked_ranges"],
        errors=len(summary["errors"]),
    )
    if summary["errors"] and not summary["rows"] and summary["blocked_ranges"] is None:
        raise DependencyUnavailable("SNDS could not be read: " + "; ".join(summary["errors"]))
    return summary


def ip_days(session: Session, *, ips: Iterable[str], since: date, until: date) -> list[SndsIpDay]:
    wanted = list(set(ips))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(SndsIpDay)
            .where(SndsIpDay.ip.in_(wanted), SndsIpDay.day >= since, SndsIpDay.day <= until)
            .order_by(SndsIpDay.day, SndsIpDay.ip)
        )
    )


def blocked_ranges(session: Session) -> list[BlockedRange]:
    return [
        BlockedRange(row.first_ip, row.last_ip, row.blocked, row.reason)
        for row in session.scalars(select(SndsBlock).where(SndsBlock.blocked.is_(True)))
    ]


def stored_ips(session: Session) -> list[str]:
    return sorted(session.scalars(select(SndsIpDay.ip).distinct()))
