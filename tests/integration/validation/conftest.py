"""Validation tests run against a real DNS server on loopback (tests/support/validation_zones.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from email_engine.context import AppContext
from email_engine.validation.settings import ValidationSettings
from tests.conftest import dns_settings
from tests.support.validation_zones import zone_validation_settings

settings = dns_settings  # the resolver asks the loopback DNS server of the validation zones


@pytest.fixture
def validation_options(tmp_path: Path) -> ValidationSettings:
    return zone_validation_settings(tmp_path / "jobs")


@pytest.fixture(autouse=True)
def _install_options(ctx: AppContext, validation_options: ValidationSettings) -> None:
    ctx.settings.install(validation_options)
