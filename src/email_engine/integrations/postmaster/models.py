"""Postmaster Tools tables: Gmail's daily statistics per domain and the latest compliance status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["PostmasterCompliance", "PostmasterDomainDay"]


class PostmasterDomainDay(Base):
    """One domain, one day, as Gmail reports it. Rates are fractions; null where Gmail gave none."""

    __tablename__ = "postmaster_domain_day"
    __table_args__ = (UniqueConstraint("domain", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    spam_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    dkim_success_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    spf_success_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    dmarc_success_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    tls_inbound_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivery_error_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivery_reject_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivery_temp_fail_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    fbl_spam_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)  # feedback-loop ids and their spam rates
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostmasterCompliance(Base):
    """The compliance table of a domain at the last fetch (Gmail gives no history of it)."""

    __tablename__ = "postmaster_compliance"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    requirements: Mapped[dict[str, Any]] = mapped_column(JSON)
    one_click_unsubscribe: Mapped[str | None] = mapped_column(String(32), nullable=True)
    honor_unsubscribe: Mapped[str | None] = mapped_column(String(32), nullable=True)
    compliant: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
