"""Outbox sender for kind ``mailwizz_suppression`` (see ``sync.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.mailwizz.api import MailwizzApi, mask_email
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.integrations.mailwizz.sync import SYNC_KIND, read_payload
from email_engine.ops.domain_settings import domain_settings
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent

__all__ = ["SENDERS", "send_suppressions"]

log = structlog.get_logger(__name__)


def send_suppressions(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    try:
        api = MailwizzApi.from_settings(ctx.settings, domain_settings(ctx, MailwizzSettings))
    except ConfigurationError as exc:
        # Dead-letter at once: retrying cannot help until the operator fixes the settings.
        return [SendResult(event.id, ok=False, error=exc.detail, retryable=False) for event in events]
    results: list[SendResult] = []
    with api:
        for event in events:
            try:
                payload = read_payload(event.payload)
                if payload["list_uids"]:
                    outcomes = [api.unsubscribe(uid, payload["email"]) for uid in payload["list_uids"]]
                    outcome = ",".join(outcomes)
                else:
                    outcome = "unsubscribed" if api.unsubscribe_everywhere(payload["email"]) else "not-found"
            except (InvalidInput, ConfigurationError) as exc:
                results.append(SendResult(event.id, ok=False, error=exc.detail, retryable=False))
                continue
            except DependencyUnavailable as exc:
                results.append(SendResult(event.id, ok=False, error=exc.detail, retryable=True))
                continue
            log.info(
                "mailwizz.suppression_synced",
                event_id=event.id,
                email=mask_email(payload["email"]),
                reason=payload["reason"],
                outcome=outcome,
            )
            results.append(SendResult(event.id, ok=True))
    return results


SENDERS: dict[str, Sender] = {SYNC_KIND: send_suppressions}
