"""The ``outbox`` job (on the scheduler leader, every few seconds; commits also wake it, see ``wakeup``):

1. destinations with dead events that an answering peer would take back are probed; those that answer
   get their dead events queued again (oldest first, same idempotency keys);
2. due events are delivered (a delivery that succeeds revives its destination's dead events too);
3. the dead events per destination are handed to the ``ON_DEAD_EVENTS`` watchers of the senders
   modules (alerts raises one alert per destination, resolved once none are dead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.outbox.delivery import (
    discover_dead_event_watchers,
    discover_senders,
    drain,
    revive_destinations,
)
from email_engine.outbox.destinations import destination_of
from email_engine.outbox.service import dead_counts, revivable_kinds
from email_engine.outbox.settings import OutboxSettings
from email_engine.platform.jobspec import JobSpec

__all__ = ["JOBS", "probe_and_revive", "report_dead_events", "run_outbox"]

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


def report_dead_events(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Dead events per destination (those with none left out), told to every dead-events watcher."""
    with session_scope(ctx.session_factory) as session:
        dead: dict[str, int] = {}
        for kind, count in dead_counts(session).items():
            name = destination_of(kind).name
            dead[name] = dead.get(name, 0) + count
        known = {destination_of(kind).name for kind in discover_senders()} | set(dead)
        every = {name: dead.get(name, 0) for name in sorted(known)}
        for watch in discover_dead_event_watchers():
            watch(session, every, now)
    return dead


def run_outbox(ctx: AppContext, now: datetime) -> dict[str, Any]:
    settings = ctx.settings.section(OutboxSettings)
    revived = probe_and_revive(ctx, settings)
    report = drain(ctx, settings=settings, clock=utcnow)
    dead = report_dead_events(ctx, now=now)
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
