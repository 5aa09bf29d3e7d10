"""Settings composed once: sections read once per settings object, secrets found by their type."""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from email_engine.config import Settings
from email_engine.dmarc.settings import DmarcSettings
from email_engine.platform.settings import secret_fields, section_classes

# Every setting that holds a secret (the ten and those added since).
SECRETS = {
    "API_KEY",
    "JWT_SECRET_KEY",
    "TELEGRAM_BOT_TOKEN",
    "SCRAPER_PRO_HMAC_SECRET",
    "MAILWIZZ_API_KEY",
    "MAILWIZZ_API_PRIVATE_KEY",
    "MAILWIZZ_DB_PASSWORD",
    "INGEST_HMAC_SECRET",
    "SPAMHAUS_DQS_KEY",
    "PMTA_SMTP_PASSWORD",
    "SNDS_KEY",
    "DMARC_IMAP_PASSWORD",
    "PRIVACY_HASH_KEY",
}


def _secret_aliases() -> dict[str, str]:
    return {
        str(cls.model_fields[name].validation_alias): f"{cls.__name__}.{name}"
        for cls in (Settings, *section_classes())
        for name in secret_fields(cls)
    }


def test_every_secret_setting_is_a_secret_str() -> None:
    assert set(_secret_aliases()) >= SECRETS
    for cls in (Settings, *section_classes()):
        for name, field in cls.model_fields.items():
            if str(field.validation_alias) in SECRETS:
                assert name in secret_fields(cls), f"{cls.__name__}.{name} must be a SecretStr"


def test_every_secret_str_setting_is_in_the_redaction_list() -> None:
    values = {alias: "Secret" + secrets.token_hex(12) for alias in _secret_aliases()}
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    for cls in section_classes():
        settings.install(cls(_env_file=None, **values))  # type: ignore[arg-type]
    assert sorted(settings.secret_values()) == sorted(values.values())


def test_a_section_is_read_once_and_installed_sections_win() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    first = settings.section(DmarcSettings)
    assert settings.section(DmarcSettings) is first
    mine = DmarcSettings(_env_file=None, DMARC_MAX_RATIO=42)  # type: ignore[call-arg]
    settings.install(mine)
    assert settings.section(DmarcSettings) is mine
    copied = settings.model_copy(update={"log_level": "DEBUG"})
    assert copied.section(DmarcSettings) is mine  # a copy keeps the sections


def test_unset_secrets_are_not_listed() -> None:
    settings = Settings(_env_file=None, API_KEY=SecretStr(""))  # type: ignore[call-arg]
    assert "" not in settings.secret_values()
