"""Warmup tables: plans, the decision recorded for each day, failover decisions and the holds that
stop traffic while the list or the content is the cause."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["FailoverEvent", "TrafficHold", "WarmupDay", "WarmupPlan"]


class WarmupPlan(Base):
    """One warmup of one IP. The curve and the rules are copied in, so editing a preset never
    changes a plan that is already running."""

    __tablename__ = "warmup_plan"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("sending_ip.id", ondelete="CASCADE"), index=True)
    preset: Mapped[str | None] = mapped_column(String(32), nullable=True)
    schedule: Mapped[list[int]] = mapped_column(JSON)
    gates: Mapped[dict[str, Any]] = mapped_column(JSON)
    provider_shares: Mapped[dict[str, float]] = mapped_column(JSON)
    active_hours: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # a PlanStatus value
    day_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A warm standby taking over opens at the volume it has proven (above the 5,000 a cold warmup
    # may open at); None for every other plan.
    proven_volume: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WarmupDay(Base):
    """The decision for one plan on one day: limits, why, and the results it was based on."""

    __tablename__ = "warmup_day"
    __table_args__ = (UniqueConstraint("plan_id", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("warmup_plan.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    day_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    daily_limit: Mapped[int] = mapped_column(Integer)
    hourly_limit: Mapped[int] = mapped_column(Integer)
    provider_limits: Mapped[dict[str, int]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    gates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # yesterday's counts
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FailoverEvent(Base):
    """One failover decision for a listed or blocked IP (done, refused, or a warmup started)."""

    __tablename__ = "failover_event"
    __table_args__ = (UniqueConstraint("ip_id", "day", "action"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("sending_ip.id", ondelete="CASCADE"), index=True)
    standby_ip_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_ip.id", ondelete="SET NULL"), nullable=True
    )
    day: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TrafficHold(Base):
    """Traffic of one IP stopped because the list or the content is the cause (a listing after too
    many hard bounces or complaints, a listing that followed a hand-over, a provider's content
    blocks). It stays open, whatever later volume or time brings, until an operator resolves it;
    while it is open the IP sends nothing, nothing takes its traffic and nothing re-warms it."""

    __tablename__ = "traffic_hold"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("sending_ip.id", ondelete="CASCADE"), index=True)
    pool_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    cause: Mapped[str] = mapped_column(String(16))  # list | content
    trigger: Mapped[str] = mapped_column(String(16))  # listing | blocks
    reasons: Mapped[list[str]] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
