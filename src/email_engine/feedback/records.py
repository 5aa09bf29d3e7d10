"""The unit the ingestion service stores: one accounting record or one dead letter, JSON-ready.

:class:`IngestRecord` is built from the parser's ``AccountingRecord`` (pipe, batch endpoint) and
survives a trip through the pipe's spool unchanged, so replaying a spooled batch gives the same
idempotency keys as the first attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from email_engine.feedback.accounting import AccountingRecord, DeadLetter, parse_accounting, record_key

__all__ = [
    "DeadLetterItem",
    "IngestRecord",
    "dead_letter_item",
    "ingest_items",
    "ingest_record",
    "key_number",
    "split_address",
]


class IngestRecord(NamedTuple):
    """A tuple rather than a frozen dataclass: the pipe builds one per record, and this is 3× faster."""

    key: str
    type: str
    time_logged: datetime
    rcpt: str
    time_queued: datetime | None = None
    orig: str | None = None
    vmta: str | None = None
    source_ip: str | None = None
    dsn_status: str | None = None
    dsn_diag: str | None = None
    bounce_cat: str | None = None

    def to_json(self) -> list[Any]:
        """A compact JSON array (field order above; times as ISO 8601)."""
        return [
            self.key,
            self.type,
            self.time_logged.isoformat(),
            self.rcpt,
            self.time_queued.isoformat() if self.time_queued else None,
            self.orig,
            self.vmta,
            self.source_ip,
            self.dsn_status,
            self.dsn_diag,
            self.bounce_cat,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> IngestRecord:
        if not isinstance(data, list) or len(data) != 11:
            raise ValueError("a spooled record must be an array of 11 values")
        key, kind, logged, rcpt, queued, orig, vmta, ip, status, diag, bounce_cat = data
        return cls(
            key,
            kind,
            datetime.fromisoformat(logged),
            rcpt,
            datetime.fromisoformat(queued) if queued else None,
            orig,
            vmta,
            ip,
            status,
            diag,
            bounce_cat,
        )


@dataclass(frozen=True, slots=True)
class DeadLetterItem:
    dedupe_key: str
    line_number: int
    reason: str
    raw: str

    def to_json(self) -> dict[str, Any]:
        return {"dk": self.dedupe_key, "n": self.line_number, "why": self.reason, "raw": self.raw}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadLetterItem:
        return cls(dedupe_key=data["dk"], line_number=data["n"], reason=data["why"], raw=data["raw"])


def key_number(key: str) -> int:
    """The stored form of an idempotency key: its first 64 bits as a signed integer (a BIGINT).

    Stored with the record's ``time_logged`` (the primary key is both), so two different records
    would have to share the second and the 64-bit prefix to be taken for one another. A key that is
    not ``record_key``'s 32 hex digits (hand-made in tests) is hashed first.
    """
    if len(key) < _KEY_HEX_DIGITS or key.strip(_HEX):
        key = hashlib.sha256(key.encode()).hexdigest()
    number = int(key[:16], 16)
    return number - (1 << 64) if number >= 1 << 63 else number


_KEY_HEX_DIGITS = 16
_HEX = "0123456789abcdef"


def split_address(address: str | None) -> tuple[str, str]:
    """(local part, lower-cased domain); the domain is empty when there is no ``@``."""
    if not address or "@" not in address:
        return (address or "").strip(), ""
    local, _, domain = address.strip().rpartition("@")
    return local, domain.strip().lower().rstrip(".")


NO_TIME_REASON = (
    "The record has no timeLogged (or timeQueued), so it cannot be counted in time; "
    "keep timeLogged in PowerMTA's record-fields."
)


def ingest_record(record: AccountingRecord) -> IngestRecord | None:
    """The storable form of a parsed record; None when it carries no time at all."""
    logged = record.time_logged or record.time_queued
    if logged is None:
        return None
    return IngestRecord(
        record_key(record),
        record.type,
        logged,
        record.rcpt,
        record.time_queued,
        record.orig or None,
        record.vmta or None,
        record.dlv_source_ip or None,
        record.dsn_status or None,
        record.dsn_diag or None,
        record.bounce_cat or None,
    )


def dead_letter_item(letter: DeadLetter, *, stream: str) -> DeadLetterItem:
    """The dedupe key covers the stream label, line number and text: feeding the same file twice
    (or replaying a spooled batch) stores each garbage line once."""
    digest = hashlib.sha256(f"{stream}\n{letter.line_number}\n{letter.raw}".encode()).hexdigest()
    return DeadLetterItem(
        dedupe_key=digest, line_number=letter.line_number, reason=letter.reason, raw=letter.raw
    )


def ingest_items(
    lines: Iterable[str],
    *,
    stream: str,
    header: Sequence[str] | None = None,
    first_line_number: int = 1,
) -> Iterator[IngestRecord | DeadLetterItem]:
    """Parse accounting CSV lines into ingestible items, in input order.

    ``header`` and ``first_line_number`` are as for :func:`parse_accounting` (a chunk cut from a longer stream).
    """
    for item in parse_accounting(lines, header=header, first_line_number=first_line_number):
        if isinstance(item, DeadLetter):
            yield dead_letter_item(item, stream=stream)
            continue
        converted = ingest_record(item)
        if converted is None:
            letter = DeadLetter(item.line_number, NO_TIME_REASON, "")
            yield dead_letter_item(letter, stream=stream)
        else:
            yield converted
