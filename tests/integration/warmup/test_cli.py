"""``email-engine warmup …`` run as a real process against the test database and MariaDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from email_engine.config import Settings
from tests.support.databases import MARIADB
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb

pytestmark = pytest.mark.slow  # starts the CLI as a subprocess

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def cli(
    args: list[str], settings: Settings, mw: MailwizzTestDb, cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "MAILWIZZ_DB_HOST": str(MARIADB["host"]),
        "MAILWIZZ_DB_PORT": str(MARIADB["port"]),
        "MAILWIZZ_DB_USER": str(MARIADB["user"]),
        "MAILWIZZ_DB_NAME": mw.name,
        "MAILWIZZ_DB_TABLE_PREFIX": mw.prefix,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("email-engine")), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_create_start_show_run_and_errors(
    session: Session, settings: Settings, mw: MailwizzTestDb, tmp_path: Path
) -> None:
    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.77", server_id=server, now=NOW)
    session.commit()

    created = cli(
        ["warmup", "create", "--ip-id", str(ip.id), "--preset", "cold", "--start", "--json"],
        settings,
        mw,
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    detail = json.loads(created.stdout)
    assert (
        detail["status"] == "running" and detail["day_number"] == 1 and detail["push"]["status"] == "applied"
    )
    row = mw.row(server)
    assert (row["status"], row["daily_quota"], row["hourly_quota"]) == ("active", 20, 2)

    shown = cli(["warmup", "show", str(detail["id"])], settings, mw, tmp_path)
    assert shown.returncode == 0 and "day 1 of 49" in shown.stdout and "start" in shown.stdout

    ran = cli(["warmup", "run", "--json"], settings, mw, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["push_failed"] == []

    missing = cli(["warmup", "create", "--ip-id", "999", "--preset", "cold"], settings, mw, tmp_path)
    assert missing.returncode != 0 and "There is no IP 999" in missing.stderr
    bad = cli(["warmup", "create", "--ip-id", str(ip.id), "--schedule", "10,-1"], settings, mw, tmp_path)
    assert bad.returncode != 0 and "between 1 and 10,000,000" in bad.stderr
    junk = cli(["warmup", "create", "--ip-id", str(ip.id), "--schedule", "10,x}"], settings, mw, tmp_path)
    assert junk.returncode != 0 and "whole numbers" in junk.stderr
    assert len(junk.stderr.strip().splitlines()) == 1
