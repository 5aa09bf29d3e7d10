"""The ``outbox_event`` table: one row per message to deliver to a peer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["DeadCause", "OutboxEvent", "OutboxStatus"]


class OutboxStatus:
    """Named states. ``sending`` is only committed on SQLite, where a claim is a column update."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    ALL = ("pending", "sending", "sent", "dead")


class DeadCause:
    """Why an event is dead. Only ``exhausted`` events are revived automatically when the peer answers;
    a ``refused`` one (the peer rejected it for good) waits for an operator's retry."""

    EXHAUSTED = "exhausted"
    REFUSED = "refused"


class OutboxEvent(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    dead_cause: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: Automatic revivals so far (capped by OUTBOX_MAX_REVIVALS so a peer that answers probes but keeps
    #: failing one event cannot loop it forever).
    revivals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
