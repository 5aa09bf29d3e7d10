"""Pieces every domain CLI shares: the ``--json`` option, a context built from the settings, and tables that
never cut a value."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from email_engine.config import get_settings
from email_engine.context import AppContext, build_context
from email_engine.logging import configure_logging

__all__ = ["JsonOption", "cli_context", "whole_table"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def cli_context() -> AppContext:
    """Settings, database engine and Redis for one command; logs go to stderr so ``--json`` output stays clean."""
    settings = get_settings()
    configure_logging(settings)
    return build_context(settings)


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
