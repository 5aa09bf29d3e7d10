"""What the feedback API does with a request: store posted accounting records, read a bounce message.

Services flush, never commit: the router parses the request, calls one of these, commits and answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO

from sqlalchemy.orm import Session

from email_engine.feedback.accounting import AccountingRecord
from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.dsn import parse_dsn_stream
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch, stored_outcome
from email_engine.feedback.record_json import record_as_dict
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from email_engine.feedback.schemas import BatchAccepted, DsnRecord, ParsedDsn, SingleAccepted
from email_engine.feedback.webhook import batch_items, single_item

__all__ = ["dsn_record", "ingest_csv", "ingest_single", "read_dsn"]

_INGEST_CHUNK = 5000


def ingest_single(
    session: Session, body: bytes, *, default_type: str, forward: ForwardPolicy, now: datetime
) -> SingleAccepted:
    """Store one JSON record (a duplicate or a record past the replay horizon is not counted)."""
    record = single_item(body, default_type=default_type, now=now, stream="webhook")
    result = ingest_batch(session, [record], source="webhook", now=now, forward=forward)
    stored = stored_outcome(session, record)
    return SingleAccepted(
        accepted=result.accepted == 1,
        duplicate=result.accepted == 0 and result.past_horizon == 0,
        past_horizon=result.past_horizon == 1,
        record_key=record.key,
        type=record.type,
        category=stored.category if stored else None,
        bounce_type=stored.bounce_type if stored else None,
        rule=stored.rule if stored else None,
    )


def ingest_csv(session: Session, body: bytes, *, forward: ForwardPolicy, now: datetime) -> BatchAccepted:
    """Store accounting CSV (header line first) in chunks; garbage lines become dead letters."""
    totals = BatchAccepted(accepted=0, duplicates=0, dead_letters=0, past_horizon=0)
    records: list[IngestRecord] = []
    letters: list[DeadLetterItem] = []

    def flush() -> None:
        result = ingest_batch(session, records, letters, source="webhook", now=now, forward=forward)
        totals.accepted += result.accepted
        totals.duplicates += result.duplicates
        totals.dead_letters += len(letters)
        totals.past_horizon += result.past_horizon
        records.clear()
        letters.clear()

    for item in batch_items(body, stream="webhook"):
        (records if isinstance(item, IngestRecord) else letters).append(item)  # type: ignore[arg-type]
        if len(records) + len(letters) >= _INGEST_CHUNK:
            flush()
    flush()
    return totals


def dsn_record(record: AccountingRecord, *, classify: bool = True) -> DsnRecord:
    """A record read from a DSN or ARF message; a remote bounce gets the classifier's verdict."""
    item = DsnRecord.model_validate(record_as_dict(record))
    if classify and record.type in {"rb", "rs"}:
        verdict = classify_bounce(
            record.dsn_status, record.dsn_diag, recipient_domain=record.rcpt.rpartition("@")[2]
        )
        item.category, item.bounce_type, item.rule = verdict.category, str(verdict.type), verdict.rule
    return item


def read_dsn(stream: IO[bytes]) -> ParsedDsn:
    """One record per recipient of a bounce or complaint message (nothing is stored)."""
    return ParsedDsn(records=[dsn_record(record) for record in parse_dsn_stream(stream)])
