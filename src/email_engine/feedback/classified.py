"""What ingestion derives from an accounting record before storing it (pure): the bounce
classification, the recipient's provider, the address parts, and whether the address is suppressed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.providers import provider_for_domain
from email_engine.feedback.records import IngestRecord, key_number, split_address

__all__ = ["CLASSIFIED_TYPES", "ClassifiedRecord", "classify_record", "suppression_reason"]

CLASSIFIED_TYPES = frozenset({"b", "rb", "t", "tq"})


@dataclass(frozen=True, slots=True)
class ClassifiedRecord:
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


def classify_record(record: IngestRecord) -> ClassifiedRecord:
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
    return ClassifiedRecord(
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


def suppression_reason(row: ClassifiedRecord) -> str | None:
    if row.record.type == "f":
        return "complaint"
    if row.record.type in ("b", "rb") and row.bounce_type == "hard":
        return "hard_bounce"
    return None
