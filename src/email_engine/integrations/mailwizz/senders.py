"""Outbox sender for kind ``mailwizz_suppression`` (see ``sync.py``). Campaign pauses
(``mailwizz_campaign_pause``) are sent by warmup, whose traffic holds decide whether they still apply."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.alerts.service import raise_alert
from email_engine.integrations.mailwizz.api import CredentialError, MailwizzApi, mask_email
from email_engine.integrations.mailwizz.health import CREDENTIALS_CHECK
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.integrations.mailwizz.sync import SYNC_KIND, read_payload
from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.models import OutboxEvent

__all__ = ["SENDERS", "send_suppressions"]

log = structlog.get_logger(__name__)


def send_suppressions(ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
    try:
        api = MailwizzApi.from_settings(ctx.settings.section(MailwizzSettings))
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
            except CredentialError as exc:
                # Every other event would be refused the same way: keep them queued (retryable) and
                # say so loudly; the health job resolves the alert once MailWizz accepts the key again.
                _alert_credentials(ctx, exc)
                results.extend(
                    SendResult(item.id, ok=False, error=exc.detail, retryable=True)
                    for item in events[len(results) :]
                )
                return results
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


def _alert_credentials(ctx: AppContext, exc: CredentialError) -> None:
    log.error("mailwizz.credentials_refused", error=exc.detail)
    with session_scope(ctx.session_factory) as session:
        raise_alert(
            session,
            key=f"health:{CREDENTIALS_CHECK}",
            severity="critical",
            title="MailWizz refuses the engine's API key",
            text=f"{exc.detail} Suppression syncs to MailWizz wait in the outbox until this is fixed.",
            now=utcnow(),
        )
