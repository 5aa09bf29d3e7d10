"""Schemathesis over every operation of the real server: no 5xx, and every answer as the OpenAPI says.

The server is the real app on a real uvicorn (tests/support/live_server.py) with the run's database
(PostgreSQL + Redis, or SQLite), a loopback DNS server and a scratch job directory. Schemathesis runs
as its own process three times — with the admin key, with a viewer key and with no credentials — and
each run must end with no failure of these checks:

- ``not_a_server_error``: no 5xx for any input, including NUL bytes, huge integers and broken JSON;
- ``status_code_conformance``: every status is one the operation declares;
- ``response_schema_conformance`` / ``content_type_conformance``: bodies and media types as declared.

The seed is fixed so a failure reproduces; the reports (JUnit) are kept under the test's tmp_path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from email_engine.auth.roles import Role
from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.validation.settings import ValidationSettings
from tests.conftest import make_settings
from tests.support.databases import backend
from tests.support.dns_server import DnsServer
from tests.support.live_server import LiveServer

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
SEED = 20261205
# Schemathesis keeps fuzzing until its time budget is spent. The admin run reaches every operation's
# handler; viewer and anonymous runs mostly meet 401/403 and need less. The coverage phase (boundary
# values, NUL, wrong types) runs whole first. SQLite runs (the second pass of the suite) take half.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))
BUDGET_SECONDS = {"admin": 60, "viewer": 30, "anonymous": 20}
SCALE = float(os.environ.get("SCHEMATHESIS_TIME_SCALE", "1" if backend() == "postgresql" else "0.5"))


@pytest.fixture
def settings(database_url: str, redis_url: str | None, dns_server: DnsServer) -> Settings:
    return make_settings(database_url, redis_url, DNS_NAMESERVERS=dns_server.nameserver, DNS_TIMEOUT=0.5)


@pytest.fixture
def server(app: FastAPI, ctx: AppContext, tmp_path: Path) -> Iterator[LiveServer]:
    ctx.settings.install(
        ValidationSettings(  # type: ignore[call-arg]
            _env_file=None,
            VALIDATION_ALLOW_TEST_DOMAINS=True,
            VALIDATION_DNS_TIMEOUT=0.3,
            VALIDATION_JOBS_DIR=tmp_path / "jobs",
            VALIDATION_JOBS_AUTOSTART=False,
        ),
    )
    with LiveServer(app) as live:
        yield live


def _schemathesis(
    url: str, headers: dict[str, str], report: Path, seconds: int
) -> subprocess.CompletedProcess[str]:
    config = report.with_suffix(".toml")
    # Each run uses the identity it is given: no automatic sign-up through POST /api/v1/users.
    config.write_text("[auth]\nauto-signup = false\n")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(seconds),
        "--seed",
        str(SEED),
        # One worker: hypothesis describes strategies with ast.parse, which CPython 3.11 cannot run in two
        # threads at once ("AST constructor recursion depth mismatch"), an error of the tool, not the API.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    # In the scratch directory: schemathesis keeps a cache (.schemathesis/) where it runs.
    return subprocess.run(
        command, cwd=report.parent, capture_output=True, text=True, timeout=seconds * 4 + 180, check=False
    )


@pytest.mark.slow
def test_no_operation_answers_5xx_or_breaks_its_description(
    server: LiveServer, admin_headers: dict[str, str], make_key: object, tmp_path: Path
) -> None:
    viewer = make_key(Role.VIEWER, "schemathesis-viewer")  # type: ignore[operator]
    failures = []
    for name, headers in (("admin", admin_headers), ("viewer", viewer), ("anonymous", {})):
        seconds = max(10, round(BUDGET_SECONDS[name] * SCALE))
        run = _schemathesis(server.url, headers, tmp_path / f"{name}.xml", seconds)
        if run.returncode != 0:
            failures.append(
                f"--- as {name} (exit {run.returncode}):\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
            )
    assert not failures, "\n".join(failures)
