"""The ``outbox`` job (on the scheduler leader, every few seconds; commits also wake it, see ``wakeup``):

1. destinations with dead events that an answering peer would take back are probed; those that answer
   get their dead events queued again (oldest first, same idempotency keys);
2. due events are delivered (a delivery that succeeds revives its destination's dead events too);
3. one alert per destination says how many events are dead, and is resolved once none are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.ops.domain_settings import domain_settings
from email_engine.outbox.delivery import drain, revive_destinations
from email_engine.outbox.destinations import destination_of
from email_engine.outbox.service import dead_counts, revivable_kinds
from email_engine.outbox.settings import OutboxSettings
from email_engine.platform.jobspec import JobSpec

__all__ = ["JOBS", "alert_dead_events", "probe_and_revive", "run_outbox"]

log = structlog.get_logger("email_engine.outbox")


def probe_and_revive(ctx: AppContext, settings: OutboxSettings) -> int:
    """Probe each destination holding revivable dead events; revive those whose peer answers."""
    with ctx.session_factory() as session:
        kinds = revivable_kinds(session, max_revivals=settings.max_revivals)
    revived = 0
    for destination in {destination_of(kind) for kind in kinds}:
        if destination.probe is None:
            continue  # revived by its next successful delivery only
        try:
            answers = destination.probe(ctx)
        except Exception as exc:  # a probe bug must not stop delivery
            log.warning("outbox_probe_failed", destination=destination.name, error=type(exc).__name__)
            continue
        if answers:
            revived += revive_destinations(
                ctx, kinds=destination.kinds, settings=settings, clock=utcnow, reason="the peer answers again"
            )
    return revived


def alert_dead_events(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Raise (deduplicated) or resolve one alert per destination from the dead events in the table."""
    from email_engine.integrations.alerts.service import raise_alert, resolve_alert

    with session_scope(ctx.session_factory) as session:
        dead: dict[str, int] = {}
        for kind, count in dead_counts(session).items():
            name = destination_of(kind).name
            dead[name] = dead.get(name, 0) + count
        known = {destination_of(kind).name for kind in _known_kinds()} | set(dead)
        for name in sorted(known):
            key = f"outbox_dead:{name}"
            if dead.get(name):
                raise_alert(
                    session,
                    key=key,
                    severity="warning",
                    title=f"{dead[name]} outbox events for {name} are dead",
                    text=(
                        f"{dead[name]} events for {name} gave up after their retries (GET /api/v1/outbox "
                        "shows why). They are sent again by themselves once the peer answers; to retry now: "
                        f"POST /api/v1/outbox/retry?destination={name}&state=dead or "
                        "`email-engine outbox retry --all`."
                    ),
                    now=now,
                )
            else:
                resolve_alert(session, key=key, now=now)
    return dead


def _known_kinds() -> set[str]:
    from email_engine.outbox.delivery import discover_senders

    return set(discover_senders())


def run_outbox(ctx: AppContext, now: datetime) -> dict[str, Any]:
    settings = domain_settings(ctx, OutboxSettings)
    revived = probe_and_revive(ctx, settings)
    report = drain(ctx, settings=settings, clock=utcnow)
    dead = alert_dead_events(ctx, now=now)
    return {**report.as_dict(), "revived": report.revived + revived, "dead_by_destination": dead}


JOBS = [
    JobSpec(
        name="outbox",
        run=run_outbox,
        interval_seconds=10,
        description="Deliver due outbox events (alerts, scraper-pro feedback) with retries and backoff; "
        "revive dead events when their peer answers again; alert on dead events.",
    )
]
