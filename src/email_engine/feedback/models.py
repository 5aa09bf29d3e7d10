"""Feedback tables: stored accounting records, dead letters, suppression list, hourly aggregates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = [
    "AccountingDomain",
    "AccountingOutcome",
    "AccountingRoute",
    "AccountingRow",
    "DeadLetterRow",
    "StatBucket",
    "Suppression",
]

DIAG_MAX = 1000
RAW_MAX = 4000
REASON_MAX = 500


class AccountingRow(Base):
    """One PowerMTA accounting record, stored once, in a compact form (about 100 bytes with its key).

    On PostgreSQL the table is partitioned by day on ``time_logged`` (``feedback.partitions``); the
    primary key (``time_logged``, ``record_key``) includes the partition key, so the idempotency check
    stays inside one day's partition. ``record_key`` is the first 64 bits of the record's content hash
    (``records.key_number``); two different records collide only with the same ``time_logged`` and the
    same 64-bit prefix. What repeats (outcome, route, recipient domain) is stored once in the
    dictionary tables below and referenced. ``rcpt_local`` is the recipient's local part, or its
    pseudonym (``#`` and 32 hex digits, ``feedback.pseudonym``) once pseudonymised or forgotten.
    """

    __tablename__ = "accounting_record"

    time_logged: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    record_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    outcome_id: Mapped[int] = mapped_column(BigInteger)
    route_id: Mapped[int] = mapped_column(Integer)
    domain_id: Mapped[int] = mapped_column(Integer)
    #: Seconds from ``timeQueued`` to ``timeLogged`` (None without a queue time).
    queued_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rcpt_local: Mapped[str] = mapped_column(String(320))


class AccountingOutcome(Base):
    """What happened to records (type, DSN status and diagnostic, classification), stored once.

    ``digest`` is a 16-byte hash of the values (``feedback.dictionary``); ``last_day`` is the latest
    day a record referencing it was stored or logged, so retention can drop unused entries.
    """

    __tablename__ = "accounting_outcome"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    type: Mapped[str] = mapped_column(String(4))
    dsn_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dsn_diag: Mapped[str | None] = mapped_column(String(DIAG_MAX), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bounce_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_day: Mapped[date] = mapped_column(Date)


class AccountingRoute(Base):
    """Where records went out (stored label, VMTA, source IP, sender domain), stored once."""

    __tablename__ = "accounting_route"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    vmta: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    sender_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    last_day: Mapped[date] = mapped_column(Date)


class AccountingDomain(Base):
    """A recipient domain, stored once (the provider is derived from it when read)."""

    __tablename__ = "accounting_domain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    last_day: Mapped[date] = mapped_column(Date)


class DeadLetterRow(Base):
    """An input line that could not be read as a record (or a record refused, such as one older than
    the replay horizon), kept with its line number and reason.

    ``created_at`` is when the input arrived (for the pipe: when its spool segment was started, the
    same on every replay of that segment). On PostgreSQL the table is partitioned by day on it and
    the primary key is (``id``, ``created_at``).
    """

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("dedupe_key", "created_at", name="uq_dead_letter_dedupe_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Hash of (run, line number, raw): a replayed spool batch does not store a line twice.
    dedupe_key: Mapped[str] = mapped_column(String(64))
    line_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    raw: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Suppression(Base):
    """An address (``local@domain``) or a whole domain that must not be mailed."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    value: Mapped[str] = mapped_column(String(320), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StatBucket(Base):
    """Counts for one hour and one key of one dimension (ip, vmta, sender_domain, rcpt_domain…).

    Updated in the same transaction as the records it counts, only for newly stored records.
    """

    __tablename__ = "stat_bucket"
    __table_args__ = (
        UniqueConstraint("hour", "dimension", "key", name="uq_stat_bucket_hour_dimension_key"),
        Index("ix_stat_bucket_dimension_hour", "dimension", "hour"),
        # One key over time (an IP's days for the console's warmup chart): migration console_0001.
        Index("ix_stat_bucket_dimension_key_hour", "dimension", "key", "hour"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    sent: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    bounced: Mapped[int] = mapped_column(Integer, default=0)
    hard: Mapped[int] = mapped_column(Integer, default=0)
    soft: Mapped[int] = mapped_column(Integer, default=0)
    block: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
