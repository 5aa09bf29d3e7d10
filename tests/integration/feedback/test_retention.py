"""Retention: records past ACCOUNTING_RETENTION_DAYS go (whole partitions on PostgreSQL), aggregates stay until
STATS_RETENTION_DAYS, dead letters go after DEAD_LETTER_RETENTION_DAYS; the purge is a recorded job run with
its counts, on /api/v1/jobs and /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.models import AccountingOutcome, AccountingRow, DeadLetterRow, StatBucket
from email_engine.feedback.partitions import partition_days
from email_engine.feedback.pseudonym import pseudonym, pseudonym_key
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from email_engine.feedback.settings import FeedbackSettings
from email_engine.feedback.stored import stored_records

NOW = datetime.now(UTC).replace(microsecond=0)
ACCEPT_OLD = ForwardPolicy(accept_past_horizon=True)


def _record(index: int, at: datetime, diag: str = "250 ok") -> IngestRecord:
    return IngestRecord(
        key=f"{index:032x}",
        type="d",
        time_logged=at,
        rcpt=f"r{index}@example.com",
        dsn_status="2.0.0",
        dsn_diag=diag,
    )


def _sent_at(session: Session, at: datetime) -> int:
    hour = at.replace(minute=0, second=0)
    stmt = select(func.coalesce(func.sum(StatBucket.sent), 0)).where(
        StatBucket.dimension == "all", StatBucket.hour == hour
    )
    return int(session.scalar(stmt) or 0)


def test_retention_purges_by_policy_and_records_its_run(
    ctx: AppContext, session: Session, client: TestClient, admin_headers: dict[str, str]
) -> None:
    ctx.settings.install(
        FeedbackSettings(
            _env_file=None,  # type: ignore[call-arg]
            ACCOUNTING_REPLAY_HORIZON_DAYS=14,
            ACCOUNTING_RETENTION_DAYS=90,
            DEAD_LETTER_RETENTION_DAYS=30,
            STATS_RETENTION_DAYS=730,
        )
    )
    ancient, old, kept = NOW - timedelta(days=800), NOW - timedelta(days=100), NOW - timedelta(days=20)
    ingest_batch(session, [_record(1, ancient)], source="t", now=NOW, forward=ACCEPT_OLD)
    ingest_batch(
        session,
        [_record(2, old, diag="250 only this old record says this")],
        source="t",
        now=NOW,
        forward=ACCEPT_OLD,
    )
    ingest_batch(session, [_record(3, kept), _record(4, NOW)], source="t", now=NOW, forward=ACCEPT_OLD)
    for number, received in ((1, NOW - timedelta(days=40)), (2, NOW - timedelta(days=2))):
        letter = DeadLetterItem(
            dedupe_key=f"{number:064x}", line_number=number, reason="not a record", raw="x"
        )
        ingest_batch(session, [], [letter], source="t", now=NOW, forward=ACCEPT_OLD, received_at=received)
    session.commit()
    assert _sent_at(session, old) == 1
    # The dictionary entries of the old record were last used at ingestion (today): pretend they were
    # stored when the record was, as a real old installation would have them.
    session.execute(
        AccountingOutcome.__table__.update()
        .values(last_day=old.date())
        .where(AccountingOutcome.dsn_diag.like("%only this old%"))
    )  # type: ignore[attr-defined]
    session.commit()

    response = client.post("/api/v1/jobs/feedback.retention/run", headers=admin_headers)
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "ok", run
    result = run["result"]
    assert (result["records"], result["dead_letters"], result["stat_buckets"]) == (
        2,
        1,
        3,
    )  # all, rcpt_domain, provider
    assert result["outcomes"] == 1
    session.expire_all()
    assert {row.time_logged for row in session.scalars(select(AccountingRow))} == {kept, NOW}
    assert [letter.line_number for letter in session.scalars(select(DeadLetterRow))] == [2]
    assert _sent_at(session, old) == 1  # aggregates outlive the raw records
    assert _sent_at(session, ancient) == 0  # … until STATS_RETENTION_DAYS
    if session.get_bind().dialect.name == "postgresql":
        assert result["record_partitions"] == 2 and result["dead_letter_partitions"] >= 1
        with ctx.engine.connect() as connection:
            days = partition_days(connection, "accounting_record")
        assert min(days) >= (NOW - timedelta(days=90)).date()

    listed = client.get("/api/v1/jobs", headers=admin_headers).json()
    job = next(item for item in listed["jobs"] if item["name"] == "feedback.retention")
    assert job["last_run"]["result"]["records"] == 2
    metrics = client.get("/metrics", headers=admin_headers).text
    assert 'email_engine_retention_last_purged_rows{kind="records"} 2.0' in metrics
    assert 'email_engine_retention_last_purged_rows{kind="dead_letters"} 1.0' in metrics

    again = client.post("/api/v1/jobs/feedback.retention/run", headers=admin_headers).json()
    assert (again["result"]["records"], again["result"]["dead_letters"], again["result"]["stat_buckets"]) == (
        0,
        0,
        0,
    )


def test_recipients_are_pseudonymised_after_the_set_days(
    ctx: AppContext, session: Session, client: TestClient, admin_headers: dict[str, str]
) -> None:
    ctx.settings.install(
        FeedbackSettings(
            _env_file=None,  # type: ignore[call-arg]
            ACCOUNTING_REPLAY_HORIZON_DAYS=14,
            ACCOUNTING_RETENTION_DAYS=90,
            ACCOUNTING_PSEUDONYMISE_AFTER_DAYS=7,
        )
    )
    old = [_record(index, NOW - timedelta(days=10, minutes=index)) for index in range(12)]
    recent = _record(99, NOW - timedelta(days=1))
    ingest_batch(session, [*old, recent], source="t", now=NOW, forward=ACCEPT_OLD)
    session.commit()
    sent = _sent_at(session, old[0].time_logged)

    run = client.post("/api/v1/jobs/feedback.retention/run", headers=admin_headers).json()
    assert run["status"] == "ok", run
    assert run["result"]["pseudonymised"] == 12
    session.expire_all()
    recipients = {record.time_logged: record.rcpt for record in stored_records(session)}
    key = pseudonym_key(ctx.settings)
    assert key is not None
    for record in old:
        assert recipients[record.time_logged] == f"{pseudonym(record.rcpt, key)}@example.com"
    assert recipients[recent.time_logged] == "r99@example.com"
    assert _sent_at(session, old[0].time_logged) == sent  # statistics do not change

    again = client.post("/api/v1/jobs/feedback.retention/run", headers=admin_headers).json()
    assert again["result"]["pseudonymised"] == 0  # starts where the last run stopped
