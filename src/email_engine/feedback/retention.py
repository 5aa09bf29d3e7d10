"""Retention: raw accounting records, dead letters and hourly aggregates are kept for a set time.

- records: ``ACCOUNTING_RETENTION_DAYS`` (90) — on PostgreSQL whole day partitions are dropped
  (no row-by-row delete, no bloat); on SQLite rows are deleted in batches;
- dead letters: ``DEAD_LETTER_RETENTION_DAYS`` (30), the same way;
- hourly aggregates (``stat_bucket``): ``STATS_RETENTION_DAYS`` (730), deleted in batches;
- dictionary entries (outcomes, routes, recipient domains) no kept record can reference any more
  (``last_day`` before the record cutoff, see ``feedback.dictionary``);
- suppression entries are kept until removed;
- with ``ACCOUNTING_PSEUDONYMISE_AFTER_DAYS``, recipients of older records are replaced by their
  keyed pseudonyms (:func:`pseudonymise_before`).

Every step runs in short transactions of its own. :func:`purge_expired` is what the job
``feedback.retention`` runs; its counts are the job run's result (``/api/v1/jobs``) and, from the
last run, gauges on ``/metrics`` (``feedback.gauges``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, select, text, update

from email_engine.db import Base, UTCDateTime
from email_engine.feedback.models import (
    AccountingDomain,
    AccountingOutcome,
    AccountingRoute,
    AccountingRow,
    DeadLetterRow,
    StatBucket,
)
from email_engine.feedback.partitions import drop_partitions_before, is_partitioned
from email_engine.feedback.pseudonym import PSEUDONYM_LENGTH, pseudonym

__all__ = ["PurgeReport", "RetentionPolicy", "pseudonymise_before", "purge_expired"]

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    records_days: int = 90
    dead_letters_days: int = 30
    stats_days: int = 730


@dataclass(slots=True)
class PurgeReport:
    records: int = 0
    record_partitions: int = 0
    dead_letters: int = 0
    dead_letter_partitions: int = 0
    stat_buckets: int = 0
    outcomes: int = 0
    routes: int = 0
    domains: int = 0
    records_before: str = ""
    dead_letters_before: str = ""
    stats_before: str = ""

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _delete_in_batches(engine: Engine, table: Table, column: str, before: datetime) -> int:
    """Delete rows whose ``column`` is before ``before``, ``_BATCH`` rows per transaction (short locks)."""
    name = table.name
    total = 0
    while True:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                sql = (
                    f'DELETE FROM "{name}" WHERE ctid = ANY(ARRAY('  # noqa: S608 - constant identifiers
                    f'SELECT ctid FROM "{name}" WHERE "{column}" < :before LIMIT {_BATCH}))'
                )
            else:
                sql = (
                    f'DELETE FROM "{name}" WHERE rowid IN ('  # noqa: S608 - constant identifiers
                    f'SELECT rowid FROM "{name}" WHERE "{column}" < :before LIMIT {_BATCH})'
                )
            stmt = text(sql).bindparams(bindparam("before", before, type_=UTCDateTime()))
            removed = connection.execute(stmt).rowcount or 0
        total += removed
        if removed < _BATCH:
            return total


def _drop_or_delete(engine: Engine, table: Table, column: str, cutoff: date) -> tuple[int, int]:
    """(rows removed, partitions dropped) before ``cutoff``."""
    with engine.begin() as connection:
        partitioned = is_partitioned(connection, table.name)
        dropped = drop_partitions_before(connection, table.name, cutoff) if partitioned else []
    if partitioned:
        return sum(item.rows for item in dropped), len(dropped)
    return _delete_in_batches(engine, table, column, _midnight(cutoff)), 0


def _unused_dictionary(connection: Connection, table: Table, cutoff: date) -> int:
    return connection.execute(delete(table).where(table.c.last_day < cutoff)).rowcount or 0


def purge_expired(engine: Engine, *, now: datetime, policy: RetentionPolicy) -> PurgeReport:
    """Remove what is past its retention; returns the counts (the job run's result)."""
    today = now.astimezone(UTC).date()
    records_cutoff = today - timedelta(days=policy.records_days)
    letters_cutoff = today - timedelta(days=policy.dead_letters_days)
    stats_before = now - timedelta(days=policy.stats_days)
    report = PurgeReport(
        records_before=records_cutoff.isoformat(),
        dead_letters_before=letters_cutoff.isoformat(),
        stats_before=stats_before.isoformat(),
    )
    report.records, report.record_partitions = _drop_or_delete(
        engine, _table(AccountingRow), "time_logged", records_cutoff
    )
    report.dead_letters, report.dead_letter_partitions = _drop_or_delete(
        engine, _table(DeadLetterRow), "created_at", letters_cutoff
    )
    report.stat_buckets = _delete_in_batches(engine, _table(StatBucket), "hour", stats_before)
    with engine.begin() as connection:
        report.outcomes = _unused_dictionary(connection, _table(AccountingOutcome), records_cutoff)
        report.routes = _unused_dictionary(connection, _table(AccountingRoute), records_cutoff)
        report.domains = _unused_dictionary(connection, _table(AccountingDomain), records_cutoff)
    return report


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = _midnight(day)
    return start, start + timedelta(days=1)


def pseudonymise_before(engine: Engine, *, before: date, since: date | None, key: bytes) -> int:
    """Replace recipients of records logged on days ``[since, before)`` by their keyed pseudonyms.

    ``since`` is where an earlier run stopped (None: the oldest record). Works one day at a time in
    batches keyed on ``record_key`` (one short transaction each), so each day is read once.
    """
    with engine.connect() as connection:
        oldest = connection.execute(select(func.min(AccountingRow.time_logged))).scalar()
    if oldest is None:
        return 0
    day = max(since, oldest.date()) if since is not None else oldest.date()
    done = 0
    while day < before:
        start, end = _day_bounds(day)
        last: int | None = None
        while True:
            stmt = (
                select(
                    AccountingRow.time_logged,
                    AccountingRow.record_key,
                    AccountingRow.rcpt_local,
                    AccountingDomain.name,
                )
                .join(AccountingDomain, AccountingDomain.id == AccountingRow.domain_id)
                .where(AccountingRow.time_logged >= start, AccountingRow.time_logged < end)
                .where(
                    ~(
                        (func.length(AccountingRow.rcpt_local) == PSEUDONYM_LENGTH)
                        & AccountingRow.rcpt_local.like("#%")
                    )
                )
                .order_by(AccountingRow.record_key)
                .limit(_BATCH)
            )
            if last is not None:
                stmt = stmt.where(AccountingRow.record_key > last)
            with engine.begin() as connection:
                rows = connection.execute(stmt).all()
                if rows:
                    connection.execute(
                        update(AccountingRow)
                        .where(
                            AccountingRow.time_logged == bindparam("at"),
                            AccountingRow.record_key == bindparam("key"),
                        )
                        .values(rcpt_local=bindparam("alias")),
                        [
                            {
                                "at": logged,
                                "key": number,
                                "alias": pseudonym(f"{local}@{domain}" if domain else local, key),
                            }
                            for logged, number, local, domain in rows
                        ],
                    )
            done += len(rows)
            if len(rows) < _BATCH:
                break
            last = rows[-1][1]
        day += timedelta(days=1)
    return done
