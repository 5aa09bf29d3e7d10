"""Pieces every domain CLI shares: the ``--json`` option and a context built from the settings."""

from __future__ import annotations

from typing import Annotated

import typer

from email_engine.config import get_settings
from email_engine.context import AppContext, build_context
from email_engine.logging import configure_logging

__all__ = ["JsonOption", "cli_context"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def cli_context() -> AppContext:
    """Settings, database engine and Redis for one command; logs go to stderr so ``--json`` output stays clean."""
    settings = get_settings()
    configure_logging(settings)
    return build_context(settings)
