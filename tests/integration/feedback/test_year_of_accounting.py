"""The issue's "done means", with data in place, through the real pipe, API and job runner:

migrate a database that already holds records → ingest files across several days → replay a file inside
the replay horizon (nothing counts twice) → replay one older than the horizon (reported, not counted) →
purge past retention (rows gone, aggregates intact, the run recorded) → forget an address (gone from every
table and file, still suppressed).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from email_engine.context import AppContext, build_context
from email_engine.db import Base
from email_engine.feedback.models import AccountingRow, DeadLetterRow
from email_engine.feedback.pseudonym import pseudonym_key
from email_engine.feedback.records import IngestRecord, ingest_items
from email_engine.feedback.settings import FeedbackSettings
from email_engine.feedback.suppression import suppressed_addresses
from email_engine.main import create_app
from email_engine.migrate import upgrade_database
from email_engine.validation.settings import ValidationSettings
from tests.conftest import make_settings
from tests.integration.feedback.conftest import EMAIL_ENGINE, pipe_env
from tests.integration.feedback.test_accounting_migration import LEGACY_INSERT, _legacy_values
from tests.support.databases import empty_all_tables, throwaway_database

pytestmark = pytest.mark.slow  # starts the pipe

NOW = datetime.now(UTC).replace(microsecond=0)
HEADER = "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\r\n"
PERSON = "Jane.Doe@Example.org"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S+0000")


def _line(kind: str, at: datetime, rcpt: str) -> str:
    if kind == "b":
        return f'b,{_when(at)},{rcpt},5.1.1,"smtp;550 5.1.1 <{rcpt}> does not exist",bad-mailbox,192.0.2.10,vmta-a\r\n'
    return f"d,{_when(at)},{rcpt},2.0.0,smtp;250 ok,,192.0.2.10,vmta-a\r\n"


@pytest.fixture
def story(tmp_path: Path, redis_url: str | None) -> Iterator[tuple[AppContext, str]]:
    """A database migrated to feedback_0001 only (the schema before this issue)."""
    (tmp_path / "db").mkdir()
    with throwaway_database(tmp_path / "db") as url:
        upgrade_database(url, "feedback_0001")
        context = build_context(make_settings(url, redis_url))
        try:
            yield context, url
        finally:
            empty_all_tables(context.engine)
            context.close()


def _pipe(settings_url: str, redis_url: str | None, spool: Path, body: str, *args: str) -> dict[str, object]:
    env = pipe_env(make_settings(settings_url, redis_url), spool, ACCOUNTING_REPLAY_HORIZON_DAYS="14")
    env["ACCOUNTING_RETENTION_DAYS"] = "90"
    done = subprocess.run(
        [EMAIL_ENGINE, "pipe", "--json", *args],
        input=(HEADER + body).encode(),
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report: dict[str, object] = json.loads(done.stdout)
    return report


def _sent(client: TestClient, headers: dict[str, str], since: datetime, until: datetime) -> int:
    params = {"since": since.isoformat(), "until": until.isoformat()}
    response = client.get("/api/v1/stats/summary", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["sent"])


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_year_of_accounting_with_data_in_place(
    story: tuple[AppContext, str], redis_url: str | None, tmp_path: Path
) -> None:
    ctx, url = story
    # 1. Records stored before the upgrade: one 100 days old (past retention), two 5 days old, one for PERSON.
    legacy_csv = HEADER + "".join(
        [
            _line("d", NOW - timedelta(days=100), "old.reader@example.com"),
            _line("d", NOW - timedelta(days=5), "kept.reader@example.com"),
            _line("b", NOW - timedelta(days=5, hours=1), PERSON),
        ]
    )
    legacy = [
        item
        for item in ingest_items(legacy_csv.splitlines(keepends=True), stream="old")
        if isinstance(item, IngestRecord)
    ]
    with ctx.engine.begin() as connection:
        for record in legacy:
            values = _legacy_values(record)
            if connection.dialect.name == "sqlite":
                for name in ("time_logged", "time_queued", "created_at"):
                    if values[name] is not None:
                        values[name] = values[name].strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[attr-defined]
            connection.execute(LEGACY_INSERT, values)
        hour = (NOW - timedelta(days=100)).replace(minute=0, second=0)
        connection.execute(
            text(
                "INSERT INTO stat_bucket (hour, dimension, key, sent, delivered, bounced, hard, soft, block, "
                "complaints, deferred) VALUES (:hour, 'all', '*', 1, 1, 0, 0, 0, 0, 0, 0)"
            ),
            {
                "hour": hour
                if connection.dialect.name == "postgresql"
                else hour.strftime("%Y-%m-%d %H:%M:%S.%f")
            },
        )

    # 2. The upgrade converts them in place.
    upgrade_database(url)
    ctx.settings.install(
        FeedbackSettings(
            _env_file=None,  # type: ignore[call-arg]
            ACCOUNTING_REPLAY_HORIZON_DAYS=14,
            ACCOUNTING_RETENTION_DAYS=90,
        )
    )
    jobs_dir = tmp_path / "validation-jobs"
    ctx.settings.install(
        ValidationSettings(_env_file=None, VALIDATION_JOBS_DIR=jobs_dir, VALIDATION_JOBS_AUTOSTART=False)
    )  # type: ignore[call-arg]
    (jobs_dir / "job-1").mkdir(parents=True)
    (jobs_dir / "job-1" / "input.csv").write_text(f"email\r\n{PERSON}\r\nkept.reader@example.com\r\n")
    assert ctx.settings.api_key is not None
    admin = {"X-API-Key": ctx.settings.api_key.get_secret_value()}
    session = ctx.session_factory()
    with TestClient(create_app(ctx=ctx)) as client:
        assert _count(session, AccountingRow) == 3

        # 3. Files across several days through the real pipe.
        recent = "".join(
            _line("d", NOW - timedelta(days=days, minutes=index), f"r{index}@example.com")
            for days in (3, 2, 1, 0)
            for index in range(5)
        )
        recent += _line("d", NOW - timedelta(hours=2), PERSON)
        spool = tmp_path / "spool"
        first = _pipe(url, redis_url, spool, recent)
        assert (first["stored_accepted"], first["stored_past_horizon"]) == (21, 0)
        window = (NOW - timedelta(days=4), NOW + timedelta(hours=1))
        sent = _sent(client, admin, *window)
        assert sent == 21

        # 4. The same file again, inside the horizon: recognised, nothing counts twice.
        again = _pipe(url, redis_url, spool, recent)
        assert (again["stored_accepted"], again["stored_duplicates"]) == (0, 21)
        assert _sent(client, admin, *window) == sent

        # 5. A file older than the horizon (one of its records is already stored): reported, not counted.
        stale = (
            _line("d", NOW - timedelta(days=20), "late.one@example.com")
            + legacy_csv.splitlines(keepends=True)[2]
        )
        late = _pipe(url, redis_url, spool, stale)
        assert (late["stored_accepted"], late["stored_past_horizon"]) == (0, 1)
        assert _sent(client, admin, NOW - timedelta(days=21), NOW - timedelta(days=19)) == 0
        reasons = list(session.scalars(select(DeadLetterRow.reason)))
        assert len(reasons) == 1 and "replay horizon" in reasons[0]
        # The other line (5 days old) was inside the horizon and already stored: a duplicate.
        assert late["stored_duplicates"] == 1

        # 6. Retention: the 100-day-old record goes, its hourly aggregate stays; the run is recorded.
        session.rollback()  # end this reader's transaction: dropping a partition waits for its readers
        run = client.post("/api/v1/jobs/feedback.retention/run", headers=admin).json()
        assert run["status"] == "ok" and run["result"]["records"] == 1, run
        session.expire_all()
        assert _count(session, AccountingRow) == 2 + 21
        assert _sent(client, admin, NOW - timedelta(days=101), NOW - timedelta(days=99)) == 1
        jobs = client.get("/api/v1/jobs", headers=admin).json()["jobs"]
        assert (
            next(job for job in jobs if job["name"] == "feedback.retention")["last_run"]["result"]["records"]
            == 1
        )

        # 7. Forget PERSON: gone from every table and file, still suppressed (the hard bounce).
        forgotten = client.delete(f"/api/v1/privacy/addresses/{PERSON}", headers=admin)
        assert forgotten.status_code == 200, forgotten.text
        assert forgotten.json()["records"] == 2 and forgotten.json()["validation_files"] == 1
        session.expire_all()
        with ctx.engine.connect() as connection:
            rows = [
                repr(tuple(row))
                for table in Base.metadata.sorted_tables
                for row in connection.execute(select(table))
            ]
        assert not [row for row in rows if "jane.doe" in row.lower()]
        assert b"jane.doe" not in (jobs_dir / "job-1" / "input.csv").read_bytes().lower()
        assert suppressed_addresses(session, [PERSON], key=pseudonym_key(ctx.settings)) == {PERSON}
    session.close()
