"""Day partitions made on demand and ahead, and the bounded dedupe: replays inside the horizon count once,
records older than the horizon are reported and kept aside, never counted (unless accepted)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.feedback.ingest import PAST_HORIZON_REASON, ForwardPolicy, ingest_batch
from email_engine.feedback.jobs import JOBS
from email_engine.feedback.models import AccountingRow, DeadLetterRow, StatBucket
from email_engine.feedback.partitions import partition_days, partition_name
from email_engine.feedback.records import IngestRecord

NOW = datetime.now(UTC).replace(microsecond=0)
POLICY = ForwardPolicy(replay_horizon_days=14)


def _record(index: int, at: datetime, kind: str = "d") -> IngestRecord:
    return IngestRecord(
        key=f"{index:032x}",
        type=kind,
        time_logged=at,
        rcpt=f"person.{index}@example.com",
        source_ip="192.0.2.10",
        vmta="vmta-a",
        dsn_status="2.0.0" if kind == "d" else "5.1.1",
        dsn_diag="250 ok" if kind == "d" else f"550 5.1.1 <person.{index}@example.com> unknown",
    )


def _sent(session: Session) -> int:
    stmt = select(func.coalesce(func.sum(StatBucket.sent), 0)).where(StatBucket.dimension == "all")
    return int(session.scalar(stmt) or 0)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_records_of_any_day_are_stored_in_their_day(session: Session) -> None:
    days = [NOW - timedelta(days=9), NOW - timedelta(days=1), NOW, NOW + timedelta(days=2)]
    records = [_record(index, at) for index, at in enumerate(days)]
    result = ingest_batch(session, records, source="test", now=NOW, forward=POLICY)
    session.commit()
    assert result.accepted == 4
    assert _count(session, AccountingRow) == 4
    if session.get_bind().dialect.name == "postgresql":
        stored = session.execute(
            text("SELECT tableoid::regclass::text, time_logged FROM accounting_record")
        ).all()
        assert {(name, at) for name, at in stored} == {
            (partition_name("accounting_record", at.date()), at) for at in days
        }


def test_replay_inside_the_horizon_counts_once(session: Session) -> None:
    records = [_record(index, NOW - timedelta(days=13, hours=index)) for index in range(3)]
    records.append(_record(9, NOW - timedelta(days=2), kind="b"))
    first = ingest_batch(session, records, source="test", now=NOW, forward=POLICY)
    session.commit()
    assert (first.accepted, first.duplicates, first.past_horizon) == (4, 0, 0)
    sent = _sent(session)
    again = ingest_batch(session, records, source="test", now=NOW + timedelta(hours=1), forward=POLICY)
    session.commit()
    assert (again.accepted, again.duplicates, again.past_horizon) == (0, 4, 0)
    assert (_sent(session), _count(session, AccountingRow)) == (sent, 4)


def test_record_older_than_the_horizon_is_reported_kept_aside_and_not_counted(session: Session) -> None:
    old = _record(1, NOW - timedelta(days=15))
    fresh = _record(2, NOW - timedelta(hours=1))
    result = ingest_batch(session, [old, fresh], source="test", now=NOW, forward=POLICY)
    session.commit()
    assert (result.accepted, result.duplicates, result.past_horizon) == (1, 0, 1)
    assert _sent(session) == 1
    letter = session.scalars(select(DeadLetterRow)).one()
    assert letter.reason == PAST_HORIZON_REASON.format(days=15, horizon=14)
    assert json.loads(letter.raw)[0] == old.key  # the whole record is kept, to be fed again if need be

    # Reported again on a second replay, still not counted, and not stored as a second dead letter.
    again = ingest_batch(session, [old], source="test", now=NOW + timedelta(minutes=5), forward=POLICY)
    session.commit()
    assert (again.accepted, again.past_horizon, again.dead_letters) == (0, 1, 0)
    assert (_sent(session), _count(session, DeadLetterRow)) == (1, 1)

    # The operator knows it was never stored: accepted on request, then counted once.
    accepting = ForwardPolicy(replay_horizon_days=14, accept_past_horizon=True)
    taken = ingest_batch(session, [old, old], source="test", now=NOW, forward=accepting)
    session.commit()
    assert (taken.accepted, taken.duplicates, taken.past_horizon) == (1, 1, 0)
    assert _sent(session) == 2


def test_the_partition_job_makes_the_coming_days(ctx: AppContext, session: Session) -> None:
    job = next(job for job in JOBS if job.name == "feedback.partitions")
    summary = job.run(ctx, NOW)
    if session.get_bind().dialect.name != "postgresql":
        assert summary["created"] == 0  # SQLite keeps one table
        return
    with ctx.engine.connect() as connection:
        days = set(partition_days(connection, "accounting_record")) & set(
            partition_days(connection, "dead_letter")
        )
    wanted = {NOW.date() + timedelta(days=offset) for offset in range(-1, 8)}
    assert wanted <= days
    assert job.run(ctx, NOW)["created"] == 0  # idempotent


def test_the_pipe_reports_records_past_the_horizon_and_takes_them_when_told(
    run_pipe: Any, session: Session, tmp_path: Any
) -> None:
    old = (NOW - timedelta(days=20)).strftime("%Y-%m-%d %H:%M:%S+0000")
    recent = (NOW - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S+0000")
    body = (
        "type,timeLogged,rcpt,dsnStatus,dsnDiag\r\n"
        f"d,{old},late.one@example.com,2.0.0,smtp;250 ok\r\n"
        f"d,{recent},recent.one@example.com,2.0.0,smtp;250 ok\r\n"
    ).encode()
    done = run_pipe(body, "--json", ACCOUNTING_REPLAY_HORIZON_DAYS="14")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert (report["stored_accepted"], report["stored_past_horizon"]) == (1, 1)
    assert "records_past_replay_horizon" in done.stderr.decode()
    assert _count(session, AccountingRow) == 1
    assert "replay horizon" in session.scalars(select(DeadLetterRow.reason)).one()

    taken = run_pipe(body, "--json", "--accept-past-horizon", ACCOUNTING_REPLAY_HORIZON_DAYS="14")
    assert taken.returncode == 0, taken.stderr.decode()[-2000:]
    report = json.loads(taken.stdout)
    assert (report["stored_accepted"], report["stored_duplicates"], report["stored_past_horizon"]) == (
        1,
        1,
        0,
    )
    assert _count(session, AccountingRow) == 2


def test_a_record_far_in_the_future_is_kept_aside(session: Session) -> None:
    ahead = _record(1, NOW + timedelta(days=400))
    result = ingest_batch(session, [ahead], source="test", now=NOW, forward=POLICY)
    session.commit()
    assert (result.accepted, result.dead_letters) == (0, 1)
    assert "clock is wrong" in session.scalars(select(DeadLetterRow.reason)).one()
    if session.get_bind().dialect.name == "postgresql":  # no partition was made for that day
        with session.get_bind().connect() as connection:  # type: ignore[union-attr]
            assert (NOW + timedelta(days=400)).date() not in partition_days(connection, "accounting_record")
