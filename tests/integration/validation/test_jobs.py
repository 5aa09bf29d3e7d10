"""Bulk jobs: CSV upload, progress, result download, resume after a worker dies, bad uploads."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.validation import bulk
from email_engine.validation.csvfile import inspect_csv, validate_csv
from email_engine.validation.jobs import JOBS
from email_engine.validation.models import ValidationJob
from email_engine.validation.service import validator_for
from email_engine.validation.settings import ValidationSettings

URL = "/api/v1/validation/jobs"
DOMAINS = ["good.mail.test", "nullmx.mail.test", "missing.mail.test", "v6.mail.test"]


def _csv(rows: int) -> bytes:
    lines = ["id;Full Name;E-Mail;note"]
    for i in range(rows):
        prefix = "info" if i % 7 == 0 else f"user{i}"
        lines.append(f'{i};"Name, {i}";{prefix}@{DOMAINS[i % len(DOMAINS)]};"multi\nline"')
    return ("\r\n".join(lines) + "\r\n").encode()


def _upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str = "list.csv", **form: str
) -> dict:
    response = client.post(URL, files={"file": (name, data, "text/csv")}, data=form, headers=headers)
    assert response.status_code == 202, response.text
    body: dict = response.json()
    return body


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_upload_run_progress_and_download(
    client: TestClient, operator_headers: dict[str, str], ctx: AppContext
) -> None:
    job = _upload(client, operator_headers, _csv(35))
    assert (job["status"], job["email_column"], job["progress"]) == ("pending", "E-Mail", 0.0)
    assert job["result_url"] is None
    assert client.get(f"{URL}/{job['id']}/result", headers=operator_headers).status_code == 409

    summary = JOBS[0].run(ctx, utcnow())
    assert summary == {"jobs": [job["id"]], "purged": 0}

    done = client.get(f"{URL}/{job['id']}", headers=operator_headers).json()
    assert (done["status"], done["progress"], done["rows_processed"]) == ("done", 1.0, 35)
    assert done["valid"] + done["invalid"] + done["risky"] + done["unknown"] == 35
    result = client.get(done["result_url"], headers=operator_headers)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/csv")
    rows = _read(result.text)
    assert rows[0] == ["id", "Full Name", "E-Mail", "note", "verdict", "reasons", "suggestion"]
    assert [row[0] for row in rows[1:]] == [str(i) for i in range(35)]
    assert rows[1][1:4] == ["Name, 0", "info@good.mail.test", "multi\nline"]
    assert rows[1][4:] == ["risky", "role", ""]
    assert rows[2][4:] == ["invalid", "null_mx", ""]
    invalid = _read(client.get(f"{done['result_url']}?verdict=invalid", headers=operator_headers).text)
    assert {row[4] for row in invalid[1:]} == {"invalid"}
    assert len(invalid) - 1 == done["invalid"]
    assert client.get(f"{done['result_url']}?verdict=bogus", headers=operator_headers).status_code == 422
    assert client.get(f"{URL}/nope", headers=operator_headers).status_code == 404


def test_worker_that_dies_is_resumed_without_redoing_rows(
    client: TestClient,
    operator_headers: dict[str, str],
    ctx: AppContext,
    validation_options: ValidationSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = _upload(client, operator_headers, _csv(45))

    class WorkerDied(Exception):
        pass

    with ctx.session_factory() as session:
        claimed = bulk.claim_job(session, now=utcnow())
        assert claimed is not None and claimed.public_id == job["id"]
    directory = validation_options.jobs_dir / job["id"]
    plan = inspect_csv(directory / "input.csv", column="E-Mail")
    chunks: list[int] = []

    def crash_after_two_chunks(rows: int, _position: int) -> None:
        chunks.append(rows)
        if len(chunks) == 2:
            raise WorkerDied

    with pytest.raises(WorkerDied):
        validate_csv(
            plan,
            directory / "result.csv",
            validator=validator_for(ctx),
            split=True,
            resume=True,
            chunk_rows=10,
            on_progress=crash_after_two_chunks,
        )
    assert (directory / "result.csv.part").exists()
    # Another runner may not take it while the lease holds …
    assert bulk.run_pending_jobs(ctx, clock=utcnow) == {"jobs": []}
    # … but once it expires (the worker is gone) the job resumes from the checkpoint.
    with ctx.session_factory() as session:
        session.execute(update(ValidationJob).values(claimed_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    resumed: list[int] = []
    original = bulk.validate_csv

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        resumed.append(result.resumed_from_row)
        return result

    monkeypatch.setattr(bulk, "validate_csv", recording)  # records; the real function does the work
    assert bulk.run_pending_jobs(ctx, clock=utcnow) == {"jobs": [job["id"]]}
    assert resumed == [20]
    done = client.get(f"{URL}/{job['id']}", headers=operator_headers).json()
    assert (done["status"], done["attempts"], done["rows_processed"]) == ("done", 2, 45)
    rows = _read(client.get(done["result_url"], headers=operator_headers).text)
    assert [row[0] for row in rows[1:]] == [str(i) for i in range(45)]  # each row once, in order


def test_upload_is_started_in_the_background(
    client: TestClient,
    operator_headers: dict[str, str],
    ctx: AppContext,
    validation_options: ValidationSettings,
) -> None:
    ctx.settings.install(validation_options.model_copy(update={"jobs_autostart": True}))
    job = _upload(client, operator_headers, _csv(12))
    for _ in range(200):
        status = client.get(f"{URL}/{job['id']}", headers=operator_headers).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "done"
    assert status["rows_processed"] == 12


def test_bad_uploads_get_clear_errors(
    client: TestClient, operator_headers: dict[str, str], validation_options: ValidationSettings
) -> None:
    def upload(data: bytes, **form: str) -> tuple[int, str]:
        response = client.post(
            URL, files={"file": ("x.csv", data, "text/csv")}, data=form, headers=operator_headers
        )
        return response.status_code, response.json()["detail"]

    status, detail = upload(b"name,city\nJane,Paris\nBob,Rome\n")
    assert status == 422 and "No email column" in detail and "name, city" in detail
    status, detail = upload(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert status == 422 and "binary" in detail
    status, detail = upload(b"email\n\xff\xfe jane@example.com\n")
    assert status == 422 and "UTF-8" in detail
    status, detail = upload(b"")
    assert status == 422 and "empty" in detail
    status, detail = upload(b"email\njane@good.mail.test\n", column="nope")
    assert status == 422 and "no column 'nope'" in detail
    status, detail = upload(b"jane@good.mail.test\nbob@good.mail.test\n")
    assert status == 422 and "header" in detail
    big = client.post(
        URL,
        files={"file": ("big.csv", b"email\n" + b"a@b.example\n" * (50 * 1024 * 1024 // 12), "text/csv")},
        headers=operator_headers,
    )
    assert big.status_code == 413 and "bytes" in big.json()["detail"]
    missing = client.post(URL, data={"column": "email"}, headers=operator_headers)
    assert missing.status_code == 422
    # Nothing was left behind by the refused uploads.
    assert list(Path(validation_options.jobs_dir).glob("*")) == []


def test_viewer_may_read_but_not_upload(client: TestClient, viewer_headers: dict[str, str]) -> None:
    response = client.post(
        URL, files={"file": ("x.csv", b"email\na@b.example\n", "text/csv")}, headers=viewer_headers
    )
    assert response.status_code == 403


def test_a_job_that_keeps_dying_is_failed_not_retried_for_ever(
    client: TestClient, operator_headers: dict[str, str], ctx: AppContext
) -> None:
    job = _upload(client, operator_headers, _csv(5))
    with ctx.session_factory() as session:
        session.execute(
            update(ValidationJob).values(
                status="running", attempts=bulk.MAX_ATTEMPTS, claimed_until=utcnow() - timedelta(seconds=1)
            )
        )
        session.commit()
    assert bulk.run_pending_jobs(ctx, clock=utcnow) == {"jobs": []}
    failed = client.get(f"{URL}/{job['id']}", headers=operator_headers).json()
    assert failed["status"] == "failed"
    assert "Gave up" in failed["error"]


def test_finished_jobs_files_are_deleted_after_the_retention_period(
    client: TestClient,
    operator_headers: dict[str, str],
    ctx: AppContext,
    validation_options: ValidationSettings,
) -> None:
    job = _upload(client, operator_headers, _csv(5))
    assert JOBS[0].run(ctx, utcnow())["jobs"] == [job["id"]]
    assert (validation_options.jobs_dir / job["id"]).is_dir()
    assert JOBS[0].run(ctx, utcnow() + timedelta(days=6))["purged"] == 0
    assert JOBS[0].run(ctx, utcnow() + timedelta(days=8))["purged"] == 1
    assert not (validation_options.jobs_dir / job["id"]).exists()
    expired = client.get(f"{URL}/{job['id']}", headers=operator_headers).json()
    assert (expired["status"], expired["result_url"]) == ("expired", None)
    assert client.get(f"{URL}/{job['id']}/result", headers=operator_headers).status_code == 409
