"""Login protection settings (``LOGIN_*``); the per-address budget is the core ``RATE_LIMIT_LOGIN``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG

__all__ = ["AuthSettings"]


class AuthSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    backoff_free_attempts: int = Field(
        default=5, ge=1, le=100, validation_alias="LOGIN_BACKOFF_FREE_ATTEMPTS"
    )
    backoff_base_seconds: float = Field(
        default=1.0, gt=0, le=60, validation_alias="LOGIN_BACKOFF_BASE_SECONDS"
    )
    backoff_max_seconds: float = Field(
        default=900.0, gt=0, le=86400, validation_alias="LOGIN_BACKOFF_MAX_SECONDS"
    )
    backoff_window_seconds: float = Field(
        default=3600.0, ge=60, le=86400, validation_alias="LOGIN_BACKOFF_WINDOW_SECONDS"
    )
    account_limit: str = Field(default="500/hour", validation_alias="LOGIN_ACCOUNT_LIMIT")
