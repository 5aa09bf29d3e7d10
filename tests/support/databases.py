"""Throwaway databases: a SQLite file or a fresh PostgreSQL database per test run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from email_engine.db import Base
from email_engine.feedback.partitions import PARTITIONED, drop_partitions_before

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def backend() -> str:
    value = os.environ.get("TEST_DATABASE", "sqlite")
    if value not in ("sqlite", "postgresql"):
        raise RuntimeError("TEST_DATABASE must be sqlite or postgresql")
    return value


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    name = f"ee_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(directory: Path) -> Iterator[str]:
    if backend() == "postgresql":
        with throwaway_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{directory / 'test.db'}"


def _has_sqlite_sequence(conn: object) -> bool:
    return bool(
        conn.execute(  # type: ignore[attr-defined]
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
        ).first()
    )


def empty_all_tables(engine: Engine) -> None:
    """Delete every row and restart the id sequences (DELETE is ~10x quicker than TRUNCATE on tiny tables)."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        for name in reversed(tables):
            conn.execute(text(f'DELETE FROM "{name}"'))
        if engine.dialect.name == "postgresql":
            # Only the sequences this test used (last_value is NULL again after a RESTART).
            sequences = (
                conn.execute(
                    text(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
                    )
                )
                .scalars()
                .all()
            )
            for sequence in sequences:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            # Day partitions are made by the application, not by migrations: the next test (whichever module
            # it comes from, on this worker) starts without them.
            for table in PARTITIONED:
                drop_partitions_before(conn, table, date.max)
        elif _has_sqlite_sequence(conn):
            conn.execute(text("DELETE FROM sqlite_sequence"))
