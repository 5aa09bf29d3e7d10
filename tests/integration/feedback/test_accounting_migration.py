"""feedback_0002 converts stored records and dead letters in place: every row kept, replays still recognised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from email_engine.db import make_engine, make_session_factory
from email_engine.feedback.classified import classify_record
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.models import (
    AccountingDomain,
    AccountingOutcome,
    AccountingRoute,
    AccountingRow,
    DeadLetterRow,
)
from email_engine.feedback.partitions import partition_days
from email_engine.feedback.records import IngestRecord, ingest_items, key_number
from email_engine.migrate import upgrade_database
from tests.support.databases import throwaway_database

CSV = (
    "type,timeLogged,timeQueued,orig,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\r\n"
    "d,2026-11-20 08:00:00+0000,2026-11-20 07:59:30+0000,news@sender.example,Ann.One@example.com,2.0.0,"
    '"smtp;250 ok",,192.0.2.10,vmta-a\r\n'
    "b,2026-11-20 23:59:59+0000,,news@sender.example,gone@example.org,5.1.1,"
    '"smtp;550 5.1.1 user unknown",bad-mailbox,192.0.2.10,vmta-a\r\n'
    "d,2026-11-21 00:00:00+0000,,news@sender.example,two@example.com,2.0.0,"
    '"smtp;250 ok",,192.0.2.11,vmta-b\r\n'
)
LEGACY_INSERT = text(
    "INSERT INTO accounting_record (record_key, type, time_logged, time_queued, rcpt, rcpt_domain, provider, "
    "sender_domain, vmta, source_ip, dsn_status, dsn_diag, category, bounce_type, rule, source, created_at) "
    "VALUES (:record_key, :type, :time_logged, :time_queued, :rcpt, :rcpt_domain, :provider, :sender_domain, "
    ":vmta, :source_ip, :dsn_status, :dsn_diag, :category, :bounce_type, :rule, :source, :created_at)"
)


def _records() -> list[IngestRecord]:
    items = list(ingest_items(CSV.splitlines(keepends=True), stream="test"))
    return [item for item in items if isinstance(item, IngestRecord)]


def _legacy_values(record: IngestRecord) -> dict[str, object]:
    """The row feedback_0001's ingestion stored for a record."""
    row = classify_record(record)
    return {
        "record_key": record.key,
        "type": record.type,
        "time_logged": record.time_logged,
        "time_queued": record.time_queued,
        "rcpt": record.rcpt,
        "rcpt_domain": row.rcpt_domain,
        "provider": row.provider,
        "sender_domain": row.sender_domain,
        "vmta": record.vmta,
        "source_ip": record.source_ip,
        "dsn_status": record.dsn_status,
        "dsn_diag": record.dsn_diag,
        "category": row.category,
        "bounce_type": row.bounce_type,
        "rule": row.rule,
        "source": "pipe",
        "created_at": datetime(2026, 11, 21, 1, tzinfo=UTC),
    }


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[Engine]:
    with throwaway_database(tmp_path) as url:
        upgrade_database(url, "feedback_0001")
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_upgrade_keeps_every_record_and_dead_letter_and_replays_stay_duplicates(old_database: Engine) -> None:
    records = _records()
    assert len(records) == 3
    with old_database.begin() as connection:
        is_pg = connection.dialect.name == "postgresql"
        for record in records:
            values = _legacy_values(record)
            if not is_pg:  # SQLite: the stored text form of UTCDateTime
                for name in ("time_logged", "time_queued", "created_at"):
                    if values[name] is not None:
                        values[name] = values[name].strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[attr-defined]
            connection.execute(LEGACY_INSERT, values)
        for number, created in ((7, "2026-11-19 10:00:00+00:00"), (9, "2026-11-21 10:00:00+00:00")):
            connection.execute(
                text(
                    "INSERT INTO dead_letter (dedupe_key, line_number, reason, raw, source, created_at) "
                    "VALUES (:key, :n, 'not a record', 'garbage', 'pipe', :at)"
                ),
                {"key": f"{number:064x}", "n": number, "at": created if is_pg else created[:19] + ".000000"},
            )

    upgrade_database(old_database.url.render_as_string(hide_password=False))

    factory = make_session_factory(old_database)
    with factory() as session:
        assert _count(session, AccountingRow) == 3
        assert _count(session, DeadLetterRow) == 2
        assert sorted(letter.line_number for letter in session.scalars(select(DeadLetterRow))) == [7, 9]
        stored = {row.record_key: row for row in session.scalars(select(AccountingRow))}
        first, bounce, last = records
        row = stored[key_number(first.key)]
        assert (row.rcpt_local, row.queued_seconds, row.time_logged) == ("Ann.One", 30, first.time_logged)
        assert session.get(AccountingDomain, row.domain_id).name == "example.com"  # type: ignore[union-attr]
        route = session.get(AccountingRoute, row.route_id)
        assert route is not None
        assert (route.source, route.vmta, route.source_ip, route.sender_domain) == (
            "pipe",
            "vmta-a",
            "192.0.2.10",
            "sender.example",
        )
        outcome = session.get(AccountingOutcome, stored[key_number(bounce.key)].outcome_id)
        assert outcome is not None
        assert (outcome.type, outcome.dsn_status, outcome.dsn_diag, outcome.bounce_type) == (
            "b",
            "5.1.1",
            "550 5.1.1 user unknown",
            "hard",
        )
        assert stored[key_number(last.key)].queued_seconds is None
        dictionaries = (_count(session, AccountingOutcome), _count(session, AccountingRoute))
        assert dictionaries == (2, 2)
        if is_pg:
            with old_database.connect() as connection:
                days = partition_days(connection, "accounting_record")
            assert {datetime(2026, 11, 20).date(), datetime(2026, 11, 21).date()} <= set(days)

        # The same file again: every record is recognised, and the dictionaries the migration filled
        # (digests computed in SQL on PostgreSQL) are the ones ingestion finds.
        result = ingest_batch(
            session, records, source="pipe", now=datetime(2026, 11, 22, tzinfo=UTC), forward=ForwardPolicy()
        )
        session.commit()
        assert (result.accepted, result.duplicates) == (0, 3)
        assert (_count(session, AccountingOutcome), _count(session, AccountingRoute)) == dictionaries
        assert _count(session, AccountingDomain) == 2
