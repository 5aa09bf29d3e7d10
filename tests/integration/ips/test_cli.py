"""The CLI against the test database: in-process for the commands, one real process for exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from email_engine.config import Settings, get_settings
from email_engine.errors import Conflict, InvalidInput, NotFound
from email_engine.ips.cli import register
from email_engine.ips.models import SendingIp


@pytest.fixture
def cli(settings: Settings, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    # The commands configure logging onto CliRunner's stderr, which is closed afterwards.
    saved = structlog.get_config()
    root = typer.Typer()
    register(root)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(root, list(args))

    yield invoke
    get_settings.cache_clear()
    structlog.configure(**saved)


def _json(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_ip_lifecycle_from_the_cli(cli: Any) -> None:
    pool = _json(cli("pools", "add", "cold-1", "--purpose", "cold", "--json"))
    ip = _json(
        cli(
            "ips", "add", "2001:DB8::25",
            "--hostname", "mta25.example.com",
            "--purpose", "cold",
            "--vmta", "vmta-25",
            "--pool-id", str(pool["id"]),
            "--mailwizz-server-id", "25",
            "--json",
        )
    )  # fmt: skip
    assert ip["address"] == "2001:db8::25" and ip["state"] == "standby"
    moved = _json(cli("ips", "transition", str(ip["id"]), "warming", "--reason", "start plan", "--json"))
    assert moved["to_state"] == "warming" and moved["actor"].startswith("cli:")
    listed = _json(cli("ips", "list", "--state", "warming", "--json"))
    assert listed["total"] == 1 and listed["items"][0]["id"] == ip["id"]
    history = _json(cli("ips", "history", str(ip["id"]), "--json"))
    assert [h["to_state"] for h in history["items"]] == ["warming", "standby"]
    shown = cli("ips", "show", str(ip["id"]))
    assert shown.exit_code == 0 and "vmta-25" in shown.stdout
    table = cli("ips", "list")
    assert table.exit_code == 0 and "vmta-25" in table.stdout
    assert _json(cli("ips", "actuation", str(ip["id"]), "--json"))["total"] == 0
    domain = _json(cli("domains", "add", "mail.example.com", "--dkim-selector", "s1", "--json"))
    assert domain["dkim_selector"] == "s1"
    assert _json(cli("domains", "list", "--json"))["total"] == 1
    assert _json(cli("pools", "show", str(pool["id"]), "--json"))["name"] == "cold-1"


def test_forcing_from_the_cli_is_recorded(cli: Any) -> None:
    ip_id = _json(
        cli(
            "ips",
            "add",
            "192.0.2.8",
            "--hostname",
            "m8.example.com",
            "--purpose",
            "cold",
            "--vmta",
            "v8",
            "--json",
        )
    )["id"]
    assert cli("ips", "transition", str(ip_id), "retired", "--reason", "sold").exit_code == 0
    forced = _json(
        cli("ips", "transition", str(ip_id), "standby", "--reason", "bought back", "--force", "--json")
    )
    assert forced["forced"] is True


BAD_COMMANDS: list[tuple[tuple[str, ...], type[Exception], str]] = [
    (
        (
            "ips",
            "add",
            "::ffff:192.0.2.1",
            "--hostname",
            "m.example.com",
            "--purpose",
            "cold",
            "--vmta",
            "v1",
        ),
        InvalidInput,
        "IPv4-mapped",
    ),
    (
        ("ips", "add", "192.0.2.9", "--hostname", "m 9.example.com", "--purpose", "cold", "--vmta", "v9"),
        InvalidInput,
        "hostname",
    ),
    (
        ("ips", "add", "192.0.2.9", "--hostname", "m9.example.com}", "--purpose", "cold", "--vmta", "v9"),
        InvalidInput,
        "hostname",
    ),
    (
        ("ips", "add", "192.0.2.9", "--hostname", "m9.example.com", "--purpose", "cold", "--vmta", "V 9"),
        InvalidInput,
        "vmta_name",
    ),
    (
        ("ips", "add", "192.0.2.9", "--hostname", "m9.example.com", "--purpose", "bulk", "--vmta", "v9"),
        InvalidInput,
        "purpose",
    ),
    (("ips", "list", "--state", "paused"), InvalidInput, "warming, active"),
    (("ips", "show", "4242"), NotFound, "no IP with id 4242"),
    (("pools", "add", "x'; DROP TABLE ip_pool; --", "--purpose", "cold"), InvalidInput, "name"),
    (("domains", "add", "mail example.com"), InvalidInput, "name"),
]


def test_bad_input_is_refused_and_nothing_written(cli: Any, session: Session) -> None:
    for args, error, text in BAD_COMMANDS:
        result = cli(*args)
        assert isinstance(result.exception, error), (args, result.output)
        assert text in str(result.exception), args
    assert int(session.scalar(select(func.count()).select_from(SendingIp)) or 0) == 0


def test_duplicates_and_refused_transitions(cli: Any) -> None:
    ip_id = _json(
        cli(
            "ips",
            "add",
            "192.0.2.7",
            "--hostname",
            "m7.example.com",
            "--purpose",
            "cold",
            "--vmta",
            "v7",
            "--json",
        )
    )["id"]
    dup = cli("ips", "add", "192.0.2.7", "--hostname", "m7.example.com", "--purpose", "cold", "--vmta", "v77")
    assert isinstance(dup.exception, Conflict) and "already used" in str(dup.exception)
    cold = cli("ips", "transition", str(ip_id), "active", "--reason", "x")
    assert isinstance(cold.exception, Conflict) and "cold" in str(cold.exception)


@pytest.mark.slow
def test_the_installed_command_exits_non_zero_with_one_line(settings: Settings) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "JWT_SECRET_KEY": "k" * 48,
        "ENVIRONMENT": "test",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from email_engine.cli import main; main()", "ips", "add", "192.0.2.1\n",
         "--hostname", "m.example.com", "--purpose", "cold", "--vmta", "v1"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not an IP address" in result.stderr


def test_update_from_the_cli(cli: Any) -> None:
    ip_id = _json(
        cli("ips", "add", "192.0.2.6", "--hostname", "m6.example.com", "--purpose", "cold", "--vmta", "v6",
            "--mailwizz-server-id", "6", "--json")
    )["id"]  # fmt: skip
    updated = _json(
        cli("ips", "update", str(ip_id), "--hostname", "M6B.example.com", "--no-mailwizz", "--json")
    )
    assert updated["hostname"] == "m6b.example.com" and updated["mailwizz_server_id"] is None
    bad = cli("ips", "update", str(ip_id), "--vmta", "v 6")
    assert isinstance(bad.exception, InvalidInput)
    nothing = cli("ips", "update", str(ip_id))
    assert isinstance(nothing.exception, InvalidInput) and "Nothing to change" in str(nothing.exception)
