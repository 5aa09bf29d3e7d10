"""Tables of the job machinery: the leader lease, per-job locks, and the record of every job run.

Technical, not a domain's: the runner and the lease write them; ops and the console read them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from email_engine.db import Base, BigIntPK, UTCDateTime

__all__ = ["JobLock", "JobRun", "JobStatus", "SchedulerLease"]


class JobStatus(StrEnum):
    """How a job run went; ``job_run.status`` holds the value."""

    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"  # another run of the job held its lock
    DUPLICATE = "duplicate"  # a scheduled run another leader already did this period: never recorded


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(
        String(16)
    )  # schedule | manual | as_of (evaluated as of result.as_of)
    status: Mapped[str] = mapped_column(String(16))  # a JobStatus value (never DUPLICATE)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str] = mapped_column(String(128))


class JobLock(Base):
    """At most one run of a job at a time, cluster-wide; renewed while the run lasts."""

    __tablename__ = "job_lock"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SchedulerLease(Base):
    """The leader lease (database backend). The holder renews ``expires_at`` every few seconds."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
