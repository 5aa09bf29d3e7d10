"""An outbox sender that posts each batch to a local HTTP peer, like real senders do."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx

from email_engine.context import AppContext
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent


def http_sender(url: str) -> Sender:
    def send(_ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
        body = {"events": [{"key": e.idempotency_key, "payload": e.payload} for e in events]}
        try:
            response = httpx.post(url, json=body, timeout=5)
        except httpx.HTTPError as exc:
            return [
                SendResult(e.id, ok=False, error=f"peer unreachable: {type(exc).__name__}") for e in events
            ]
        if response.is_success:
            return [SendResult(e.id, ok=True) for e in events]
        retryable = response.status_code >= 500 or response.status_code == 429
        return [
            SendResult(e.id, ok=False, error=f"peer answered {response.status_code}", retryable=retryable)
            for e in events
        ]

    return send


Clock = Callable[[], object]
