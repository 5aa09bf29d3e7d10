"""Operator edits of the PowerMTA throttle and backoff tables (one document, replaced whole)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["PmtaThrottleTable"]


class PmtaThrottleTable(Base):
    """The edited throttle document; absent means the shipped defaults apply."""

    __tablename__ = "pmta_throttle_table"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))
