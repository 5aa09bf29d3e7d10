"""Write a batch's accounting records and dead letters (I/O): each record in its compact stored form
(dictionary ids for outcome, route and recipient domain), inserted once per idempotency key —
PostgreSQL through COPY into a staging table, SQLite through paged ``INSERT … ON CONFLICT``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from email_engine.feedback.classified import ClassifiedRecord
from email_engine.feedback.dictionary import Dictionary, value_digest
from email_engine.feedback.models import (
    DIAG_MAX,
    RAW_MAX,
    REASON_MAX,
    AccountingDomain,
    AccountingOutcome,
    AccountingRoute,
    AccountingRow,
    DeadLetterRow,
)
from email_engine.feedback.partitions import ensure_partitions
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from email_engine.platform.upsert import insert_for, is_postgres

__all__ = ["insert_dead_letters", "insert_new"]

_INSERT_PAGE = 2000


OUTCOMES = Dictionary(
    AccountingOutcome.__table__,  # type: ignore[arg-type]
    ("type", "dsn_status", "dsn_diag", "category", "bounce_type", "rule"),
)


ROUTES = Dictionary(AccountingRoute.__table__, ("source", "vmta", "source_ip", "sender_domain"))  # type: ignore[arg-type]


DOMAINS = Dictionary(AccountingDomain.__table__, ("name",))  # type: ignore[arg-type]


_INT32 = 2**31 - 1


def outcome_values(row: ClassifiedRecord) -> tuple[str | None, ...]:
    record = row.record
    return (
        record.type[:4],
        record.dsn_status[:32] if record.dsn_status else None,
        record.dsn_diag[:DIAG_MAX] if record.dsn_diag else None,
        row.category,
        row.bounce_type,
        row.rule[:128] if row.rule else None,
    )


def route_values(row: ClassifiedRecord, source: str) -> tuple[str | None, ...]:
    record = row.record
    return (
        source[:64],
        record.vmta[:128] if record.vmta else None,
        record.source_ip[:45] if record.source_ip else None,
        row.sender_domain[:255] if row.sender_domain else None,
    )


def _queued_seconds(record: IngestRecord) -> int | None:
    if record.time_queued is None:
        return None
    seconds = int((record.time_logged - record.time_queued).total_seconds())
    return max(-_INT32, min(_INT32, seconds))


class _Compact(NamedTuple):
    time_logged: datetime
    record_key: int
    outcome_id: int
    route_id: int
    domain_id: int
    queued_seconds: int | None
    rcpt_local: str


def _compact_rows(
    session: Session, rows: Sequence[ClassifiedRecord], *, source: str, now: datetime
) -> list[_Compact]:
    """The stored form of each row, with dictionary ids (new dictionary entries are inserted)."""
    day = max(now.date(), *(row.time_logged.date() for row in rows))
    # Each distinct value once per batch (keyed by the raw fields, before truncation and digest);
    # rows keep the index of their value, resolved to dictionary ids once the batch's ids are known.
    outcome_memo: dict[tuple[object, ...], int] = {}
    route_memo: dict[tuple[str | None, ...], int] = {}
    domain_memo: dict[str, int] = {}
    outcome_rows: list[ClassifiedRecord] = []
    route_rows: list[ClassifiedRecord] = []
    indexes: list[tuple[int, int, int]] = []
    for row in rows:
        record = row.record
        outcome = (record.type, record.dsn_status, record.dsn_diag, row.category, row.bounce_type, row.rule)
        o_index = outcome_memo.get(outcome)
        if o_index is None:
            o_index = outcome_memo[outcome] = len(outcome_rows)
            outcome_rows.append(row)
        route = (record.vmta, record.source_ip, row.sender_domain)
        r_index = route_memo.get(route)
        if r_index is None:
            r_index = route_memo[route] = len(route_rows)
            route_rows.append(row)
        d_index = domain_memo.get(row.rcpt_domain)
        if d_index is None:
            d_index = domain_memo[row.rcpt_domain] = len(domain_memo)
        indexes.append((o_index, r_index, d_index))
    outcome_ids = _ids(OUTCOMES, session, [outcome_values(row) for row in outcome_rows], (), day=day)
    route_ids = _ids(ROUTES, session, [route_values(row, source) for row in route_rows], ("route",), day=day)
    domain_ids = _ids(DOMAINS, session, [(domain[:255],) for domain in domain_memo], ("domain",), day=day)
    return [
        _Compact(
            row.time_logged,
            row.number,
            outcome_ids[o_index],
            route_ids[r_index],
            domain_ids[d_index],
            _queued_seconds(row.record),
            row.rcpt_local[:320],
        )
        for row, (o_index, r_index, d_index) in zip(rows, indexes, strict=True)
    ]


def _ids(
    dictionary: Dictionary,
    session: Session,
    values: Sequence[tuple[str | None, ...]],
    prefix: tuple[str, ...],
    *,
    day: date,
) -> list[int]:
    """The dictionary id of each value, in order (two raw values may truncate to one entry)."""
    digests = [value_digest((*prefix, *value)) for value in values]
    ids = dictionary.ids(session, dict(zip(digests, values, strict=True)), day=day)
    return [ids[digest] for digest in digests]


_COLUMNS = _Compact._fields


_STAGE = "feedback_accounting_stage"


_COLUMN_LIST = ", ".join(_COLUMNS)


# Constant identifiers only: nothing from the input reaches these statements.
_CREATE_STAGE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
    f"SELECT {_COLUMN_LIST} FROM accounting_record WITH NO DATA"
)


_EMPTY_STAGE = f"TRUNCATE {_STAGE}"


_COPY_STAGE = f"COPY {_STAGE} ({_COLUMN_LIST}) FROM STDIN"


_MOVE_STAGE = (
    f"INSERT INTO accounting_record ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {_STAGE} "  # noqa: S608
    "ON CONFLICT (time_logged, record_key) DO NOTHING RETURNING record_key"
)


def insert_new(session: Session, rows: Sequence[ClassifiedRecord], *, source: str, now: datetime) -> set[int]:
    """Insert, skipping keys already stored; returns the (numeric) keys this call stored."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    ensure_partitions(engine, "accounting_record", {row.time_logged.date() for row in rows})
    compact = _compact_rows(session, rows, source=source, now=now)
    if is_postgres(session):
        return _copy_new(session, compact)
    table = AccountingRow.__table__
    stored: set[int] = set()
    for start in range(0, len(compact), _INSERT_PAGE):
        page = [item._asdict() for item in compact[start : start + _INSERT_PAGE]]
        stmt = insert_for(session, table).on_conflict_do_nothing(index_elements=["time_logged", "record_key"])  # type: ignore[arg-type]
        stored.update(session.scalars(stmt.returning(table.c.record_key), page))
    return stored


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_NULL = "\\N"


