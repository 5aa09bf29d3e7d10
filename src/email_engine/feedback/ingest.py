"""Store accounting records: classify, insert once, count, suppress, queue feedback for scraper-pro.
(:mod:`classified` derives, :mod:`record_writer` inserts, :mod:`scraper_events` queues; this module
runs one batch through them.)

Everything for one batch happens in the caller's transaction, so a batch is either fully stored
(records, dead letters, aggregates, suppression entries and outbox events) or not at all. Records
whose idempotency key is already stored are skipped and change nothing, which makes replays safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.feedback.aggregate import COUNTERS, bucket_deltas
from email_engine.feedback.classified import ClassifiedRecord, classify_record, suppression_reason
from email_engine.feedback.models import AccountingOutcome, AccountingRow, StatBucket
from email_engine.feedback.record_writer import insert_dead_letters, insert_new
from email_engine.feedback.records import DeadLetterItem, IngestRecord, key_number, split_address
from email_engine.feedback.scraper_events import queue_feedback
from email_engine.feedback.suppression import SuppressionEntry, upsert_suppressions
from email_engine.platform.upsert import insert_for

__all__ = [
    "ForwardPolicy",
    "IngestResult",
    "ingest_batch",
    "split_past_horizon",
    "stored_outcome",
]

log = structlog.get_logger("email_engine.feedback.ingest")


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


def _add_to_buckets(session: Session, rows: Sequence[ClassifiedRecord]) -> None:
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


def _suppress(session: Session, rows: Sequence[ClassifiedRecord], *, source: str) -> int:
    entries = []
    for row in rows:
        reason = suppression_reason(row)
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
    rows = [classify_record(record) for record in unique.values()]
    stored_keys = insert_new(session, rows, source=source, now=now) if rows else set()
    new_rows = [row for row in rows if row.number in stored_keys]
    _add_to_buckets(session, new_rows)
    result = IngestResult(
        accepted=len(new_rows),
        duplicates=len(within) - len(new_rows),
        dead_letters=insert_dead_letters(
            session,
            letters,
            source=source,
            received_at=received_at or now,
            horizon_days=forward.replay_horizon_days,
        ),
        suppressed=_suppress(session, new_rows, source=source),
        past_horizon=len(beyond),
    )
    result.bounce_events, result.delivery_events = queue_feedback(
        session,
        new_rows,
        bounces=forward.bounces,
        deliveries=forward.deliveries,
        diag_max_chars=forward.diag_max_chars,
        now=now,
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
