"""The shape of a periodic job, declared by a domain in its ``jobs.py`` as ``JOBS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_engine.context import AppContext


@dataclass(frozen=True, slots=True)
class JobSpec:
    """``run(ctx, now)`` does one idempotent pass and returns a small JSON-able summary."""

    name: str
    run: Callable[[AppContext, datetime], dict[str, Any]]
    interval_seconds: int
    description: str
    #: False for a job that only reads: evaluating it "as of" a time is allowed in production
    #: without --force (jobs change state unless they say otherwise).
    changes_state: bool = True
