"""PowerMTA integration tables: operator edits of the throttle and backoff tables (one document,
replaced whole), and which pools send for which sending domain (what goes in the domain's SPF)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["PmtaThrottleTable", "SendingDomainPool"]


class PmtaThrottleTable(Base):
    """The edited throttle document; absent means the shipped defaults apply."""

    __tablename__ = "pmta_throttle_table"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))


class SendingDomainPool(Base):
    """Pool ``pool_id`` sends mail for sending domain ``domain_id``: its IPs belong in the domain's SPF."""

    __tablename__ = "sending_domain_pool"
    __table_args__ = (UniqueConstraint("domain_id", "pool_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("sending_domain.id", ondelete="CASCADE"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("ip_pool.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
