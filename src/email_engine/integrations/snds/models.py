"""SNDS tables: one row per IP and day of the data feed, and the ranges the status feed says are blocked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["SndsBlock", "SndsIpDay"]


class SndsIpDay(Base):
    """What Outlook.com saw from one IP on one day (activity times as SNDS wrote them)."""

    __tablename__ = "snds_ip_day"
    __table_args__ = (UniqueConstraint("ip", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    activity_start: Mapped[str | None] = mapped_column(String(32), nullable=True)
    activity_end: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rcpt_commands: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data_commands: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message_recipients: Mapped[int | None] = mapped_column(Integer, nullable=True)
    filter_result: Mapped[str | None] = mapped_column(String(8), nullable=True)
    complaint_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    complaint_below: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_text: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trap_message_start: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trap_message_end: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trap_hits: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sample_helo: Mapped[str | None] = mapped_column(String(255), nullable=True)
    jmr_p1_sender: Mapped[str | None] = mapped_column(String(255), nullable=True)
    comments: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SndsBlock(Base):
    """A range of IPs the status feed listed at the last successful fetch (replaced each time)."""

    __tablename__ = "snds_block"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    first_ip: Mapped[str] = mapped_column(String(45))
    last_ip: Mapped[str] = mapped_column(String(45))
    blocked: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
