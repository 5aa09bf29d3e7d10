"""Settings from the environment and an optional ``.env`` file.

Core settings live here; a domain with settings of its own defines a ``BaseSettings`` section in its
package (``<domain>/settings.py``) built on :data:`SETTINGS_CONFIG`, so every part reads the same
sources the same way, and reads it through the core settings (``ctx.settings.section(Cls)``, see
``email_engine.platform.settings``). Secrets have no built-in default, and with ``ENVIRONMENT=production``
the settings refuse to build without strong ones (a ``weak_secret`` validation error naming the setting and
the fix); elsewhere :func:`check_secrets` warns.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode, SettingsConfigDict

from email_engine.errors import ConfigurationError
from email_engine.platform.settings import ComposedSettings

__all__ = [
    "SECRET_FIX",
    "SETTINGS_CONFIG",
    "WEAK_SECRET",
    "Settings",
    "as_production",
    "check_secrets",
    "generate_secret",
    "get_settings",
    "parse_nameservers",
]

# A malformed value is never echoed in the error: it may be a secret.
SETTINGS_CONFIG = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
)

MIN_SECRET_LENGTH = 32
_PLACEHOLDER_MARKERS = ("change", "secret", "your", "example", "placeholder", "xxx", "password", "todo")
#: The validation error type of a secret production refuses; its ``ctx`` has setting, problem and fix.
WEAK_SECRET = "weak_secret"  # noqa: S105 - an error type, not a secret
SECRET_FIX = "Run `email-engine secrets rotate` and put the values in .env."  # noqa: S105 - advice

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def generate_secret(length: int = 64) -> str:
    """A fresh random secret of ``length`` (at least 32) URL-safe characters (6 random bits each).

    64 for ``API_KEY``; the deployment guide asks 128 for ``JWT_SECRET_KEY``. A draw that happens to
    look like a placeholder (``xxx`` in it) is drawn again, so production never refuses one.
    """
    while True:
        value = secrets.token_urlsafe(length * 3 // 4 + 1)[:length]
        if _secret_problem("secret", SecretStr(value)) is None:
            return value


def parse_nameservers(entries: list[str]) -> list[tuple[str, int]]:
    """Turn ``host[:port]`` entries (IPv6 as ``[addr]:port``) into (address, port) pairs."""
    servers: list[tuple[str, int]] = []
    for entry in entries:
        host, port = entry, 53
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif entry.count(":") == 1:
            host, port_text = entry.split(":")
            port = int(port_text)
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise ConfigurationError(
                f"DNS_NAMESERVERS entry {entry!r} is not an IP address with an optional port "
                "(examples: 127.0.0.1, 127.0.0.1:5353, [::1]:53)."
            ) from exc
        if not 0 < port < 65536:
            raise ConfigurationError(f"DNS_NAMESERVERS entry {entry!r} has a port outside 1-65535.")
        servers.append((host, port))
    return servers


class Settings(ComposedSettings):
    """Core settings and the domains' sections. Environment variable names match the deployment guide."""

    model_config = SETTINGS_CONFIG

    environment: Literal["development", "production", "test"] = Field(
        default="development", validation_alias="ENVIRONMENT"
    )
    # Checked even when unset: production refuses a missing one.
    api_key: SecretStr | None = Field(default=None, validate_default=True, validation_alias="API_KEY")
    jwt_secret_key: SecretStr | None = Field(
        default=None, validate_default=True, validation_alias="JWT_SECRET_KEY"
    )
    jwt_access_ttl_minutes: int = Field(default=15, ge=1, le=1440, validation_alias="JWT_ACCESS_TTL_MINUTES")
    jwt_refresh_ttl_days: int = Field(default=7, ge=1, le=90, validation_alias="JWT_REFRESH_TTL_DAYS")

    database_url: str = Field(default="sqlite:///./email-engine.db", validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    redis_key_prefix: str = Field(default="email-engine:", validation_alias="REDIS_KEY_PREFIX")

    dns_nameservers: CommaList = Field(default_factory=list, validation_alias="DNS_NAMESERVERS")
    dns_timeout: float = Field(default=2.0, gt=0, le=30, validation_alias="DNS_TIMEOUT")

    trusted_proxies: CommaList = Field(
        default_factory=lambda: ["127.0.0.1", "::1"], validation_alias="TRUSTED_PROXIES"
    )
    rate_limit_default: str = Field(default="60/minute", validation_alias="RATE_LIMIT_DEFAULT")
    rate_limit_webhook: str = Field(default="200/minute", validation_alias="RATE_LIMIT_WEBHOOK")
    rate_limit_validation: str = Field(default="10/minute", validation_alias="RATE_LIMIT_VALIDATION")
    rate_limit_login: str = Field(default="10/minute", validation_alias="RATE_LIMIT_LOGIN")
    rate_limit_enabled: bool = Field(default=True, validation_alias="RATE_LIMIT_ENABLED")
    max_request_bytes: int = Field(default=1_048_576, ge=1024, validation_alias="MAX_REQUEST_BYTES")

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_chat_id: str | None = Field(default=None, validation_alias="TELEGRAM_CHAT_ID")
    telegram_api_url: str = Field(default="https://api.telegram.org", validation_alias="TELEGRAM_API_URL")

    scraper_pro_bounce_url: str | None = Field(default=None, validation_alias="SCRAPER_PRO_BOUNCE_URL")
    scraper_pro_delivery_url: str | None = Field(default=None, validation_alias="SCRAPER_PRO_DELIVERY_URL")
    scraper_pro_hmac_secret: SecretStr | None = Field(
        default=None, validation_alias="SCRAPER_PRO_HMAC_SECRET"
    )

    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(default="console", validation_alias="LOG_FORMAT")

    _split = field_validator("dns_nameservers", "trusted_proxies", mode="before")(_split_commas)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Operators write postgresql://; SQLAlchemy needs the driver named.
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("api_key", "jwt_secret_key")
    @classmethod
    def _strong_in_production(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("environment") != "production" or info.field_name is None:
            return value
        setting = str(cls.model_fields[info.field_name].validation_alias)
        problem = _secret_problem(setting, value)
        if problem is not None:
            raise PydanticCustomError(
                WEAK_SECRET, "{problem}. {fix}", {"setting": setting, "problem": problem, "fix": SECRET_FIX}
            )
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _check_nameservers(cls, value: list[str]) -> list[str]:
        parse_nameservers(value)
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return parse_nameservers(self.dns_nameservers)

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies]


def _secret_problem(name: str, value: SecretStr | None) -> str | None:
    if value is None or not value.get_secret_value():
        return f"{name} is not set"
    text = value.get_secret_value()
    if len(text) < MIN_SECRET_LENGTH:
        return f"{name} is shorter than {MIN_SECRET_LENGTH} characters"
    lowered = text.lower()
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS) or len(set(text)) < 10:
        return f"{name} looks like a placeholder, not a random secret"
    return None


def check_secrets(settings: Settings) -> list[str]:
    """Weak secrets, as warnings (production settings with any do not build).

    ``JWT_SECRET_KEY`` is required in every mode because tokens signed with a made-up key would
    stop working on restart or differ between workers.
    """
    if settings.jwt_secret_key is None or not settings.jwt_secret_key.get_secret_value():
        raise ConfigurationError(f"JWT_SECRET_KEY is not set. {SECRET_FIX}")
    problems = (
        _secret_problem("API_KEY", settings.api_key),
        _secret_problem("JWT_SECRET_KEY", settings.jwt_secret_key),
    )
    return [problem for problem in problems if problem]


def as_production(settings: Settings) -> Settings:
    """These settings validated again with ``ENVIRONMENT=production``: raises the ``ValidationError``
    production would (preflight reads its ``weak_secret`` errors)."""
    values = {
        str(field.validation_alias): getattr(settings, name) for name, field in Settings.model_fields.items()
    }
    return Settings.model_validate({**values, "ENVIRONMENT": "production"})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
