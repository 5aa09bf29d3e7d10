"""Outbox sender for kind ``mailwizz_campaign_pause``: the failover's campaign pauses that MailWizz
did not take at once (queued by ``integrations.mailwizz.campaigns``)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.errors import ConfigurationError, InvalidInput
from email_engine.integrations.mailwizz.api import MailwizzApi
from email_engine.integrations.mailwizz.campaigns import (
    CAMPAIGN_PAUSE_KIND,
    pause_campaigns,
    read_pause_payload,
)
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent
from email_engine.warmup.models import TrafficHold

__all__ = ["SENDERS", "send_campaign_pauses"]

# The logger name operators already filter on for MailWizz deliveries.
log = structlog.get_logger("email_engine.integrations.mailwizz.senders")


def send_campaign_pauses(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    """Retry pausing campaigns the failover job could not pause (read first; never unpause). An
    event whose traffic hold an operator resolved since is done without calling MailWizz."""
    try:
        api = MailwizzApi.from_settings(ctx.settings.section(MailwizzSettings))
    except ConfigurationError as exc:
        return [SendResult(event.id, ok=False, error=exc.detail, retryable=False) for event in events]
    results: list[SendResult] = []
    with api:
        for event in events:
            try:
                payload = read_pause_payload(event.payload)
            except InvalidInput as exc:
                results.append(SendResult(event.id, ok=False, error=exc.detail, retryable=False))
                continue
            with session_scope(ctx.session_factory) as session:
                hold = session.get(TrafficHold, payload["hold_id"])
                resolved = hold is None or hold.resolved_at is not None
            if resolved:
                log.info("mailwizz.campaign_pause_dropped", event_id=event.id, hold_id=payload["hold_id"])
                results.append(SendResult(event.id, ok=True))
                continue
            outcomes = pause_campaigns(api, payload["campaign_uids"])
            failed = [item for item in outcomes if item.outcome == "failed"]
            log.info(
                "mailwizz.campaign_pause_retried",
                event_id=event.id,
                outcomes={item.campaign_uid: item.outcome for item in outcomes},
            )
            if failed:
                results.append(
                    SendResult(
                        event.id,
                        ok=False,
                        error="; ".join(f"{item.campaign_uid}: {item.error}" for item in failed)[:1000],
                        retryable=True,
                    )
                )
            else:
                results.append(SendResult(event.id, ok=True))
    return results


SENDERS: dict[str, Sender] = {CAMPAIGN_PAUSE_KIND: send_campaign_pauses}
