"""Outbox settings (environment variables ``OUTBOX_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG

__all__ = ["OutboxSettings"]


class OutboxSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    batch_size: int = Field(default=100, ge=1, le=5000, validation_alias="OUTBOX_BATCH_SIZE")
    max_attempts: int = Field(default=12, ge=1, le=1000, validation_alias="OUTBOX_MAX_ATTEMPTS")
    backoff_base_seconds: float = Field(default=30.0, gt=0, validation_alias="OUTBOX_BACKOFF_BASE_SECONDS")
    backoff_max_seconds: float = Field(default=3600.0, gt=0, validation_alias="OUTBOX_BACKOFF_MAX_SECONDS")
    claim_seconds: int = Field(default=300, ge=5, validation_alias="OUTBOX_CLAIM_SECONDS")
    interval_seconds: int = Field(default=10, ge=1, le=3600, validation_alias="OUTBOX_INTERVAL_SECONDS")
    drain_budget_seconds: float = Field(default=30.0, gt=0, validation_alias="OUTBOX_DRAIN_BUDGET_SECONDS")
    backlog_warn: int = Field(default=1000, ge=1, validation_alias="OUTBOX_BACKLOG_WARN")
    backlog_fail: int = Field(default=20000, ge=1, validation_alias="OUTBOX_BACKLOG_FAIL")
    max_revivals: int = Field(default=5, ge=0, le=1000, validation_alias="OUTBOX_MAX_REVIVALS")
    wake_on_commit: bool = Field(default=True, validation_alias="OUTBOX_WAKE_ON_COMMIT")
    probe_timeout_seconds: float = Field(default=5.0, gt=0, le=60, validation_alias="OUTBOX_PROBE_TIMEOUT")
