"""Outbox sender for kind ``alert``: every configured destination gets each alert exactly once.

Destinations: Telegram (``TELEGRAM_BOT_TOKEN`` + ``TELEGRAM_CHAT_ID``, ``TELEGRAM_API_URL``) and
each of ``ALERT_APPRISE_URLS``. A destination that took an event is recorded in
``alert_delivery`` at once, so when another destination fails and the event is retried, only the
missing destinations are tried again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.integrations.alerts.destinations import (
    AppriseDestination,
    Delivery,
    Destination,
    TelegramDestination,
)
from email_engine.integrations.alerts.message import read_message
from email_engine.integrations.alerts.models import AlertDelivery
from email_engine.integrations.alerts.service import ALERT_KIND, raise_alert, resolve_alert
from email_engine.integrations.alerts.settings import AlertSettings
from email_engine.outbox.contract import DeadEventsWatcher, Sender, SendResult
from email_engine.outbox.models import OutboxEvent
from email_engine.platform.upsert import insert_for

__all__ = [
    "DESTINATIONS",
    "ON_DEAD_EVENTS",
    "SENDERS",
    "alert_dead_events",
    "configured_destinations",
    "send_alerts",
]

log = structlog.get_logger("email_engine.alerts")

NO_DESTINATION = (
    "No alert destination is configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, or ALERT_APPRISE_URLS, "
    "then retry the event (POST /api/v1/outbox/{id}/retry)."
)


def configured_destinations(ctx: AppContext, client: httpx.Client) -> tuple[list[Destination], list[str]]:
    """The destinations, and sentences about half-configured ones."""
    settings = ctx.settings
    alert_settings = ctx.settings.section(AlertSettings)
    destinations: list[Destination] = []
    problems: list[str] = []
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    chat = settings.telegram_chat_id or ""
    if token and chat:
        destinations.append(
            TelegramDestination(
                api_url=settings.telegram_api_url,
                token=token,
                chat_id=chat,
                instance=alert_settings.instance_name,
                timeout=alert_settings.send_timeout_seconds,
                client=client,
            )
        )
    elif token or chat:
        problems.append(
            "Telegram needs both TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID; one of them is missing."
        )
    for url in alert_settings.apprise_urls:
        destinations.append(
            AppriseDestination(
                url, instance=alert_settings.instance_name, timeout=alert_settings.send_timeout_seconds
            )
        )
    return destinations, problems


def _delivered(ctx: AppContext, event_ids: list[int]) -> set[tuple[int, str]]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(AlertDelivery.event_id, AlertDelivery.destination).where(
                AlertDelivery.event_id.in_(event_ids)
            )
        ).all()
    return {(event_id, destination) for event_id, destination in rows}


def _record(session: Session, event_id: int, destination: str) -> None:
    session.execute(
        insert_for(session, AlertDelivery)
        .values(event_id=event_id, destination=destination, delivered_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id", "destination"])
    )


def send_alerts(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    with httpx.Client() as client:
        destinations, problems = configured_destinations(ctx, client)
        if not destinations:
            error = " ".join([*problems, NO_DESTINATION])
            return [SendResult(event.id, ok=False, error=error, retryable=False) for event in events]
        done = _delivered(ctx, [event.id for event in events])
        broken: dict[str, Delivery] = {}  # destinations that failed retryably in this batch
        results: list[SendResult] = []
        for event in events:
            message = read_message(event.payload)
            failures: list[Delivery] = []
            for destination in destinations:
                if (event.id, destination.name) in done:
                    continue
                delivery = broken.get(destination.name) or destination.send(message)
                if delivery.ok:
                    with session_scope(ctx.session_factory) as session:
                        _record(session, event.id, destination.name)
                    log.info("alert_sent", key=message.key, state=message.state, destination=destination.name)
                    continue
                failures.append(delivery)
                if delivery.retryable:
                    broken[destination.name] = delivery  # do not hammer a peer that is down
            if failures:
                results.append(
                    SendResult(
                        event.id,
                        ok=False,
                        error="; ".join(f.error or "failed" for f in failures),
                        retryable=any(f.retryable for f in failures),
                    )
                )
            else:
                results.append(SendResult(event.id, ok=True))
        return results


def alert_dead_events(session: Session, dead_by_destination: Mapping[str, int], now: datetime) -> None:
    """Raise (deduplicated) or resolve one alert per outbox destination from its dead events."""
    for name, dead in dead_by_destination.items():
        key = f"outbox_dead:{name}"
        if dead:
            raise_alert(
                session,
                key=key,
                severity="warning",
                title=f"{dead} outbox events for {name} are dead",
                text=(
                    f"{dead} events for {name} gave up after their retries (GET /api/v1/outbox "
                    "shows why). They are sent again by themselves once the peer answers; to retry now: "
                    f"POST /api/v1/outbox/retry?destination={name}&state=dead or "
                    "`email-engine outbox retry --all`."
                ),
                now=now,
            )
        else:
            resolve_alert(session, key=key, now=now)


SENDERS: dict[str, Sender] = {ALERT_KIND: send_alerts}
ON_DEAD_EVENTS: DeadEventsWatcher = alert_dead_events
#: No probe: dead alerts come back with the next alert that gets through.
DESTINATIONS = {"alerts": (ALERT_KIND,)}
