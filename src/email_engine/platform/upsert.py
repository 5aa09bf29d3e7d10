"""``INSERT … ON CONFLICT`` for the two backends (PostgreSQL in production, SQLite embedded).

The dialect pick is written here once: :func:`insert_for` for a statement built per call,
:func:`dialect_insert` for one built once per backend and reused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import TableClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import functions

from email_engine.errors import ConfigurationError

__all__ = ["DialectInsert", "dialect_insert", "greatest", "insert_for", "is_postgres"]

#: An ``insert`` that has ``on_conflict_do_nothing`` / ``on_conflict_do_update`` and ``excluded``.
DialectInsert = postgresql.Insert | sqlite.Insert

#: A table or a mapped class.
Target = TableClause | type[Any]


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(dialect: str, target: Target) -> DialectInsert:
    """The ``insert`` of the backend called ``dialect`` (``postgresql`` or ``sqlite``)."""
    if dialect == "postgresql":
        return postgresql.insert(target)
    if dialect == "sqlite":
        return sqlite.insert(target)
    raise ConfigurationError(f"The database must be PostgreSQL or SQLite, not {dialect}.")


def insert_for(session: Session, target: Target) -> DialectInsert:
    """The ``insert`` of the session's backend."""
    return dialect_insert(session.get_bind().dialect.name, target)


def greatest(session: Session, *values: Any) -> Any:
    """Largest of the values (``greatest`` on PostgreSQL, the scalar ``max`` on SQLite)."""
    return functions.func.greatest(*values) if is_postgres(session) else functions.func.max(*values)
