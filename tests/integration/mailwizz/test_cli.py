"""``email-engine mailwizz check|server`` against the real MariaDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
import typer
from typer.testing import CliRunner

from email_engine.config import get_settings
from email_engine.errors import ConfigurationError, NotFound
from email_engine.integrations.mailwizz.cli import register
from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db


@pytest.fixture
def cli(mw: MailwizzTestDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "MAILWIZZ_DB_HOST": "127.0.0.1",
        "MAILWIZZ_DB_USER": "root",
        "MAILWIZZ_DB_NAME": mw.name,
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    # The commands configure logging onto CliRunner's stderr, which is closed afterwards.
    saved = structlog.get_config()
    root = typer.Typer()
    register(root)
    root.command("noop")(lambda: None)  # a second command keeps "mailwizz" a sub-command
    yield lambda *args: CliRunner().invoke(root, ["mailwizz", *args])
    get_settings.cache_clear()
    structlog.configure(**saved)


def test_check_and_show(cli: Any, mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=4, daily=40)
    checked = cli("check")
    assert checked.exit_code == 0 and "ok:" in checked.stdout
    assert "ok: campaign and campaign_delivery_log readable" in checked.stdout
    shown = cli("server", str(server_id), "--json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["daily_quota"] == 40
    missing = cli("server", "999999")
    assert isinstance(missing.exception, NotFound)


def test_wrong_prefix_is_reported(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILWIZZ_DB_TABLE_PREFIX", "wrong_")
    get_settings.cache_clear()
    result = cli("check")
    assert isinstance(result.exception, ConfigurationError)
    assert "MAILWIZZ_DB_TABLE_PREFIX" in str(result.exception)


def test_check_warns_when_the_campaign_tables_cannot_be_read(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with throwaway_mailwizz_db() as bare, bare.connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE `{bare.prefix}campaign_delivery_log`")
        cursor.execute(f"DROP TABLE `{bare.prefix}campaign`")
        monkeypatch.setenv("MAILWIZZ_DB_NAME", bare.name)
        get_settings.cache_clear()
        result = cli("check")
    # The delivery servers are fine (exit 0); the failover job could not find campaigns to pause.
    assert result.exit_code == 0 and "ok: `mw_delivery_server` readable" in result.stdout
    assert "warning: The MailWizz tables `mw_campaign` and `mw_campaign_delivery_log`" in result.stdout
    assert "grant the engine's user SELECT" in result.stdout