def _copy_text(text: str) -> str:
    """COPY's text format: backslash, tab and line ends escaped (the common case passes untouched)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return _copy_field(text)
    return text


def _copy_new(session: Session, rows: Sequence[_Compact]) -> set[int]:
    """PostgreSQL: COPY into a temporary staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING.

    A multi-row VALUES statement spends most of its time building and parsing the SQL text; COPY
    streams the rows instead, several times faster for thousands of rows.
    """
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(_CREATE_STAGE)
        cursor.execute(_EMPTY_STAGE)
        with cursor.copy(_COPY_STAGE) as copy:
            for start in range(0, len(rows), _INSERT_PAGE):
                page = rows[start : start + _INSERT_PAGE]
                copy.write(
                    "".join(
                        [
                            f"{time_logged.isoformat()}\t{record_key}\t{outcome_id}\t{route_id}\t{domain_id}\t"
                            f"{_NULL if queued is None else queued}\t{_copy_text(rcpt_local)}\n"
                            for time_logged, record_key, outcome_id, route_id, domain_id, queued, rcpt_local in page
                        ]
                    )
                )
        cursor.execute(_MOVE_STAGE)
        return {int(key) for (key,) in cursor.fetchall()}


def insert_dead_letters(
    session: Session,
    letters: Sequence[DeadLetterItem],
    *,
    source: str,
    received_at: datetime,
    horizon_days: int,
) -> int:
    """Store letters not stored within the replay horizon; returns how many were stored.

    ``received_at`` is when the input arrived (the partition key). The unique index holds within
    one ``received_at``; a letter repeated later (a webhook body sent again) is found by its key
    among the letters of the horizon first (dead letters are few, the lookup is an index probe).
    """
    if not letters:
        return 0
    table = DeadLetterRow.__table__
    keys = list({letter.dedupe_key for letter in letters})
    since = received_at - timedelta(days=horizon_days)
    known: set[str] = set()
    for start in range(0, len(keys), _INSERT_PAGE):
        page = keys[start : start + _INSERT_PAGE]
        known.update(
            session.scalars(
                select(table.c.dedupe_key).where(table.c.dedupe_key.in_(page), table.c.created_at >= since)
            )
        )
    fresh = [letter for letter in letters if letter.dedupe_key not in known]
    if not fresh:
        return 0
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    ensure_partitions(engine, "dead_letter", {received_at.date()})
    values = [
        {
            "dedupe_key": letter.dedupe_key,
            "line_number": letter.line_number,
            "reason": letter.reason[:REASON_MAX],
            "raw": letter.raw[:RAW_MAX],
            "source": source[:64],
            "created_at": received_at,
        }
        for letter in fresh
    ]
    stmt = insert_for(session, table).on_conflict_do_nothing(index_elements=["dedupe_key", "created_at"])  # type: ignore[arg-type]
    return len(list(session.scalars(stmt.returning(table.c.id), values)))
