"""The unit the ingestion service stores: one accounting record or one dead letter, JSON-ready.

:class:`IngestRecord` is built from the parser's ``AccountingRecord`` (pipe, batch endpoint) and
survives a trip through the pipe's spool unchanged, so replaying a spooled batch gives the same
idempotency keys as the first attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_engine.feedback.accounting import AccountingRecord, DeadLetter, parse_accounting, record_key

__all__ = [
    "DeadLetterItem",
    "IngestRecord",
    "dead_letter_item",
    "ingest_items",
    "ingest_record",
    "split_address",
]


@dataclass(frozen=True, slots=True)
class IngestRecord:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.key,
            "t": self.type,
            "tl": self.time_logged.isoformat(),
            "r": self.rcpt,
            "tq": self.time_queued.isoformat() if self.time_queued else None,
            "o": self.orig,
            "v": self.vmta,
            "ip": self.source_ip,
            "s": self.dsn_status,
            "d": self.dsn_diag,
            "bc": self.bounce_cat,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestRecord:
        return cls(
            key=data["k"],
            type=data["t"],
            time_logged=datetime.fromisoformat(data["tl"]),
            rcpt=data["r"],
            time_queued=datetime.fromisoformat(data["tq"]) if data.get("tq") else None,
            orig=data.get("o"),
            vmta=data.get("v"),
            source_ip=data.get("ip"),
            dsn_status=data.get("s"),
            dsn_diag=data.get("d"),
            bounce_cat=data.get("bc"),
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
        key=record_key(record),
        type=record.type,
        time_logged=logged,
        rcpt=record.rcpt,
        time_queued=record.time_queued,
        orig=record.orig or None,
        vmta=record.vmta or None,
        source_ip=record.dlv_source_ip or None,
        dsn_status=record.dsn_status or None,
        dsn_diag=record.dsn_diag or None,
        bounce_cat=record.bounce_cat or None,
    )


def dead_letter_item(letter: DeadLetter, *, stream: str) -> DeadLetterItem:
    """The dedupe key covers the stream label, line number and text: feeding the same file twice
    (or replaying a spooled batch) stores each garbage line once."""
    digest = hashlib.sha256(f"{stream}\n{letter.line_number}\n{letter.raw}".encode()).hexdigest()
    return DeadLetterItem(
        dedupe_key=digest, line_number=letter.line_number, reason=letter.reason, raw=letter.raw
    )


def ingest_items(lines: Iterable[str], *, stream: str) -> Iterator[IngestRecord | DeadLetterItem]:
    """Parse accounting CSV lines (header first) into ingestible items, in input order."""
    for item in parse_accounting(lines):
        if isinstance(item, DeadLetter):
            yield dead_letter_item(item, stream=stream)
            continue
        converted = ingest_record(item)
        if converted is None:
            letter = DeadLetter(item.line_number, NO_TIME_REASON, "")
            yield dead_letter_item(letter, stream=stream)
        else:
            yield converted
