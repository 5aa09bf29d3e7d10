"""``email-engine init`` (what scripts/serve.sh runs) prints the console's address and the first admin's
login; the printed login works on the console's login form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.console.conftest import csrf_of
from tests.support.cli_runner import run_cli

pytestmark = pytest.mark.slow  # starts the CLI as a subprocess


def test_init_prints_the_console_url_and_a_login_that_works(
    database_url: str, browser_client: TestClient, tmp_path: Path
) -> None:
    done = run_cli(
        "init",
        "--env-file",
        str(tmp_path / "absent.env"),
        database_url=database_url,
        cwd=tmp_path,
        env={"JWT_SECRET_KEY": "x" * 48},
    )
    assert done.returncode == 0, done.stderr
    assert (
        "console: http://127.0.0.1:8000/ui/ (log in with Email admin@example.com and that password)"
        in done.stdout
    )
    password = re.search(r"created admin admin@example.com with password (\S+)", done.stdout)
    assert password
    token = csrf_of(browser_client.get("/ui/login").text)
    answer = browser_client.post(
        "/ui/login", data={"email": "admin@example.com", "password": password.group(1), "csrf_token": token}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
    again = run_cli(
        "init",
        "--env-file",
        str(tmp_path / "absent.env"),
        database_url=database_url,
        cwd=tmp_path,
        env={"JWT_SECRET_KEY": "x" * 48},
    )
    assert "users exist already" in again.stdout and "console: http://127.0.0.1:8000/ui/" in again.stdout
