"""Schema bases every domain's ``schemas.py`` builds on: request bodies, pages, bounded integers.

One whitespace rule for request bodies: :class:`StrictModel` takes strings as sent, so a name with a
trailing newline is refused by its pattern instead of being silently trimmed (a name may end up in a
PowerMTA configuration). A field that forgives surrounding spaces says so with :data:`Trimmed`.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["MAX_DB_INT", "OffsetQuery", "Page", "StrictModel", "Trimmed"]


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid")


#: A string with surrounding whitespace removed before its constraints are checked.
Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``, ``total`` over the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int


#: The largest integer PostgreSQL's bigint (and SQLite's INTEGER) holds: every integer the API passes
#: to the database is bounded by it, so an oversize value is a 422, not a database error.
MAX_DB_INT = 2**63 - 1
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_DB_INT, description="How many rows to skip.")]
