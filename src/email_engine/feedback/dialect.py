"""``INSERT … ON CONFLICT`` for the two backends (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import functions

__all__ = ["greatest", "insert_for", "is_postgres"]


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_for(session: Session, table: Table) -> Any:
    """A dialect ``insert`` that has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return postgresql.insert(table) if is_postgres(session) else sqlite.insert(table)


def greatest(session: Session, *values: Any) -> Any:
    """Largest of the values (``greatest`` on PostgreSQL, the scalar ``max`` on SQLite)."""
    return functions.func.greatest(*values) if is_postgres(session) else functions.func.max(*values)
