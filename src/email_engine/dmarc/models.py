"""DMARC tables: each report once, its rows per source IP and day, refused inputs, source lookups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["DmarcDeadLetter", "DmarcRecord", "DmarcReport", "DmarcSource"]


class DmarcReport(Base):
    """One aggregate report, stored once: ``report_key`` hashes reporter, report id, domain and range."""

    __tablename__ = "dmarc_report"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    report_key: Mapped[str] = mapped_column(String(64), unique=True)
    reporter: Mapped[str] = mapped_column(String(255), index=True)
    reporter_email: Mapped[str] = mapped_column(String(320))
    external_id: Mapped[str] = mapped_column(String(255))
    policy_domain: Mapped[str] = mapped_column(String(253), index=True)
    policy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    begin_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date, index=True)
    records: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DmarcRecord(Base):
    """Messages of one report from one source IP as one header-from domain, with one result."""

    __tablename__ = "dmarc_record"
    __table_args__ = (
        Index("ix_dmarc_record_day_source_ip", "day", "source_ip"),
        Index("ix_dmarc_record_day_header_from", "day", "header_from"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("dmarc_report.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reporter: Mapped[str] = mapped_column(String(255))
    source_ip: Mapped[str] = mapped_column(String(45))
    header_from: Mapped[str] = mapped_column(String(253))
    disposition: Mapped[str] = mapped_column(String(16))
    dkim_aligned: Mapped[bool] = mapped_column(Boolean)
    spf_aligned: Mapped[bool] = mapped_column(Boolean)
    dkim_result: Mapped[str] = mapped_column(String(16))
    spf_result: Mapped[str] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)


class DmarcDeadLetter(Base):
    """An input that could not be imported, with the reason; the same input is kept once."""

    __tablename__ = "dmarc_dead_letter"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    # The input as received when small enough to keep (for a retry after a fix), else null.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DmarcSource(Base):
    """What the reverse DNS of a source IP says about it (forward-confirmed or not)."""

    __tablename__ = "dmarc_source"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    address: Mapped[str] = mapped_column(String(45), unique=True)
    ptr: Mapped[str | None] = mapped_column(String(253), nullable=True)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    classification: Mapped[str] = mapped_column(String(16))
    matched: Mapped[str | None] = mapped_column(String(253), nullable=True)
    answered: Mapped[bool] = mapped_column(Boolean)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
