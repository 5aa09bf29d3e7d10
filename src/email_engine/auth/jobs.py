"""The ``auth_cleanup`` job: forget expired refresh tokens and login counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete

from email_engine.auth.models import LoginThrottle
from email_engine.auth.service import purge_expired_refresh_tokens
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.platform.jobspec import JobSpec


def run_cleanup(ctx: AppContext, now: datetime) -> dict[str, Any]:
    with session_scope(ctx.session_factory) as session:
        tokens = purge_expired_refresh_tokens(session, now=now)
        counters = session.execute(delete(LoginThrottle).where(LoginThrottle.expires_at < now))
        return {"refresh_tokens": tokens, "login_counters": int(getattr(counters, "rowcount", 0) or 0)}


JOBS = [
    JobSpec(
        name="auth_cleanup",
        run=run_cleanup,
        interval_seconds=3600,
        description="Delete expired refresh tokens and login attempt counters.",
    )
]
