"""Day partitions of ``accounting_record`` and ``dead_letter`` on PostgreSQL (native declarative partitioning).

Each day (UTC) has its own partition, ``<table>_pYYYYMMDD``, holding ``[day 00:00, next day 00:00)``
of the partition column (``time_logged`` for records, ``created_at`` for dead letters). Partitions
are made ahead of time by the ``feedback.partitions`` job and on demand by ingestion for a record
that lands outside them (a late or replayed file never fails). A partition is made as a plain table
and then attached (``ATTACH PARTITION`` takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so
readers and writers of other days are not blocked), under a transaction-level advisory lock so two
writers never race, with a lock timeout so a long-held lock delays a batch (the pipe retries it)
instead of hanging it. Retention drops whole partitions (:func:`drop_partitions_before`).

SQLite (the embedded default) keeps one table per kind; every function here is a no-op there and
retention deletes in batches instead (``feedback.retention``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

__all__ = [
    "PARTITIONED",
    "DroppedPartition",
    "drop_partitions_before",
    "ensure_partitions",
    "is_partition",
    "partition_days",
    "partition_name",
]

#: Partitioned table → its partition column.
PARTITIONED: dict[str, str] = {"accounting_record": "time_logged", "dead_letter": "created_at"}
_LOCK_KEY = 7_517_011  # pg_advisory_xact_lock key of partition maintenance (any constant of ours)
_LOCK_TIMEOUT = "10s"
_NAME = re.compile(r"^(?P<table>[a-z_]+)_p(?P<day>\d{8})$")
_known: weakref.WeakKeyDictionary[Engine, set[tuple[str, date]]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class DroppedPartition:
    table: str
    day: date
    rows: int


def is_partition(name: str) -> bool:
    """Whether a table name is one of our day partitions (schema comparisons skip them: the model is the parent)."""
    match = _NAME.match(name)
    return bool(match) and match is not None and match["table"] in PARTITIONED


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _bound(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def is_partitioned(connection: Connection, table: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:name)"), {"name": table}
    ).scalar()
    return kind == "p"


def partition_days(connection: Connection, table: str) -> list[date]:
    """Days that have a partition, oldest first (empty on SQLite)."""
    if connection.dialect.name != "postgresql":
        return []
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:name)"
        ),
        {"name": table},
    ).scalars()
    days = []
    for name in names:
        match = _NAME.match(name)
        if match and match["table"] == table:
            days.append(datetime.strptime(match["day"], "%Y%m%d").replace(tzinfo=UTC).date())
    return sorted(days)


def create_partitions(connection: Connection, table: str, days: Iterable[date]) -> list[date]:
    """Create and attach the missing partitions (caller's transaction; PostgreSQL only). Returns those made."""
    if table not in PARTITIONED:
        raise ValueError(f"{table} is not a partitioned table")
    connection.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    existing = set(partition_days(connection, table))
    made = []
    for day in sorted(set(days) - existing):
        name = partition_name(table, day)
        # Constant identifiers (table from PARTITIONED, name from a date): nothing from input.
        connection.execute(
            text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        )
        connection.execute(
            text(
                f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
                f"FOR VALUES FROM ('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')"
            )
        )
        made.append(day)
    return made


def ensure_partitions(engine: Engine, table: str, days: Iterable[date]) -> int:
    """Make sure each day has a partition, in a short transaction of its own. Returns partitions made.

    Recent days (yesterday and later) are remembered per engine once made, so a batch of current
    records costs no query; older days are checked each time, since retention may drop them in
    another process.
    """
    if engine.dialect.name != "postgresql":
        return 0
    known = _known.setdefault(engine, set())
    wanted = {day for day in days if (table, day) not in known}
    if not wanted:
        return 0
    with engine.begin() as connection:
        if not is_partitioned(connection, table):
            return 0
        made = create_partitions(connection, table, wanted)
    recent = datetime.now(UTC).date() - timedelta(days=1)
    known.update((table, day) for day in wanted if day >= recent)
    return len(made)


def drop_partitions_before(connection: Connection, table: str, cutoff: date) -> list[DroppedPartition]:
    """Drop every partition of a day before ``cutoff`` (caller's transaction), counting its rows first."""
    if not is_partitioned(connection, table):
        return []
    connection.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    dropped = []
    for day in partition_days(connection, table):
        if day >= cutoff:
            break
        name = partition_name(table, day)
        rows = int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)  # noqa: S608
        connection.execute(text(f'DROP TABLE "{name}"'))
        dropped.append(DroppedPartition(table=table, day=day, rows=rows))
    for engine_days in _known.values():
        engine_days.difference_update({(table, item.day) for item in dropped})
    return dropped
