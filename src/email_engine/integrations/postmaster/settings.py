"""Postmaster Tools settings. The service-account key file is a secret: its path is read from the
settings and neither the path nor the key ever reaches a log line or an error message."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG, CommaList

__all__ = ["PostmasterSettings"]


class PostmasterSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    credentials_file: Path | None = Field(default=None, validation_alias="POSTMASTER_CREDENTIALS_FILE")
    api_url: str = Field(
        default="https://gmailpostmastertools.googleapis.com", validation_alias="POSTMASTER_API_URL"
    )
    # Empty: the token_uri written in the key file (https://oauth2.googleapis.com/token).
    token_url: str | None = Field(default=None, validation_alias="POSTMASTER_TOKEN_URL")
    # Empty: every sending domain of the inventory that is verified in Postmaster Tools.
    domains: CommaList = Field(default_factory=list, validation_alias="POSTMASTER_DOMAINS")
    lookback_days: int = Field(default=7, ge=1, le=120, validation_alias="POSTMASTER_LOOKBACK_DAYS")
    timeout: float = Field(default=30.0, gt=0, le=300, validation_alias="POSTMASTER_TIMEOUT")
    interval: int = Field(default=6 * 3600, ge=600, validation_alias="POSTMASTER_INTERVAL")
    max_feedback_loops: int = Field(
        default=20, ge=0, le=200, validation_alias="POSTMASTER_MAX_FEEDBACK_LOOPS"
    )

    @field_validator("domains", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower().rstrip(".") for part in value.split(",") if part.strip()]
        return value

    @property
    def configured(self) -> bool:
        return self.credentials_file is not None
