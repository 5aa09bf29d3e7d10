"""Where preflight looks for the parts of a deployment the engine does not own."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG


class PreflightSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    prometheus_url: str | None = Field(default=None, validation_alias="PROMETHEUS_URL")
    alertmanager_url: str | None = Field(default=None, validation_alias="ALERTMANAGER_URL")
    public_url: str | None = Field(default=None, validation_alias="PUBLIC_URL")
    ca_bundle: str | None = Field(default=None, validation_alias="PREFLIGHT_CA_BUNDLE")
    logrotate_file: Path = Field(
        default=Path("/etc/logrotate.d/email-engine"), validation_alias="LOGROTATE_FILE"
    )
    backup_root: Path = Field(default=Path("/backups"), validation_alias="BACKUP_ROOT")
    backup_max_age_hours: float = Field(default=26, gt=0, validation_alias="BACKUP_MAX_AGE_HOURS")
    cron_file: Path = Field(default=Path("/etc/cron.d/email-engine"), validation_alias="BACKUP_CRON_FILE")
    timeout: float = Field(default=5.0, gt=0, le=60, validation_alias="PREFLIGHT_TIMEOUT")
