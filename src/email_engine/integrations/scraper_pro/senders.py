"""Outbox senders for scraper-pro: hard bounces and complaints, delivered counts per domain.

Events are queued by feedback ingestion (``email_engine.feedback.ingest``) in the same transaction
as the records they describe; the outbox worker hands them here in batches of one kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from email_engine.context import AppContext
from email_engine.feedback.ingest import BOUNCE_EVENT, DELIVERY_EVENT
from email_engine.feedback.records import split_address
from email_engine.feedback.settings import feedback_settings
from email_engine.integrations.scraper_pro.client import post_events
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent

__all__ = ["SENDERS", "send_bounces", "send_deliveries"]

log = structlog.get_logger("email_engine.scraper_pro")


def _send(ctx: AppContext, events: Sequence[OutboxEvent], *, kind: str, url: str | None) -> list[SendResult]:
    secret = ctx.settings.scraper_pro_hmac_secret
    if not url or secret is None or not secret.get_secret_value():
        missing = (
            "SCRAPER_PRO_HMAC_SECRET"
            if url
            else ("SCRAPER_PRO_BOUNCE_URL" if kind == BOUNCE_EVENT else "SCRAPER_PRO_DELIVERY_URL")
        )
        error = f"{missing} is not set; events wait in the outbox until it is."
        return [SendResult(event_id=event.id, ok=False, error=error, retryable=True) for event in events]
    timeout = feedback_settings(ctx).scraper_pro_timeout_seconds
    outcome = post_events(
        url=url,
        secret=secret.get_secret_value(),
        kind=kind,
        events=[event.payload for event in events],
        timeout=timeout,
    )
    if not outcome.ok:
        log.warning(
            "scraper_pro_send_failed",
            kind=kind,
            events=len(events),
            error=outcome.error,
            retryable=outcome.retryable,
        )
        return [
            SendResult(event_id=event.id, ok=False, error=outcome.error, retryable=outcome.retryable)
            for event in events
        ]
    for event in events:
        payload = event.payload
        if kind == BOUNCE_EVENT:
            _local, domain = split_address(str(payload.get("email", "")))
            log.info(
                "bounce_forwarded",
                event_id=event.id,
                idempotency_key=event.idempotency_key,
                rcpt_domain=domain,
                type=payload.get("type"),
                category=payload.get("category"),
                source_ip=payload.get("source_ip"),
            )
        else:
            log.info(
                "delivery_forwarded",
                event_id=event.id,
                idempotency_key=event.idempotency_key,
                domain=payload.get("domain"),
                delivered=payload.get("delivered"),
            )
    return [SendResult(event_id=event.id, ok=True) for event in events]


def send_bounces(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    return _send(ctx, events, kind=BOUNCE_EVENT, url=ctx.settings.scraper_pro_bounce_url)


def send_deliveries(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    return _send(ctx, events, kind=DELIVERY_EVENT, url=ctx.settings.scraper_pro_delivery_url)


SENDERS: dict[str, Sender] = {BOUNCE_EVENT: send_bounces, DELIVERY_EVENT: send_deliveries}
