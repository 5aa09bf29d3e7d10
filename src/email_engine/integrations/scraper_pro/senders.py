"""Outbox senders for scraper-pro: hard bounces and complaints, delivered counts per domain.

Events are queued by feedback ingestion (``email_engine.feedback.scraper_events``) in the same
transaction as the records they describe; the outbox worker hands them here in batches of one kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from email_engine.context import AppContext
from email_engine.feedback.records import split_address
from email_engine.feedback.scraper_events import BOUNCE_EVENT, DELIVERY_EVENT
from email_engine.feedback.settings import FeedbackSettings
from email_engine.integrations.scraper_pro.client import BatchOutcome, peer_answers, post_events
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent

__all__ = ["DESTINATIONS", "PROBES", "SENDERS", "probe", "send_bounces", "send_deliveries"]

log = structlog.get_logger("email_engine.scraper_pro")


def _missing_configuration(ctx: AppContext, *, kind: str, url: str | None) -> str | None:
    secret = ctx.settings.scraper_pro_hmac_secret
    if not url:
        name = "SCRAPER_PRO_BOUNCE_URL" if kind == BOUNCE_EVENT else "SCRAPER_PRO_DELIVERY_URL"
        return f"{name} is not set; events wait in the outbox until it is."
    if secret is None or not secret.get_secret_value():
        return "SCRAPER_PRO_HMAC_SECRET is not set; events wait in the outbox until it is."
    return None


def _log_sent(kind: str, event: OutboxEvent, items: Sequence[dict[str, Any]]) -> None:
    for item in items:
        if kind == BOUNCE_EVENT:
            _local, domain = split_address(str(item.get("email", "")))
            log.info(
                "bounce_forwarded",
                outbox_event_id=event.id,
                idempotency_key=item.get("idempotency_key"),
                rcpt_domain=domain,
                type=item.get("type"),
                category=item.get("category"),
                source_ip=item.get("source_ip"),
            )
        else:
            log.info(
                "delivery_forwarded",
                outbox_event_id=event.id,
                idempotency_key=item.get("idempotency_key"),
                domain=item.get("domain"),
                delivered=item.get("delivered"),
            )


def _items(kind: str, event: OutboxEvent) -> list[dict[str, Any]]:
    """The wire events an outbox row carries: a chunk of bounces, or one delivery count."""
    if kind == BOUNCE_EVENT:
        return list(event.payload.get("bounces", []))
    return [event.payload]


def _post(ctx: AppContext, kind: str, url: str, events: Sequence[OutboxEvent]) -> BatchOutcome:
    secret = ctx.settings.scraper_pro_hmac_secret
    assert secret is not None
    items = [item for event in events for item in _items(kind, event)]
    return post_events(
        url=url,
        secret=secret.get_secret_value(),
        kind=kind,
        events=items,
        timeout=ctx.settings.section(FeedbackSettings).scraper_pro_timeout_seconds,
    )


def _send(ctx: AppContext, events: Sequence[OutboxEvent], *, kind: str, url: str | None) -> list[SendResult]:
    problem = _missing_configuration(ctx, kind=kind, url=url)
    if problem is not None or url is None:
        return [SendResult(event_id=event.id, ok=False, error=problem, retryable=True) for event in events]
    # Bounce rows already hold up to 100 bounces each: one request per row. Delivery counts are
    # small: one request for the whole batch.
    groups = [[event] for event in events] if kind == BOUNCE_EVENT else [list(events)]
    results: list[SendResult] = []
    unreachable: str | None = None
    for group in groups:
        if unreachable is not None:  # the peer is down: do not wait on it once per row
            results += [SendResult(event_id=e.id, ok=False, error=unreachable, retryable=True) for e in group]
            continue
        outcome = _post(ctx, kind, url, group)
        if outcome.ok:
            for event in group:
                _log_sent(kind, event, _items(kind, event))
            results += [SendResult(event_id=event.id, ok=True) for event in group]
            continue
        log.warning(
            "scraper_pro_send_failed",
            kind=kind,
            outbox_events=len(group),
            error=outcome.error,
            retryable=outcome.retryable,
        )
        if outcome.unreachable:
            unreachable = outcome.error
        results += [
            SendResult(event_id=e.id, ok=False, error=outcome.error, retryable=outcome.retryable)
            for e in group
        ]
    return results


def send_bounces(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    return _send(ctx, events, kind=BOUNCE_EVENT, url=ctx.settings.scraper_pro_bounce_url)


def send_deliveries(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    return _send(ctx, events, kind=DELIVERY_EVENT, url=ctx.settings.scraper_pro_delivery_url)


SENDERS: dict[str, Sender] = {BOUNCE_EVENT: send_bounces, DELIVERY_EVENT: send_deliveries}


def probe(ctx: AppContext) -> bool:
    """scraper-pro answers again at every configured URL (the outbox then revives its dead events)."""
    secret = ctx.settings.scraper_pro_hmac_secret
    urls = {
        BOUNCE_EVENT: ctx.settings.scraper_pro_bounce_url,
        DELIVERY_EVENT: ctx.settings.scraper_pro_delivery_url,
    }
    configured = {kind: url for kind, url in urls.items() if url}
    if not configured or secret is None or not secret.get_secret_value():
        return False
    timeout = ctx.settings.section(FeedbackSettings).scraper_pro_timeout_seconds
    return all(
        peer_answers(url=url, secret=secret.get_secret_value(), kind=kind, timeout=timeout)
        for kind, url in configured.items()
    )


#: Both kinds go to the same peer: a delivery of either revives the other's dead events.
DESTINATIONS = {"scraper-pro": (BOUNCE_EVENT, DELIVERY_EVENT)}
PROBES = {"scraper-pro": probe}
