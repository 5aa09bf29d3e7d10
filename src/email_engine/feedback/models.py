"""Feedback tables: stored accounting records, dead letters, suppression list, hourly aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["AccountingRow", "DeadLetterRow", "StatBucket", "Suppression"]

DIAG_MAX = 1000
RAW_MAX = 4000
REASON_MAX = 500


class AccountingRow(Base):
    """One PowerMTA accounting record, stored once (``record_key`` is its content hash)."""

    __tablename__ = "accounting_record"
    __table_args__ = (Index("ix_accounting_record_time_logged", "time_logged"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    record_key: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(4))
    time_logged: Mapped[datetime] = mapped_column(UTCDateTime)
    time_queued: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rcpt: Mapped[str] = mapped_column(String(320))
    rcpt_domain: Mapped[str] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(32))
    sender_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    vmta: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    dsn_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dsn_diag: Mapped[str | None] = mapped_column(String(DIAG_MAX), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bounce_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetterRow(Base):
    """An input line that could not be read as a record, kept with its line number and reason."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Hash of (run, line number, raw): a replayed spool batch does not store a line twice.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
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
