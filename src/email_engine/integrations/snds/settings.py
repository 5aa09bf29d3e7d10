"""SNDS settings: the automated-access key (a secret: it is in every URL) and where to fetch."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG

__all__ = ["SndsSettings"]


class SndsSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    key: SecretStr | None = Field(default=None, validation_alias="SNDS_KEY")
    base_url: str = Field(
        default="https://sendersupport.olc.protection.outlook.com/snds", validation_alias="SNDS_BASE_URL"
    )
    timeout: float = Field(default=30.0, gt=0, le=300, validation_alias="SNDS_TIMEOUT")
    # SNDS publishes a day during the next day; the job asks again for the last few days by date.
    backfill_days: int = Field(default=3, ge=0, le=90, validation_alias="SNDS_BACKFILL_DAYS")
    interval: int = Field(default=6 * 3600, ge=600, validation_alias="SNDS_INTERVAL")

    @property
    def configured(self) -> bool:
        return self.key is not None and bool(self.key.get_secret_value().strip())
