"""Validation tests run against a real DNS server on loopback (tests/support/validation_zones.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.validation.settings import ValidationSettings
from tests.conftest import make_settings
from tests.support.dns_server import DnsServer
from tests.support.validation_zones import validation_dns_server


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with validation_dns_server() as server:
        yield server


@pytest.fixture
def settings(database_url: str, redis_url: str | None, dns_server: DnsServer) -> Settings:
    return make_settings(database_url, redis_url, DNS_NAMESERVERS=dns_server.nameserver)


@pytest.fixture
def validation_options(tmp_path: Path) -> ValidationSettings:
    return ValidationSettings(  # type: ignore[call-arg]
        _env_file=None,
        VALIDATION_ALLOW_TEST_DOMAINS=True,
        VALIDATION_DNS_TIMEOUT=0.3,
        VALIDATION_DNS_DEADLINE=5,
        VALIDATION_JOBS_DIR=tmp_path / "jobs",
        VALIDATION_JOBS_AUTOSTART=False,
        VALIDATION_JOB_CHUNK_ROWS=10,
    )


@pytest.fixture(autouse=True)
def _install_options(ctx: AppContext, validation_options: ValidationSettings) -> None:
    ctx.settings.install(validation_options)
