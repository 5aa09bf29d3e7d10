"""Validation settings (``VALIDATION_*`` environment variables), read the same way as the core ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from email_engine.config import SETTINGS_CONFIG

__all__ = [
    "DEFAULT_BLOCKED_PREFIXES",
    "DEFAULT_ROLE_PREFIXES",
    "ValidationSettings",
]

CommaList = Annotated[list[str], NoDecode]

# Mailboxes that never read list mail: sending to them hurts (spam traps, automated refusals).
DEFAULT_BLOCKED_PREFIXES = [
    "noreply",
    "no-reply",
    "no_reply",
    "no.reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "mailer-daemon",
    "mailerdaemon",
    "postmaster",
    "abuse",
    "bounce",
    "bounces",
    "hostmaster",
    "spam",
    "nobody",
    "devnull",
    "null",
]
# Shared mailboxes: often deliverable, but complaints and low engagement are likely.
DEFAULT_ROLE_PREFIXES = [
    "info",
    "contact",
    "sales",
    "support",
    "admin",
    "administrator",
    "office",
    "hello",
    "team",
    "marketing",
    "billing",
    "help",
    "helpdesk",
    "hr",
    "jobs",
    "careers",
    "webmaster",
    "enquiries",
    "enquiry",
    "inquiries",
    "press",
    "media",
    "newsletter",
    "accounts",
    "accounting",
    "finance",
    "legal",
    "privacy",
    "security",
    "service",
    "customerservice",
    "feedback",
    "mail",
    "all",
    "staff",
    "reception",
    "orders",
    "booking",
    "bookings",
    "invoice",
    "invoices",
    "root",
]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().lower() for part in value.split(",") if part.strip()]
    return value


class ValidationSettings(BaseSettings):
    """Knobs of the list validator; every one has a safe default."""

    model_config = SETTINGS_CONFIG

    role_prefixes: CommaList = Field(
        default_factory=lambda: list(DEFAULT_ROLE_PREFIXES), validation_alias="VALIDATION_ROLE_PREFIXES"
    )
    blocked_prefixes: CommaList = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED_PREFIXES), validation_alias="VALIDATION_BLOCKED_PREFIXES"
    )
    disposable_allowlist: CommaList = Field(
        default_factory=list, validation_alias="VALIDATION_DISPOSABLE_ALLOWLIST"
    )
    disposable_blocklist: CommaList = Field(
        default_factory=list, validation_alias="VALIDATION_DISPOSABLE_BLOCKLIST"
    )
    allow_quoted_local: bool = Field(default=False, validation_alias="VALIDATION_ALLOW_QUOTED_LOCAL")
    allow_test_domains: bool = Field(default=False, validation_alias="VALIDATION_ALLOW_TEST_DOMAINS")

    dns_timeout: float | None = Field(default=None, gt=0, le=30, validation_alias="VALIDATION_DNS_TIMEOUT")
    dns_deadline: float = Field(default=10.0, gt=0, le=300, validation_alias="VALIDATION_DNS_DEADLINE")
    dns_concurrency: int = Field(default=200, ge=1, le=2000, validation_alias="VALIDATION_DNS_CONCURRENCY")
    cache_max_ttl: int = Field(default=86_400, ge=1, validation_alias="VALIDATION_CACHE_MAX_TTL")
    cache_max_entries: int = Field(default=200_000, ge=100, validation_alias="VALIDATION_CACHE_MAX_ENTRIES")

    jobs_dir: Path = Field(default=Path("./data/validation-jobs"), validation_alias="VALIDATION_JOBS_DIR")
    jobs_retention_days: int = Field(
        default=7, ge=1, le=3650, validation_alias="VALIDATION_JOBS_RETENTION_DAYS"
    )
    jobs_autostart: bool = Field(default=True, validation_alias="VALIDATION_JOBS_AUTOSTART")
    job_chunk_rows: int = Field(
        default=10_000, ge=10, le=100_000, validation_alias="VALIDATION_JOB_CHUNK_ROWS"
    )

    _split = field_validator(
        "role_prefixes", "blocked_prefixes", "disposable_allowlist", "disposable_blocklist", mode="before"
    )(_split_commas)
