"""Reputation settings: DNSBL zones, timeouts, the Spamhaus DQS key and job intervals."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG, CommaList

__all__ = ["ReputationSettings"]


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ReputationSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    # Empty means the whole built-in catalogue (reputation/zones.yaml). A selection stored through
    # PUT /api/v1/blacklists/zones takes precedence over this variable.
    dnsbl_zones: CommaList = Field(default_factory=list, validation_alias="DNSBL_ZONES")
    dnsbl_timeout: float = Field(default=2.0, gt=0, le=30, validation_alias="DNSBL_TIMEOUT")
    dnsbl_deadline: float = Field(default=20.0, gt=0, le=600, validation_alias="DNSBL_DEADLINE")
    dnsbl_concurrency: int = Field(default=50, ge=1, le=500, validation_alias="DNSBL_CONCURRENCY")
    dnsbl_interval: int = Field(default=4 * 3600, ge=300, validation_alias="DNSBL_INTERVAL")
    dns_auth_interval: int = Field(default=24 * 3600, ge=3600, validation_alias="DNS_AUTH_INTERVAL")
    spamhaus_dqs_key: SecretStr | None = Field(default=None, validation_alias="SPAMHAUS_DQS_KEY")

    _split_zones = field_validator("dnsbl_zones", mode="before")(_split)

    @field_validator("dnsbl_zones")
    @classmethod
    def _check_zones(cls, value: list[str]) -> list[str]:
        if value:
            from email_engine.errors import InvalidInput
            from email_engine.reputation.dnsbl import resolve_zone_names

            try:
                resolve_zone_names(value)
            except InvalidInput as exc:
                raise ValueError(f"DNSBL_ZONES: {exc.detail}") from exc
        return value

    @field_validator("spamhaus_dqs_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        text = value.get_secret_value().strip()
        if not text.isalnum() or len(text) > 63:
            raise ValueError(
                "SPAMHAUS_DQS_KEY must be the letters and digits of your DQS key (one DNS label)."
            )
        return SecretStr(text)

    @property
    def dqs_key(self) -> str | None:
        return self.spamhaus_dqs_key.get_secret_value() if self.spamhaus_dqs_key else None
