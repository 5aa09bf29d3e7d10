"""PowerMTA, DKIM and DNS settings (environment variables; see docs/powermta.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from email_engine.config import SETTINGS_CONFIG

__all__ = ["PowerMtaSettings"]


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class PowerMtaSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    config_dir: str = Field(default="/etc/pmta", validation_alias="PMTA_CONFIG_DIR")
    reload_command: str = Field(default="pmta reload", validation_alias="PMTA_RELOAD_COMMAND")
    reload_timeout: float = Field(default=60.0, gt=0, le=600, validation_alias="PMTA_RELOAD_TIMEOUT")
    postmaster: str | None = Field(default=None, validation_alias="PMTA_POSTMASTER")
    host_name: str | None = Field(default=None, validation_alias="PMTA_HOST_NAME")
    smtp_user: str = Field(default="mailwizz", validation_alias="PMTA_SMTP_USER")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="PMTA_SMTP_PASSWORD")
    listener_address: str = Field(default="0.0.0.0", validation_alias="PMTA_LISTENER_ADDRESS")  # noqa: S104
    listener_port: int = Field(default=2525, ge=1, le=65535, validation_alias="PMTA_LISTENER_PORT")
    http_mgmt_port: int = Field(default=8080, ge=1, le=65535, validation_alias="PMTA_HTTP_MGMT_PORT")
    mailwizz_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="MAILWIZZ_IPS"
    )
    spool_dir: str = Field(default="/var/spool/pmta", validation_alias="PMTA_SPOOL_DIR")
    log_file: str = Field(default="/var/log/pmta/log", validation_alias="PMTA_LOG_FILE")
    bounce_pipe: str = Field(
        default="/opt/email-engine/scripts/bounce-pipe.sh", validation_alias="PMTA_BOUNCE_PIPE"
    )
    delivery_pipe: str = Field(
        default="/opt/email-engine/scripts/delivery-pipe.sh", validation_alias="PMTA_DELIVERY_PIPE"
    )
    inbound_listener: str | None = Field(default=None, validation_alias="PMTA_INBOUND_LISTENER")
    """``ADDRESS:PORT`` (e.g. ``0.0.0.0:25``) where PowerMTA takes asynchronous bounces for the bounce
    domains and feedback-loop reports for PMTA_FBL_ADDRESSES; unset: PowerMTA receives neither and
    no rb/f accounting records are configured."""
    fbl_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="PMTA_FBL_ADDRESSES"
    )
    dkim_key_dir: str = Field(default="/etc/pmta/dkim", validation_alias="DKIM_KEY_DIR")
    backup_keep: int = Field(default=20, ge=1, le=1000, validation_alias="PMTA_BACKUP_KEEP")
    dmarc_rua: str | None = Field(default=None, validation_alias="DMARC_RUA")

    _split_ips = field_validator("mailwizz_ips", "fbl_addresses", mode="before")(_split)
