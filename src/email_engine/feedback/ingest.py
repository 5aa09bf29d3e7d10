"""Store accounting records: classify, insert once, count, suppress, queue feedback for scraper-pro.

Everything for one batch happens in the caller's transaction, so a batch is either fully stored
(records, dead letters, aggregates, suppression entries and outbox events) or not at all. Records
whose idempotency key is already stored are skipped and change nothing, which makes replays safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from email_engine.feedback.aggregate import COUNTERS, bucket_deltas
from email_engine.feedback.bounce import classify_bounce
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
    StatBucket,
)
from email_engine.feedback.partitions import ensure_partitions
from email_engine.feedback.providers import provider_for_domain
from email_engine.feedback.records import DeadLetterItem, IngestRecord, key_number, split_address
from email_engine.feedback.suppression import SuppressionEntry, upsert_suppressions
from email_engine.outbox.service import enqueue_event
from email_engine.platform.upsert import insert_for, is_postgres

__all__ = [
    "BOUNCE_EVENT",
    "DELIVERY_EVENT",
    "ForwardPolicy",
    "IngestResult",
    "ingest_batch",
    "split_past_horizon",
    "stored_outcome",
]

log = structlog.get_logger("email_engine.feedback.ingest")

BOUNCE_EVENT = "scraper_pro.bounce"
DELIVERY_EVENT = "scraper_pro.delivery"
CLASSIFIED_TYPES = frozenset({"b", "rb", "t", "tq"})
_INSERT_PAGE = 2000
# Bounces per outbox event (and per HTTP request to scraper-pro): one row per bounce would cost a
# round trip each at ingestion time; 100 keeps a request well under a few hundred kilobytes.
BOUNCES_PER_EVENT = 100


@dataclass(frozen=True, slots=True)
class ForwardPolicy:
    """What ingestion does besides storing: which scraper-pro feeds are configured (nothing is queued
    for a feed without a URL), and how far back a record is accepted.

    ``replay_horizon_days``: a record logged longer ago than this is not stored or counted but kept
    as a dead letter that says so (its partition may be gone, so it could count twice); with
    ``accept_past_horizon`` it is stored like any other (``email-engine pipe --accept-past-horizon``).
    """

    bounces: bool = False
    deliveries: bool = False
    diag_max_chars: int = 500
    replay_horizon_days: int = 14
    accept_past_horizon: bool = False


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    suppressed: int = 0
    bounce_events: int = 0  # bounces and complaints queued for scraper-pro (not outbox rows)
    delivery_events: int = 0
    #: Records older than the replay horizon: kept as dead letters, not counted.
    past_horizon: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters
        self.suppressed += other.suppressed
        self.bounce_events += other.bounce_events
        self.delivery_events += other.delivery_events
        self.past_horizon += other.past_horizon
        for name, count in other.by_type.items():
            self.by_type[name] = self.by_type.get(name, 0) + count

    def as_dict(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "suppressed": self.suppressed,
            "bounce_events": self.bounce_events,
            "delivery_events": self.delivery_events,
            "past_horizon": self.past_horizon,
        }


@dataclass(frozen=True, slots=True)
class _Row:
    """A record with what ingestion derives from it (a :class:`Countable` for the buckets)."""

    record: IngestRecord
    number: int  # key_number(record.key), the stored record_key
    type: str
    time_logged: datetime
    source_ip: str | None
    vmta: str | None
    rcpt_domain: str
    rcpt_local: str
    sender_domain: str | None
    provider: str
    category: str | None
    bounce_type: str | None
    rule: str | None


def _prepare(record: IngestRecord) -> _Row:
    rcpt_local, rcpt_domain = split_address(record.rcpt)
    _sender_local, sender_domain = split_address(record.orig)
    category = bounce_type = rule = None
    if record.type in CLASSIFIED_TYPES and (record.dsn_status or record.dsn_diag or record.bounce_cat):
        verdict = classify_bounce(
            record.dsn_status or "",
            record.dsn_diag or "",
            bounce_cat=record.bounce_cat,
            recipient_domain=rcpt_domain,
        )
        category, bounce_type, rule = verdict.category, str(verdict.type), verdict.rule
    return _Row(
        record=record,
        number=key_number(record.key),
        type=record.type,
        time_logged=record.time_logged,
        source_ip=record.source_ip,
        vmta=record.vmta,
        rcpt_domain=rcpt_domain,
        rcpt_local=rcpt_local,
        sender_domain=sender_domain or None,
        provider=provider_for_domain(rcpt_domain),
        category=category,
        bounce_type=bounce_type,
        rule=rule,
    )


OUTCOMES = Dictionary(
    AccountingOutcome.__table__,  # type: ignore[arg-type]
    ("type", "dsn_status", "dsn_diag", "category", "bounce_type", "rule"),
)
ROUTES = Dictionary(AccountingRoute.__table__, ("source", "vmta", "source_ip", "sender_domain"))  # type: ignore[arg-type]
DOMAINS = Dictionary(AccountingDomain.__table__, ("name",))  # type: ignore[arg-type]
_INT32 = 2**31 - 1


def outcome_values(row: _Row) -> tuple[str | None, ...]:
    record = row.record
    return (
        record.type[:4],
        record.dsn_status[:32] if record.dsn_status else None,
        record.dsn_diag[:DIAG_MAX] if record.dsn_diag else None,
        row.category,
        row.bounce_type,
        row.rule[:128] if row.rule else None,
    )


def route_values(row: _Row, source: str) -> tuple[str | None, ...]:
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


def _compact_rows(session: Session, rows: Sequence[_Row], *, source: str, now: datetime) -> list[_Compact]:
    """The stored form of each row, with dictionary ids (new dictionary entries are inserted)."""
    day = max(now.date(), *(row.time_logged.date() for row in rows))
    # Each distinct value once per batch (keyed by the raw fields, before truncation and digest);
    # rows keep the index of their value, resolved to dictionary ids once the batch's ids are known.
    outcome_memo: dict[tuple[object, ...], int] = {}
    route_memo: dict[tuple[str | None, ...], int] = {}
    domain_memo: dict[str, int] = {}
    outcome_rows: list[_Row] = []
    route_rows: list[_Row] = []
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


def _insert_new(session: Session, rows: Sequence[_Row], *, source: str, now: datetime) -> set[int]:
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


def _insert_dead_letters(
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


def _add_to_buckets(session: Session, rows: Sequence[_Row]) -> None:
    deltas = bucket_deltas(rows)
    if not deltas:
        return
    table = StatBucket.__table__
    values = [
        {"hour": hour, "dimension": dimension, "key": key, **{name: counts.get(name, 0) for name in COUNTERS}}
        for (hour, dimension, key), counts in sorted(deltas.items())  # one lock order for concurrent writers
    ]
    stmt = insert_for(session, table)  # type: ignore[arg-type]
    stmt = stmt.on_conflict_do_update(
        index_elements=["hour", "dimension", "key"],
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTERS},
    )
    session.execute(stmt, values)


def _suppress(session: Session, rows: Sequence[_Row], *, source: str) -> int:
    entries = []
    for row in rows:
        reason = _suppression_reason(row)
        if reason is None:
            continue
        local, domain = split_address(row.record.rcpt)
        if not local or not domain:
            continue
        entries.append(
            SuppressionEntry(
                value=f"{local.lower()}@{domain}"[:320],
                kind="address",
                reason=reason,
                source=source,
                seen_at=row.record.time_logged,
            )
        )
    return upsert_suppressions(session, entries)


def _suppression_reason(row: _Row) -> str | None:
    if row.record.type == "f":
        return "complaint"
    if row.record.type in ("b", "rb") and row.bounce_type == "hard":
        return "hard_bounce"
    return None


def bounce_payload(row: _Row, *, diag_max_chars: int) -> dict[str, object]:
    record = row.record
    return {
        "email": record.rcpt,
        "event": "complaint" if record.type == "f" else "bounce",
        "type": "complaint" if record.type == "f" else row.bounce_type,
        "category": row.category,
        "dsn_status": record.dsn_status,
        "diagnostic": (record.dsn_diag or "")[:diag_max_chars] or None,
        "source_ip": record.source_ip,
        "vmta": record.vmta,
        "record_type": record.type,
        "occurred_at": record.time_logged.isoformat(),
        "idempotency_key": f"{BOUNCE_EVENT}:{record.key}",
    }


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def _queue_feedback(
    session: Session, rows: Sequence[_Row], *, forward: ForwardPolicy, now: datetime
) -> tuple[int, int]:
    """Queue scraper-pro events: bounces in chunks of BOUNCES_PER_EVENT, one delivery count per domain.

    Only rows stored by this call get here, so a replay queues nothing twice; the outbox keys are
    derived from the record keys all the same.
    """
    bounces: list[dict[str, object]] = []
    delivered: dict[str, list[_Row]] = {}
    for row in rows:
        if _suppression_reason(row) is not None:
            if forward.bounces:
                bounces.append(bounce_payload(row, diag_max_chars=forward.diag_max_chars))
        elif row.record.type == "d" and row.rcpt_domain and forward.deliveries:
            delivered.setdefault(row.rcpt_domain, []).append(row)
    bounce_count = 0
    for start in range(0, len(bounces), BOUNCES_PER_EVENT):
        chunk = bounces[start : start + BOUNCES_PER_EVENT]
        key = f"{BOUNCE_EVENT}:{_digest([str(item['idempotency_key']) for item in chunk])}"
        if enqueue_event(
            session, kind=BOUNCE_EVENT, payload={"bounces": chunk}, idempotency_key=key, now=now
        ):
            bounce_count += len(chunk)
    delivery_events = 0
    for domain, domain_rows in sorted(delivered.items()):
        key = f"{DELIVERY_EVENT}:{_digest([domain, *sorted(row.record.key for row in domain_rows)])}"
        times = [row.record.time_logged for row in domain_rows]
        payload = {
            "domain": domain,
            "provider": domain_rows[0].provider,
            "delivered": len(domain_rows),
            "first_at": min(times).isoformat(),
            "last_at": max(times).isoformat(),
            "idempotency_key": key,
        }
        if enqueue_event(session, kind=DELIVERY_EVENT, payload=payload, idempotency_key=key, now=now):
            delivery_events += 1
    return bounce_count, delivery_events


PAST_HORIZON_REASON = (
    "The record was logged {days} days before it arrived, beyond the replay horizon "
    "(ACCOUNTING_REPLAY_HORIZON_DAYS = {horizon}): it may have been stored and counted already and "
    "its day may be purged, so it was not counted. If it was never stored, feed it again with "
    "email-engine pipe --accept-past-horizon."
)


def _past_horizon_letter(record: IngestRecord, *, now: datetime, horizon: int) -> DeadLetterItem:
    days = (now - record.time_logged).days
    raw = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
    return DeadLetterItem(
        dedupe_key=hashlib.sha256(f"past-horizon\n{record.key}".encode()).hexdigest(),
        line_number=0,
        reason=PAST_HORIZON_REASON.format(days=days, horizon=horizon),
        raw=raw,
    )


#: A record logged further ahead than this is a clock error; it would make a partition for a far day.
FUTURE_DAYS = 7
FUTURE_REASON = (
    "The record was logged {days} days after it arrived (more than {limit} days ahead): the sending "
    "host's clock is wrong. It was not counted; fix the clock, then feed the record again."
)


def _future_letter(record: IngestRecord, *, now: datetime) -> DeadLetterItem:
    raw = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
    return DeadLetterItem(
        dedupe_key=hashlib.sha256(f"future\n{record.key}".encode()).hexdigest(),
        line_number=0,
        reason=FUTURE_REASON.format(days=(record.time_logged - now).days, limit=FUTURE_DAYS),
        raw=raw,
    )


def split_past_horizon(
    records: Sequence[IngestRecord], *, now: datetime, forward: ForwardPolicy
) -> tuple[list[IngestRecord], list[IngestRecord]]:
    """(records within the replay horizon, records beyond it); all within when accepted by the policy."""
    if forward.accept_past_horizon:
        return list(records), []
    oldest = now - timedelta(days=forward.replay_horizon_days)
    within: list[IngestRecord] = []
    beyond: list[IngestRecord] = []
    for record in records:
        (within if record.time_logged >= oldest else beyond).append(record)
    return within, beyond


def ingest_batch(
    session: Session,
    records: Sequence[IngestRecord],
    dead_letters: Sequence[DeadLetterItem] = (),
    *,
    source: str,
    now: datetime,
    forward: ForwardPolicy,
    received_at: datetime | None = None,
) -> IngestResult:
    """Store one batch in the session's transaction (flushes; the caller commits).

    ``received_at`` is when the input arrived (the pipe passes its spool segment's start, the same on
    every replay); dead letters are filed under it. Default: ``now``.
    """
    within, beyond = split_past_horizon(records, now=now, forward=forward)
    letters = list(dead_letters)
    latest = now + timedelta(days=FUTURE_DAYS)
    ahead = [record for record in within if record.time_logged > latest]
    if ahead:
        within = [record for record in within if record.time_logged <= latest]
        letters.extend(_future_letter(record, now=now) for record in ahead)
        log.warning(
            "records_in_the_future", count=len(ahead), latest=max(r.time_logged for r in ahead).isoformat()
        )
    if beyond:
        letters.extend(
            _past_horizon_letter(record, now=now, horizon=forward.replay_horizon_days) for record in beyond
        )
        log.warning(
            "records_past_replay_horizon",
            count=len(beyond),
            horizon_days=forward.replay_horizon_days,
            oldest=min(record.time_logged for record in beyond).isoformat(),
        )
    unique: dict[str, IngestRecord] = {}
    for record in within:
        unique.setdefault(record.key, record)
    rows = [_prepare(record) for record in unique.values()]
    stored_keys = _insert_new(session, rows, source=source, now=now) if rows else set()
    new_rows = [row for row in rows if row.number in stored_keys]
    _add_to_buckets(session, new_rows)
    result = IngestResult(
        accepted=len(new_rows),
        duplicates=len(within) - len(new_rows),
        dead_letters=_insert_dead_letters(
            session,
            letters,
            source=source,
            received_at=received_at or now,
            horizon_days=forward.replay_horizon_days,
        ),
        suppressed=_suppress(session, new_rows, source=source),
        past_horizon=len(beyond),
    )
    result.bounce_events, result.delivery_events = _queue_feedback(
        session, new_rows, forward=forward, now=now
    )
    for row in new_rows:
        result.by_type[row.record.type] = result.by_type.get(row.record.type, 0) + 1
    session.flush()
    return result


def stored_outcome(session: Session, record: IngestRecord) -> AccountingOutcome | None:
    """The stored outcome (type, status, classification) of a record, None if it is not stored."""
    stmt = (
        select(AccountingOutcome)
        .join(AccountingRow, AccountingRow.outcome_id == AccountingOutcome.id)
        .where(
            AccountingRow.time_logged == record.time_logged,
            AccountingRow.record_key == key_number(record.key),
        )
    )
    return session.scalars(stmt).first()
