"""Feedback settings: webhook HMAC, the pipe's spool and batches, domain auto-suppression, and the
key of recipient pseudonyms."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG

__all__ = ["FeedbackSettings", "PrivacyKeySettings", "default_spool_dir"]


def default_spool_dir() -> Path:
    """Beside the user's other state files; production sets PIPE_SPOOL_DIR (see docs/feedback.md)."""
    return Path.home() / ".local" / "state" / "email-engine" / "pipe-spool"


class FeedbackSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    ingest_hmac_secret: SecretStr | None = Field(default=None, validation_alias="INGEST_HMAC_SECRET")
    ingest_hmac_tolerance_seconds: int = Field(
        default=300, ge=5, le=3600, validation_alias="INGEST_HMAC_TOLERANCE_SECONDS"
    )

    pipe_spool_dir: Path = Field(default_factory=default_spool_dir, validation_alias="PIPE_SPOOL_DIR")
    pipe_batch_size: int = Field(default=5000, ge=1, le=100_000, validation_alias="PIPE_BATCH_SIZE")
    pipe_flush_seconds: float = Field(default=2.0, gt=0, le=300, validation_alias="PIPE_FLUSH_SECONDS")
    pipe_retry_max_seconds: float = Field(
        default=30.0, gt=0, le=3600, validation_alias="PIPE_RETRY_MAX_SECONDS"
    )
    pipe_connect_timeout: int = Field(default=5, ge=1, le=120, validation_alias="PIPE_CONNECT_TIMEOUT")
    pipe_source: str = Field(default="pipe", max_length=64, validation_alias="PIPE_SOURCE")

    domain_suppress_hard_rate: float = Field(
        default=0.10, gt=0, le=1, validation_alias="DOMAIN_SUPPRESS_HARD_BOUNCE_RATE"
    )
    domain_suppress_min_volume: int = Field(default=50, ge=1, validation_alias="DOMAIN_SUPPRESS_MIN_VOLUME")
    domain_suppress_interval_seconds: int = Field(
        default=3600, ge=60, validation_alias="DOMAIN_SUPPRESS_INTERVAL_SECONDS"
    )

    scraper_pro_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, validation_alias="SCRAPER_PRO_TIMEOUT"
    )
    diag_max_chars: int = Field(default=500, ge=32, le=4000, validation_alias="FEEDBACK_DIAG_MAX_CHARS")

    replay_horizon_days: int = Field(
        default=14, ge=1, le=36500, validation_alias="ACCOUNTING_REPLAY_HORIZON_DAYS"
    )
    accounting_retention_days: int = Field(
        default=90, ge=2, le=36500, validation_alias="ACCOUNTING_RETENTION_DAYS"
    )
    stats_retention_days: int = Field(default=730, ge=2, le=36500, validation_alias="STATS_RETENTION_DAYS")
    dead_letter_retention_days: int = Field(
        default=30, ge=1, le=36500, validation_alias="DEAD_LETTER_RETENTION_DAYS"
    )
    pseudonymise_after_days: int | None = Field(
        default=None, ge=1, le=36500, validation_alias="ACCOUNTING_PSEUDONYMISE_AFTER_DAYS"
    )
    partitions_ahead_days: int = Field(default=7, ge=1, le=90, validation_alias="PARTITIONS_AHEAD_DAYS")

    @model_validator(mode="after")
    def _horizon_inside_retention(self) -> FeedbackSettings:
        if self.replay_horizon_days >= self.accounting_retention_days:
            raise ValueError(
                "ACCOUNTING_REPLAY_HORIZON_DAYS must be shorter than ACCOUNTING_RETENTION_DAYS: a replay "
                "is recognised only while the records it repeats are kept."
            )
        return self


class PrivacyKeySettings(BaseSettings):
    """``PRIVACY_HASH_KEY`` (``feedback.pseudonym``): read by feedback and privacy alike."""

    model_config = SETTINGS_CONFIG

    privacy_hash_key: SecretStr | None = Field(
        default=None, min_length=16, validation_alias="PRIVACY_HASH_KEY"
    )

    @field_validator("privacy_hash_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
