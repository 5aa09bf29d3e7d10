"""MailWizz settings, all in one section: its database (``MAILWIZZ_DB_*``, quotas and delivery
servers) and its API (``MAILWIZZ_API_*``, suppressions and campaign pauses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG


class MailwizzSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    db_host: str | None = Field(default=None, validation_alias="MAILWIZZ_DB_HOST")
    db_port: int = Field(default=3306, validation_alias="MAILWIZZ_DB_PORT")
    db_user: str | None = Field(default=None, validation_alias="MAILWIZZ_DB_USER")
    db_password: SecretStr | None = Field(default=None, validation_alias="MAILWIZZ_DB_PASSWORD")
    db_name: str | None = Field(default=None, validation_alias="MAILWIZZ_DB_NAME")
    db_table_prefix: str = Field(default="mw_", validation_alias="MAILWIZZ_DB_TABLE_PREFIX")

    api_url: str | None = Field(default=None, validation_alias="MAILWIZZ_API_URL")
    api_auth: Literal["api-key", "signature"] = Field(default="api-key", validation_alias="MAILWIZZ_API_AUTH")
    """``api-key``: MailWizz 2.x/3.x (``X-Api-Key`` header, MAILWIZZ_API_KEY).
    ``signature``: MailWizz 1.x (``X-MW-PUBLIC-KEY`` + HMAC-SHA1 ``X-MW-SIGNATURE``, public/private key)."""
    api_key: SecretStr | None = Field(default=None, validation_alias="MAILWIZZ_API_KEY")
    api_public_key: str | None = Field(default=None, validation_alias="MAILWIZZ_API_PUBLIC_KEY")
    api_private_key: SecretStr | None = Field(default=None, validation_alias="MAILWIZZ_API_PRIVATE_KEY")
    api_timeout: float = Field(default=10.0, gt=0, le=120, validation_alias="MAILWIZZ_API_TIMEOUT")
    db_connect_timeout: float = Field(
        default=5.0, gt=0, le=60, validation_alias="MAILWIZZ_DB_CONNECT_TIMEOUT"
    )
    take_over_warmup_plans: bool = Field(default=False, validation_alias="MAILWIZZ_TAKE_OVER_WARMUP_PLANS")
    """A delivery server on a MailWizz warmup plan (``warmup_plan_id``): refuse to write its quotas
    (default), or detach the plan and let the engine's warmup drive it (true)."""
    sync_suppressions: bool = Field(default=False, validation_alias="MAILWIZZ_SYNC_SUPPRESSIONS")
    """Push hard bounces and complaints to MailWizz subscribers (off by default)."""
