"""Alert settings. Telegram's token, chat and API URL are core settings (``TELEGRAM_*``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from email_engine.config import SETTINGS_CONFIG

__all__ = ["AlertSettings"]


class AlertSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    remind_critical_minutes: int = Field(default=60, ge=1, validation_alias="ALERT_REMIND_CRITICAL_MINUTES")
    remind_warning_minutes: int = Field(default=240, ge=1, validation_alias="ALERT_REMIND_WARNING_MINUTES")
    remind_info_minutes: int = Field(default=1440, ge=1, validation_alias="ALERT_REMIND_INFO_MINUTES")
    apprise_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="ALERT_APPRISE_URLS"
    )
    send_timeout_seconds: float = Field(default=10.0, gt=0, le=120, validation_alias="ALERT_SEND_TIMEOUT")
    instance_name: str = Field(default="email-engine", max_length=64, validation_alias="ALERT_INSTANCE_NAME")

    @field_validator("apprise_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # Same separators as Apprise itself: commas, semicolons or whitespace.
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,;]+", value) if part]
        return value

    def remind_intervals(self) -> dict[str, timedelta]:
        return {
            "critical": timedelta(minutes=self.remind_critical_minutes),
            "warning": timedelta(minutes=self.remind_warning_minutes),
            "info": timedelta(minutes=self.remind_info_minutes),
        }
