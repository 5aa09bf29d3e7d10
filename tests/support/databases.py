"""Throwaway databases: a SQLite file or a fresh PostgreSQL database per test run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from email_engine.db import Base

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


def empty_all_tables(engine: Engine) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                conn.execute(text(f'DELETE FROM "{name}"'))
