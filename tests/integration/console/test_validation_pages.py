"""Validation page: upload (the API's job), progress as JSON for the page's poller, the result files,
refusals as the service's sentences, and the viewer refused by the server."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.validation.bulk import run_pending_jobs
from email_engine.validation.models import ValidationJob
from tests.conftest import dns_settings
from tests.integration.console.conftest import csrf_of
from tests.support.validation_zones import zone_validation_settings

DOMAINS = ["good.mail.test", "nullmx.mail.test", "missing.mail.test"]


settings = dns_settings  # the resolver asks the loopback DNS server of the validation zones


@pytest.fixture
def jobs_dir(ctx: AppContext, tmp_path: Path) -> Path:
    ctx.settings.install(zone_validation_settings(tmp_path / "jobs"))
    return tmp_path / "jobs"


def _csv(rows: int) -> bytes:
    lines = ["id,email"] + [f"{i},user{i}@{DOMAINS[i % len(DOMAINS)]}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _upload(client: TestClient, data: bytes, name: str = "list.csv") -> object:
    token = csrf_of(client.get("/ui/validation").text)
    return client.post("/ui/validation", data={"csrf_token": token}, files={"file": (name, data, "text/csv")})


def test_upload_progress_and_download(
    login: Callable[[Role], TestClient], ctx: AppContext, jobs_dir: Path
) -> None:
    client = login(Role.OPERATOR)
    assert "No validation jobs yet — upload a CSV above." in client.get("/ui/validation").text
    answer = _upload(client, _csv(30))
    assert answer.status_code == 303  # type: ignore[attr-defined]
    job_page = answer.headers["location"]  # type: ignore[attr-defined]
    status = client.get(f"{job_page}/status").json()
    assert (status["status"], status["progress"], status["rows"]) == ("pending", 0.0, 0)
    assert client.get(f"{job_page}/result").status_code == 409

    run_pending_jobs(ctx, clock=utcnow)

    status = client.get(f"{job_page}/status").json()
    assert (status["status"], status["progress"], status["rows"]) == ("done", 1.0, 30)
    assert status["summary"].startswith("100 % · 30 rows")
    assert sum(status["verdicts"].values()) == 30
    page = client.get(job_page).text
    assert "Every row with its verdict" in page and 'value="100"' in page
    result = client.get(f"{job_page}/result")
    assert result.status_code == 200 and result.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(result.text)))
    assert rows[0][:3] == ["id", "email", "verdict"] and len(rows) == 31
    invalid = list(csv.reader(io.StringIO(client.get(f"{job_page}/result?verdict=invalid").text)))
    assert {row[2] for row in invalid[1:]} == {"invalid"} and len(invalid) > 1
    assert client.get(f"{job_page}/result?verdict=bogus").status_code == 422
    assert "list.csv" in client.get("/ui/validation").text
    with ctx.session_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == "/ui/validation")).one()
    assert (entry.actor, entry.status_code) == ("operator", 303)
    assert entry.details == {"console": "validation.upload", "api": "POST /api/v1/validation/jobs"}


def test_a_bad_file_gets_the_services_sentence(
    login: Callable[[Role], TestClient], ctx: AppContext, jobs_dir: Path
) -> None:
    client = login(Role.OPERATOR)
    answer = _upload(client, b"name,city\nJane,Paris\n", name="people.csv")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "No email column" in answer.text  # type: ignore[attr-defined]
    assert list(jobs_dir.glob("*")) == []
    missing = client.post("/ui/validation", data={"csrf_token": csrf_of(client.get("/ui/validation").text)})
    assert missing.status_code == 422 and "Choose a file for file." in missing.text


def test_viewer_may_watch_but_not_upload(
    login: Callable[[Role], TestClient], ctx: AppContext, jobs_dir: Path
) -> None:
    client = login(Role.VIEWER)
    page = client.get("/ui/validation").text
    assert 'enctype="multipart/form-data"' not in page
    assert _upload(client, _csv(3)).status_code == 403  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        assert session.scalars(select(ValidationJob)).all() == []
