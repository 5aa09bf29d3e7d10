"""Feedback: compact accounting records (dictionaries), day partitions on PostgreSQL, bounded dedupe.

Converts the stored records and dead letters in place, without losing a row:

- ``accounting_outcome``, ``accounting_route``, ``accounting_domain`` are filled with the distinct
  values of the stored records (digests as ``feedback.dictionary.value_digest`` computes them);
- ``accounting_record`` becomes (``time_logged``, ``record_key`` BIGINT, ids, ``queued_seconds``,
  ``rcpt_local``), primary key (``time_logged``, ``record_key``); on PostgreSQL partitioned by day on
  ``time_logged`` with a partition for every day holding records and the coming week;
- ``dead_letter`` is unique on (``dedupe_key``, ``created_at``); on PostgreSQL partitioned by day on
  ``created_at``.

Revision ID: feedback_0002
Revises: feedback_0001
Create Date: 2026-12-05
"""

# ruff: noqa: S608 - the SQL is built from constant fragments of this file only, nothing from input
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime
from email_engine.feedback.dictionary import value_digest
from email_engine.feedback.partitions import create_partitions

revision: str = "feedback_0002"
down_revision: str | None = "feedback_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AHEAD_DAYS = 7


def _digest_sql(*parts: str) -> str:
    """SQL for value_digest over column expressions or quoted literals."""
    joined = ", ".join(f"coalesce({part}, E'\\x1e')" for part in parts)
    return f"substring(sha256(convert_to(concat_ws(E'\\x1f', {joined}), 'UTF8')) from 1 for 16)"


_OUTCOME = _digest_sql("l.type", "l.dsn_status", "l.dsn_diag", "l.category", "l.bounce_type", "l.rule")
_ROUTE = _digest_sql("'route'", "l.source", "l.vmta", "l.source_ip", "l.sender_domain")
_DOMAIN = _digest_sql("'domain'", "l.rcpt_domain")


