"""Structured logging: key=value on a terminal, JSON lines under systemd (``LOG_FORMAT=json``)."""

from __future__ import annotations

import logging
import sys

import structlog

from email_engine.config import Settings


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """A logger on the ``sys.stderr`` of the moment (a CLI run inside a test swaps it, then closes its own)."""
    return structlog.PrintLogger(sys.stderr)


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
