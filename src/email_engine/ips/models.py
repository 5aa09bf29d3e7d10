"""Inventory tables: sending IPs, sending domains, pools, the lifecycle history and actuations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["Actuation", "IpTransition", "Pool", "SendingDomain", "SendingIp"]


class Pool(Base):
    """A named group of IPs (a PowerMTA virtual-MTA pool)."""

    __tablename__ = "ip_pool"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SendingIp(Base):
    """One sending IP, its PowerMTA virtual MTA and (optionally) its MailWizz delivery server."""

    __tablename__ = "sending_ip"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    address: Mapped[str] = mapped_column(String(45), unique=True)
    hostname: Mapped[str] = mapped_column(String(253))
    purpose: Mapped[str] = mapped_column(String(16), index=True)
    pool_id: Mapped[int | None] = mapped_column(
        ForeignKey("ip_pool.id", ondelete="SET NULL"), nullable=True, index=True
    )
    vmta_name: Mapped[str] = mapped_column(String(64), unique=True)
    mailwizz_server_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SendingDomain(Base):
    """A domain mail is sent from, with its DKIM selector, bounce and tracking domains."""

    __tablename__ = "sending_domain"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)
    dkim_selector: Mapped[str | None] = mapped_column(String(63), nullable=True)
    bounce_domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    tracking_domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IpTransition(Base):
    """One lifecycle move of an IP: who, why, whether forced. Never updated, never deleted."""

    __tablename__ = "ip_transition"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("sending_ip.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Actuation(Base):
    """A push of limits/status to a sending system, kept visible until applied (and after).

    ``status``: ``pending`` (not tried yet), ``applied`` (the target holds ``desired``), ``failed``
    (``last_error`` says why; the next run retries the same row).
    """

    __tablename__ = "actuation"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("sending_ip.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(16))
    desired: Mapped[dict[str, Any]] = mapped_column(JSON)
    applied: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
