"""The ``reputation-signals`` job: alerts from the providers' signals (deduplicated, resolved when clear).

- ``reputation:snds:<ip>``: SNDS RED / YELLOW, trap hits or a block for one of our IPs.
- ``reputation:gmail:<domain>``: Gmail spam rate at or over the hold level.
- ``dmarc:unknown-sources:<domain>``: unknown senders over DMARC_UNKNOWN_SOURCE_THRESHOLD messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.dmarc.models import DmarcRecord
from email_engine.dmarc.settings import DmarcSettings
from email_engine.platform.jobspec import JobSpec
from email_engine.reputation_signals import service
from email_engine.reputation_signals.decisions import (
    AlertText,
    SignalRules,
    gmail_alert,
    snds_alert,
    unknown_source_alert,
)
from email_engine.reputation_signals.settings import SignalSettings

__all__ = ["evaluate_alerts", "job_specs", "run_signals"]


def _apply(session: Session, key: str, alert: AlertText | None, now: datetime) -> str:
    from email_engine.integrations.alerts.service import raise_alert, resolve_alert

    if alert is None:
        return "resolved" if resolve_alert(session, key=key, now=now) else "clear"
    sent = raise_alert(session, key=key, severity=alert.severity, title=alert.title, text=alert.text, now=now)
    return "sent" if sent else "firing"


def evaluate_alerts(
    session: Session, *, now: datetime, rules: SignalRules, freshness_days: int, unknown_threshold: int
) -> dict[str, Any]:
    from email_engine.ips.lifecycle import IpState
    from email_engine.ips.models import SendingIp

    today = now.date()
    states: dict[str, str] = {}
    for address in session.scalars(select(SendingIp.address).where(SendingIp.state != IpState.RETIRED)):
        view = service.snds_view(session, address, day=today, freshness_days=freshness_days)
        states[f"reputation:snds:{address}"] = _apply(
            session, f"reputation:snds:{address}", snds_alert(view, rules) if view else None, now
        )
    for domain in service.our_domains(session):
        views = service.gmail_views(session, [domain], day=today, freshness_days=freshness_days)
        states[f"reputation:gmail:{domain}"] = _apply(
            session, f"reputation:gmail:{domain}", gmail_alert(views[0], rules) if views else None, now
        )
    latest = session.scalar(
        select(func.max(DmarcRecord.day)).where(DmarcRecord.day > today - timedelta(days=freshness_days + 2))
    )
    if latest is not None:
        flagged = {
            found.domain: unknown_source_alert(
                found.domain, found.day, found.sources, threshold=unknown_threshold
            )
            for found in service.unknown_sources(session, day=latest)
        }
        for domain in service.our_domains(session):
            key = f"dmarc:unknown-sources:{domain}"
            states[key] = _apply(session, key, flagged.get(domain), now)
    session.flush()
    return {"alerts": {key: state for key, state in states.items() if state != "clear"}}


def run_signals(ctx: AppContext, now: datetime) -> dict[str, Any]:
    options = ctx.settings.section(SignalSettings)
    threshold = ctx.settings.section(DmarcSettings).unknown_source_threshold
    with session_scope(ctx.session_factory) as session:
        return evaluate_alerts(
            session,
            now=now,
            rules=options.rules,
            freshness_days=options.freshness_days,
            unknown_threshold=threshold,
        )


def job_specs(settings: Settings) -> list[JobSpec]:
    return [
        JobSpec(
            name="reputation-signals",
            run=run_signals,
            interval_seconds=settings.section(SignalSettings).interval,
            description="Alert on SNDS RED/YELLOW/trap hits/blocks of our IPs, Gmail spam rates at or over the hold "
            "level, and unknown senders using our domains in DMARC reports; resolve each when it clears.",
        )
    ]
