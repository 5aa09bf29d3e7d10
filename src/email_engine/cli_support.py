"""Pieces every domain CLI shares: the ``--json`` option, the one way a command opens its context and
session, and tables that never cut a value."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from email_engine.config import get_settings
from email_engine.context import AppContext, build_context
from email_engine.db import session_scope
from email_engine.logging import configure_logging

__all__ = ["JsonOption", "cli_context", "cli_session", "whole_table"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@contextmanager
def cli_context() -> Iterator[AppContext]:
    """Settings, database engine and Redis for one command, closed when it ends (no pooled connection
    outlives it); logs go to stderr so ``--json`` output stays clean."""
    settings = get_settings()
    configure_logging(settings)
    ctx = build_context(settings)
    try:
        yield ctx
    finally:
        ctx.close()


@contextmanager
def cli_session() -> Iterator[tuple[AppContext, Session]]:
    """:func:`cli_context` with one session: committed when the block ends, rolled back when it raises
    (``typer.Exit`` included)."""
    with cli_context() as ctx, session_scope(ctx.session_factory) as session:
        yield ctx, session


def whole_table(*headers: str, whole: tuple[str, ...] = (), **options: object) -> Table:
    """A table whose cells are never cut ("203.0.1…" on an 80-column terminal): long cells fold onto the next
    line, and the ``whole`` columns (addresses, ids) are never even folded."""
    table = Table(**options)  # type: ignore[arg-type]
    for header in headers:
        if header in whole:
            table.add_column(header, no_wrap=True, overflow="ignore", min_width=len(header))
        else:
            table.add_column(header, overflow="fold")
    return table