def _dictionaries() -> None:
    op.create_table(
        "accounting_outcome",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("digest", sa.LargeBinary(16), nullable=False),
        sa.Column("type", sa.String(4), nullable=False),
        sa.Column("dsn_status", sa.String(32), nullable=True),
        sa.Column("dsn_diag", sa.String(1000), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("bounce_type", sa.String(8), nullable=True),
        sa.Column("rule", sa.String(128), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_outcome")),
        sa.UniqueConstraint("digest", name=op.f("uq_accounting_outcome_digest")),
    )
    op.create_table(
        "accounting_route",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.LargeBinary(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("vmta", sa.String(128), nullable=True),
        sa.Column("source_ip", sa.String(45), nullable=True),
        sa.Column("sender_domain", sa.String(255), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_route")),
        sa.UniqueConstraint("digest", name=op.f("uq_accounting_route_digest")),
    )
    op.create_table(
        "accounting_domain",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.LargeBinary(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_domain")),
        sa.UniqueConstraint("digest", name=op.f("uq_accounting_domain_digest")),
    )


_RECORD_COLUMNS = (
    "time_logged timestamp with time zone NOT NULL, record_key bigint NOT NULL, outcome_id bigint NOT NULL, "
    "route_id integer NOT NULL, domain_id integer NOT NULL, queued_seconds integer, "
    "rcpt_local varchar(320) NOT NULL, CONSTRAINT pk_accounting_record PRIMARY KEY (time_logged, record_key)"
)


def _days(connection: sa.Connection, table: str, column: str) -> set[date]:
    today = datetime.now(UTC).date()
    days = {today + timedelta(days=offset) for offset in range(-1, _AHEAD_DAYS + 1)}
    rows = connection.execute(
        sa.text(f"SELECT DISTINCT (({column}) AT TIME ZONE 'UTC')::date FROM {table}")
    ).scalars()
    days.update(rows)
    return days


def _upgrade_postgresql(connection: sa.Connection) -> None:
    op.execute("ALTER TABLE accounting_record RENAME TO accounting_record_legacy")
    op.execute(
        "ALTER TABLE accounting_record_legacy RENAME CONSTRAINT pk_accounting_record TO pk_accounting_record_legacy"
    )
    op.execute(
        "ALTER TABLE accounting_record_legacy RENAME CONSTRAINT uq_accounting_record_record_key "
        "TO uq_accounting_record_legacy_record_key"
    )
    op.execute("DROP INDEX ix_accounting_record_time_logged")
    op.execute(f"CREATE TABLE accounting_record ({_RECORD_COLUMNS}) PARTITION BY RANGE (time_logged)")
    create_partitions(
        connection, "accounting_record", _days(connection, "accounting_record_legacy", "time_logged")
    )
    today = "(now() AT TIME ZONE 'UTC')::date"
    op.execute(
        "INSERT INTO accounting_outcome (digest, type, dsn_status, dsn_diag, category, bounce_type, rule, last_day) "
        f"SELECT DISTINCT ON (1) {_OUTCOME}, l.type, l.dsn_status, l.dsn_diag, l.category, l.bounce_type, l.rule, "
        f"{today} FROM accounting_record_legacy l"
    )
    op.execute(
        "INSERT INTO accounting_route (digest, source, vmta, source_ip, sender_domain, last_day) "
        f"SELECT DISTINCT ON (1) {_ROUTE}, l.source, l.vmta, l.source_ip, l.sender_domain, {today} "
        "FROM accounting_record_legacy l"
    )
    op.execute(
        "INSERT INTO accounting_domain (digest, name, last_day) "
        f"SELECT DISTINCT ON (1) {_DOMAIN}, l.rcpt_domain, {today} FROM accounting_record_legacy l"
    )
    op.execute(
        "INSERT INTO accounting_record (time_logged, record_key, outcome_id, route_id, domain_id, queued_seconds, "
        "rcpt_local) SELECT l.time_logged, ('x' || substr(l.record_key, 1, 16))::bit(64)::bigint, o.id, r.id, d.id, "
        "CASE WHEN l.time_queued IS NULL THEN NULL ELSE greatest(-2147483647, least(2147483647, "
        "trunc(extract(epoch FROM l.time_logged - l.time_queued))))::integer END, "
        "left(CASE WHEN strpos(l.rcpt, '@') = 0 THEN btrim(l.rcpt) "
        "ELSE regexp_replace(btrim(l.rcpt), '@[^@]*$', '') END, 320) "
        "FROM accounting_record_legacy l "
        f"JOIN accounting_outcome o ON o.digest = {_OUTCOME} "
        f"JOIN accounting_route r ON r.digest = {_ROUTE} "
        f"JOIN accounting_domain d ON d.digest = {_DOMAIN} "
        "ON CONFLICT DO NOTHING"
    )
    op.execute("DROP TABLE accounting_record_legacy")

    op.execute("ALTER TABLE dead_letter RENAME TO dead_letter_legacy")
    op.execute("ALTER TABLE dead_letter_legacy RENAME CONSTRAINT pk_dead_letter TO pk_dead_letter_legacy")
    op.execute(
        "ALTER TABLE dead_letter_legacy RENAME CONSTRAINT uq_dead_letter_dedupe_key TO uq_dead_letter_legacy_dedupe_key"
    )
    op.execute("DROP INDEX ix_dead_letter_created_at")
    op.execute("ALTER SEQUENCE dead_letter_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE dead_letter (id bigint NOT NULL DEFAULT nextval('dead_letter_id_seq'), "
        "dedupe_key varchar(64) NOT NULL, line_number integer NOT NULL, reason varchar(500) NOT NULL, "
        "raw text NOT NULL, source varchar(64) NOT NULL, created_at timestamp with time zone NOT NULL, "
        "CONSTRAINT pk_dead_letter PRIMARY KEY (id, created_at), "
        "CONSTRAINT uq_dead_letter_dedupe_key UNIQUE (dedupe_key, created_at)) PARTITION BY RANGE (created_at)"
    )
    op.execute("ALTER SEQUENCE dead_letter_id_seq OWNED BY dead_letter.id")
    op.execute("CREATE INDEX ix_dead_letter_created_at ON dead_letter (created_at)")
    create_partitions(connection, "dead_letter", _days(connection, "dead_letter_legacy", "created_at"))
    op.execute(
        "INSERT INTO dead_letter (id, dedupe_key, line_number, reason, raw, source, created_at) "
        "SELECT id, dedupe_key, line_number, reason, raw, source, created_at FROM dead_letter_legacy"
    )
    op.execute("DROP TABLE dead_letter_legacy")


def _legacy_rows(connection: sa.Connection) -> Iterator[Sequence[Any]]:
    result = connection.execute(
        sa.text(
            "SELECT record_key, type, time_logged, time_queued, rcpt, rcpt_domain, sender_domain, vmta, source_ip, "
            "dsn_status, dsn_diag, category, bounce_type, rule, source FROM accounting_record_legacy ORDER BY id"
        )
    )
    while rows := result.fetchmany(2000):
        yield from rows


def _upgrade_sqlite(connection: sa.Connection) -> None:
    """SQLite keeps one table; its (small) records are converted row by row."""
    op.execute("ALTER TABLE accounting_record RENAME TO accounting_record_legacy")
    op.execute("DROP INDEX ix_accounting_record_time_logged")
    op.create_table(
        "accounting_record",
        sa.Column("time_logged", UTCDateTime(), nullable=False),
        sa.Column("record_key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("outcome_id", sa.BigInteger(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("queued_seconds", sa.Integer(), nullable=True),
        sa.Column("rcpt_local", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("time_logged", "record_key", name=op.f("pk_accounting_record")),
    )
    today = datetime.now(UTC).date()
    tables = {
        name: sa.table(
            name,
            sa.column("id"),
            sa.column("digest"),
            *(sa.column(c) for c in columns),
            sa.column("last_day"),
        )
        for name, columns in (
            ("accounting_outcome", ("type", "dsn_status", "dsn_diag", "category", "bounce_type", "rule")),
            ("accounting_route", ("source", "vmta", "source_ip", "sender_domain")),
            ("accounting_domain", ("name",)),
        )
    }
    ids: dict[tuple[str, bytes], int] = {}

    def intern(name: str, digest: bytes, values: dict[str, Any]) -> int:
        found = ids.get((name, digest))
        if found is None:
            table = tables[name]
            found = connection.execute(
                table.insert().values(digest=digest, last_day=today, **values).returning(table.c.id)
            ).scalar_one()
            ids[(name, digest)] = found
        return found

    record = sa.table(
        "accounting_record",
        *(sa.column(c) for c in ("time_logged", "record_key", "outcome_id", "route_id", "domain_id")),
        sa.column("queued_seconds"),
        sa.column("rcpt_local"),
    )
    for row in _legacy_rows(connection):
        (
            key,
            kind,
            logged,
            queued,
            rcpt,
            rcpt_domain,
            sender_domain,
            vmta,
            ip,
            status,
            diag,
            category,
            btype,
            rule,
            source,
        ) = row
        outcome = {
            "type": kind,
            "dsn_status": status,
            "dsn_diag": diag,
            "category": category,
            "bounce_type": btype,
            "rule": rule,
        }
        route = {"source": source, "vmta": vmta, "source_ip": ip, "sender_domain": sender_domain}
        number = int(key[:16], 16)
        logged_at = datetime.fromisoformat(logged) if isinstance(logged, str) else logged
        queued_at = datetime.fromisoformat(queued) if isinstance(queued, str) else queued
        seconds = (
            None
            if queued_at is None
            else max(-(2**31 - 1), min(2**31 - 1, int((logged_at - queued_at).total_seconds())))
        )
        text = (rcpt or "").strip()
        local = text.rpartition("@")[0] if "@" in text else text
        connection.execute(
            record.insert()
            .prefix_with("OR IGNORE")
            .values(
                time_logged=logged,
                record_key=number - (1 << 64) if number >= 1 << 63 else number,
                outcome_id=intern("accounting_outcome", value_digest(tuple(outcome.values())), outcome),
                route_id=intern("accounting_route", value_digest(("route", *route.values())), route),
                domain_id=intern(
                    "accounting_domain", value_digest(("domain", rcpt_domain)), {"name": rcpt_domain}
                ),
                queued_seconds=seconds,
                rcpt_local=local[:320],
            )
        )
    op.execute("DROP TABLE accounting_record_legacy")
    with op.batch_alter_table("dead_letter") as batch:
        batch.drop_constraint("uq_dead_letter_dedupe_key", type_="unique")
        batch.create_unique_constraint("uq_dead_letter_dedupe_key", ["dedupe_key", "created_at"])


def upgrade() -> None:
    _dictionaries()
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        _upgrade_postgresql(connection)
    else:
        _upgrade_sqlite(connection)


def downgrade() -> None:
    raise NotImplementedError(
        "feedback_0002 keeps 64 bits of each record key and one copy of each repeated value; the "
        "earlier form cannot be rebuilt from it. Restore a backup taken before the upgrade instead."
    )
