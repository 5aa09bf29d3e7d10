"""The right to be forgotten: an address is gone from every table and file, and stays suppressed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from email_engine.auth.models import AuditEntry
from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import Base
from email_engine.feedback.models import Suppression
from email_engine.feedback.pseudonym import pseudonym_key
from email_engine.feedback.stored import stored_records
from email_engine.feedback.suppression import suppressed_addresses
from email_engine.validation.settings import ValidationSettings
from tests.conftest import make_settings
from tests.support.cli_runner import REPO, run_cli

ADDRESS = "Erase.Me@Example.com"
NORMAL = ADDRESS.lower()
OTHER = "keep.me@example.com"


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    return make_settings(
        database_url,
        redis_url,
        SCRAPER_PRO_BOUNCE_URL="http://127.0.0.1:9/bounces",
        SCRAPER_PRO_HMAC_SECRET="t3st-scraper-pro-hmac-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )


@pytest.fixture
def jobs_dir(ctx: AppContext, tmp_path: Path) -> Path:
    directory = tmp_path / "jobs"
    ctx.settings.install(
        ValidationSettings(_env_file=None, VALIDATION_JOBS_DIR=directory, VALIDATION_JOBS_AUTOSTART=False),  # type: ignore[call-arg]
    )
    job = directory / "job1"
    job.mkdir(parents=True)
    (job / "input.csv").write_text(f"email,name\r\n{ADDRESS},Erase\r\n{OTHER},Keep\r\n")
    (job / "result.csv").write_text(f'"email","verdict"\r\n"{NORMAL}","valid"\r\n"{OTHER}","valid"\r\n')
    return directory


def _csv(*lines: str) -> bytes:
    header = "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp\r\n"
    return (header + "".join(f"{line}\r\n" for line in lines)).encode()


def _everything(engine: Engine) -> str:
    """Every row of every table as text (a small test database), lower-cased."""
    parts = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts).lower()


def _seed(client: TestClient, admin: dict[str, str], ingest: dict[str, str]) -> None:
    now = datetime.now(UTC)
    at = (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S+0000")
    later = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S+0000")
    # An operator suppresses the address by hand and removes it again: the audit names it in its path.
    assert client.post("/api/v1/suppressions", json={"value": ADDRESS}, headers=admin).status_code == 201
    assert client.delete(f"/api/v1/suppressions/{NORMAL}", headers=admin).status_code == 200
    body = _csv(
        f"d,{at},{ADDRESS},2.0.0,smtp;250 ok,,192.0.2.10",
        f'b,{later},{ADDRESS},5.1.1,"smtp;550 5.1.1 <{ADDRESS}>: Recipient address rejected",bad-mailbox,192.0.2.10',
        f"d,{at},{OTHER},2.0.0,smtp;250 ok,,192.0.2.10",
        f"a line that is not a record but names {ADDRESS}",
    )
    answer = client.post("/api/v1/webhooks/pmta-batch", content=body, headers=ingest)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 3 and answer.json()["dead_letters"] == 1


def test_forget_erases_the_address_everywhere_and_keeps_it_suppressed(
    client: TestClient,
    ctx: AppContext,
    session: Session,
    admin_headers: dict[str, str],
    make_key: Any,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
    jobs_dir: Path,
) -> None:
    from email_engine.auth.roles import Role

    _seed(client, admin_headers, make_key(Role.INGEST))
    assert "erase.me" in _everything(
        ctx.engine
    )  # records, diagnostic, dead letter, outbox, audit, suppression

    url = f"/api/v1/privacy/addresses/{ADDRESS}"
    assert client.delete(url, headers=viewer_headers).status_code == 403
    assert client.delete(url, headers=operator_headers).status_code == 403
    response = client.delete(url, headers=admin_headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["records"] == 2 and report["diagnostics"] == 1 and report["dead_letters"] == 1
    assert report["outbox_events"] >= 1 and report["audit_entries"] >= 1
    assert (report["validation_files"], report["suppression"]) == (2, "replaced")
    pseudonym = report["pseudonym"]
    assert pseudonym.startswith("#") and len(pseudonym) == 33

    stored = _everything(ctx.engine)
    assert "erase.me" not in stored
    assert "keep.me" in stored  # nothing else is touched
    for path in jobs_dir.rglob("*.csv"):
        content = path.read_bytes().lower()
        assert b"erase.me" not in content and OTHER.encode() in content
    # The input file keeps its length: a running job's checkpoint offsets stay right.
    assert (jobs_dir / "job1" / "input.csv").stat().st_size == len(
        f"email,name\r\n{ADDRESS},Erase\r\n{OTHER},Keep\r\n"
    )

    session.expire_all()
    kept = {record.rcpt for record in stored_records(session)}
    assert kept == {f"{pseudonym}@example.com", OTHER}
    entry = session.scalars(select(Suppression).where(Suppression.value == pseudonym)).one()
    assert (entry.kind, entry.reason) == ("hash", "hard_bounce")
    # Never mailed again: the suppression check recognises the address, in any case.
    assert suppressed_addresses(session, [ADDRESS, NORMAL, OTHER], key=pseudonym_key(ctx.settings)) == {
        ADDRESS,
        NORMAL,
    }
    audits = session.scalars(select(AuditEntry).where(AuditEntry.target.like("/api/v1/privacy/%"))).all()
    # The refused attempts are audited without the address; the erasure names its pseudonym.
    assert sorted((entry.status_code, entry.target) for entry in audits) == [
        (200, f"/api/v1/privacy/addresses/{pseudonym}"),
        (403, "/api/v1/privacy/addresses/(redacted)"),
        (403, "/api/v1/privacy/addresses/(redacted)"),
    ]
    audit = next(entry for entry in audits if entry.status_code == 200)
    assert audit.details is not None and audit.details["event"] == "address_forgotten"

    # Forgetting again finds nothing more and changes nothing.
    again = client.delete(url, headers=admin_headers).json()
    assert (again["records"], again["validation_files"], again["pseudonym"]) == (0, 0, pseudonym)


def test_forget_refuses_a_domain_and_needs_the_key(client: TestClient, admin_headers: dict[str, str]) -> None:
    refused = client.delete("/api/v1/privacy/addresses/example.com", headers=admin_headers)
    assert refused.status_code == 422 and "one address" in refused.json()["detail"]


@pytest.mark.slow
def test_cli_forget_is_audited(
    database_url: str, settings: Settings, session: Session, client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.post("/api/v1/suppressions", json={"value": OTHER}, headers=admin_headers)
    assert answer.status_code == 201
    env = {
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "VALIDATION_JOBS_DIR": "/nonexistent",
    }
    done = run_cli("privacy", "forget", OTHER, "--json", database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["suppression"] == "replaced"
    session.expire_all()
    assert suppressed_addresses(session, [OTHER], key=pseudonym_key(settings)) == {OTHER}
    assert session.scalar(select(Suppression.value).where(Suppression.value == OTHER)) is None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.actor_kind == "cli")).one()
    assert audit.target == f"/api/v1/privacy/addresses/{report['pseudonym']}" and audit.action == "DELETE"

    missing = run_cli(
        "privacy", "forget", OTHER, database_url=database_url, env={**env, "PRIVACY_HASH_KEY": ""}
    )
    assert missing.returncode == 1 and "PRIVACY_HASH_KEY" in missing.stderr
