"""``mailwizz-retry``: push again every MailWizz actuation that failed (peer down, row missing), and
pause again any server MailWizz set back to active after the engine paused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.ips.actuation import mailwizz_adapter, retry_failed_actuations, verify_paused_servers
from email_engine.platform.jobspec import JobSpec


def run_mailwizz_retry(ctx: AppContext, now: datetime) -> dict[str, Any]:
    adapter = mailwizz_adapter(ctx)
    if adapter is None:
        return {"skipped": "MAILWIZZ_DB_HOST is not set"}
    with session_scope(ctx.session_factory) as session:
        summary = dict(retry_failed_actuations(session, adapter, now=now))
        summary.update(
            {
                f"pauses_{key}": value
                for key, value in verify_paused_servers(session, adapter, now=now).items()
            }
        )
        return summary


JOBS = [
    JobSpec(
        name="mailwizz-retry",
        run=run_mailwizz_retry,
        interval_seconds=600,
        description="Retry MailWizz quota/status pushes that failed (visible at GET /api/v1/ips/{id}/actuation); "
        "drops those the IP has outgrown; pauses again a server MailWizz set back to active.",
    )
]
