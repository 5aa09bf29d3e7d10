"""The suppression list: addresses and whole domains that must not be mailed.

Hard bounces and complaints are added by ingestion; operators add and remove entries by hand;
the domain job adds recipient domains whose hard-bounce rate is too high.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from email_engine.csv_export import csv_chunks
from email_engine.errors import InvalidInput, NotFound
from email_engine.feedback.models import Suppression
from email_engine.feedback.pseudonym import pseudonym
from email_engine.feedback.records import split_address
from email_engine.platform.upsert import greatest, insert_for

__all__ = [
    "REASONS",
    "SuppressionEntry",
    "add_suppression",
    "export_csv",
    "list_suppressions",
    "normalise_value",
    "remove_suppression",
    "suppressed_addresses",
    "upsert_suppressions",
]

REASONS = ("hard_bounce", "complaint", "unsubscribe", "manual", "domain_hard_bounce_rate")
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    value: str
    kind: str
    reason: str
    source: str
    seen_at: datetime
    note: str | None = None


def normalise_value(value: str) -> tuple[str, str]:
    """(lower-cased value, ``address`` or ``domain``); raises InvalidInput with the reason."""
    text = value.strip().lower().rstrip(".")
    if not text or len(text) > 320 or any(ch.isspace() for ch in text):
        raise InvalidInput(
            f"{value[:80]!r} is not an address or a domain (no spaces, at most 320 characters)."
        )
    if "@" in text:
        local, domain = split_address(text)
        if not local or "." not in domain:
            raise InvalidInput(f"{value[:80]!r} is not an address: expected local@domain.tld.")
        return f"{local}@{domain}", "address"
    if "." not in text:
        raise InvalidInput(f"{value[:80]!r} is not a domain: expected a name like example.com.")
    return text, "domain"


def upsert_suppressions(session: Session, entries: Iterable[SuppressionEntry]) -> int:
    """Insert or refresh entries (keeps the first reason and first_seen_at). Returns rows touched."""
    merged: dict[str, SuppressionEntry] = {}
    for entry in entries:
        current = merged.get(entry.value)
        if current is None or entry.seen_at > current.seen_at:
            merged[entry.value] = entry
    if not merged:
        return 0
    rows = [
        {
            "value": entry.value,
            "kind": entry.kind,
            "reason": entry.reason,
            "source": entry.source[:64],
            "note": entry.note,
            "first_seen_at": entry.seen_at,
            "last_seen_at": entry.seen_at,
        }
        for _value, entry in sorted(merged.items())  # one lock order for concurrent writers
    ]
    table = Suppression.__table__
    stmt = insert_for(session, table)  # type: ignore[arg-type]
    stmt = stmt.on_conflict_do_update(
        index_elements=["value"],
        set_={"last_seen_at": greatest(session, table.c.last_seen_at, stmt.excluded.last_seen_at)},
    )
    session.execute(stmt, rows)
    return len(rows)


def suppressed_addresses(session: Session, addresses: Iterable[str], *, key: bytes | None) -> set[str]:
    """The given addresses that are suppressed, by address, by whole domain, or by the pseudonym a
    forgotten address is kept as under ``key`` (``pseudonym_key``; returned as given)."""
    wanted: dict[str, list[str]] = {}
    domains: dict[str, list[str]] = {}
    for address in addresses:
        local, domain = split_address(address)
        if not domain:
            continue
        value = f"{local.lower()}@{domain}"
        wanted.setdefault(value, []).append(address)
        if key is not None:
            wanted.setdefault(pseudonym(value, key), []).append(address)
        domains.setdefault(domain, []).append(address)
    hits: set[str] = set()
    values = list(wanted) + list(domains)
    for start in range(0, len(values), _LOOKUP_CHUNK):
        chunk = values[start : start + _LOOKUP_CHUNK]
        for value in session.scalars(select(Suppression.value).where(Suppression.value.in_(chunk))):
            hits.update(wanted.get(value, ()))
            hits.update(domains.get(value, ()))
    return hits


def add_suppression(
    session: Session, *, value: str, reason: str, source: str, note: str | None, now: datetime
) -> Suppression:
    if reason not in REASONS:
        raise InvalidInput(f"Unknown reason {reason!r}; use one of: {', '.join(REASONS)}.")
    normalised, kind = normalise_value(value)
    upsert_suppressions(
        session,
        [SuppressionEntry(value=normalised, kind=kind, reason=reason, source=source, seen_at=now, note=note)],
    )
    session.flush()
    row = session.scalars(select(Suppression).where(Suppression.value == normalised)).one()
    session.refresh(row)
    return row


def remove_suppression(session: Session, *, value: str) -> Suppression:
    normalised, _kind = normalise_value(value)
    row = session.scalars(select(Suppression).where(Suppression.value == normalised)).one_or_none()
    if row is None:
        raise NotFound(f"{normalised} is not on the suppression list.")
    session.execute(delete(Suppression).where(Suppression.id == row.id))
    session.flush()
    return row


def list_suppressions(
    session: Session, *, limit: int, offset: int, query: str | None = None, kind: str | None = None
) -> tuple[int, Sequence[Suppression]]:
    stmt = select(Suppression)
    if query:
        stmt = stmt.where(Suppression.value.contains(query.strip().lower(), autoescape=True))
    if kind:
        stmt = stmt.where(Suppression.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Suppression.last_seen_at.desc(), Suppression.id.desc()).limit(limit).offset(offset)
    )
    return total, rows.all()


_CSV_COLUMNS = ("value", "kind", "reason", "source", "first_seen_at", "last_seen_at", "note")


def export_csv(session: Session, *, chunk: int = 2000) -> Iterator[str]:
    """The whole list as spreadsheet-safe CSV text chunks (``email_engine.csv_export``), read in pages
    (keyset on id) so memory stays flat."""
    return csv_chunks(_CSV_COLUMNS, _export_rows(session, chunk=chunk), rows_per_chunk=chunk)


def _export_rows(session: Session, *, chunk: int) -> Iterator[tuple[object, ...]]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(Suppression).where(Suppression.id > last_id).order_by(Suppression.id).limit(chunk)
        ).all()
        for row in rows:
            yield (
                row.value,
                row.kind,
                row.reason,
                row.source,
                row.first_seen_at.isoformat(),
                row.last_seen_at.isoformat(),
                row.note or "",
            )
        if len(rows) < chunk:
            return
        last_id = rows[-1].id
