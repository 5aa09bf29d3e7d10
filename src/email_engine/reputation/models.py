"""Reputation tables: DNSBL listing history, the last check per target, operator settings, DNS-auth results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["DnsAuthCheck", "DnsblCheck", "DnsblListing", "ReputationSetting"]


class DnsblListing(Base):
    """One listing episode of a target (IP or domain) on a zone: open while ``delisted_at`` is null.

    A target listed again after a delisting gets a new row, so the history stays visible.
    """

    __tablename__ = "dnsbl_listing"
    __table_args__ = (
        Index("ix_dnsbl_listing_target_zone", "target", "zone"),
        # At most one open listing per (target, zone), even with two writers at once.
        Index(
            "uq_dnsbl_listing_open",
            "target",
            "zone",
            unique=True,
            postgresql_where=text("delisted_at IS NULL"),
            sqlite_where=text("delisted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target: Mapped[str] = mapped_column(String(253))
    zone: Mapped[str] = mapped_column(String(253))
    major: Mapped[bool] = mapped_column(Boolean)
    codes: Mapped[list[str]] = mapped_column(JSON)
    meaning: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class DnsblCheck(Base):
    """The last complete check of a target: every zone's result (listed, clean, error, unknown)."""

    __tablename__ = "dnsbl_check"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target: Mapped[str] = mapped_column(String(253), unique=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    listed: Mapped[bool] = mapped_column(Boolean)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ReputationSetting(Base):
    """Operator choices stored in the database (e.g. the DNSBL zone selection)."""

    __tablename__ = "reputation_setting"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DnsAuthCheck(Base):
    """The last DNS-authentication validation of a sending domain (every check with its sentence)."""

    __tablename__ = "dns_auth_check"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("sending_domain.id", ondelete="CASCADE"), unique=True)
    domain: Mapped[str] = mapped_column(String(253))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    compliance: Mapped[str] = mapped_column(String(32))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
