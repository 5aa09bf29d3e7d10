"""Queue hard bounces and complaints for MailWizz (off unless ``MAILWIZZ_SYNC_SUPPRESSIONS=true``).

Producers (the feedback domain) call :func:`enqueue_suppression_sync` in their own transaction;
the outbox delivers the event later through ``senders.py`` (kind ``mailwizz_suppression``), with
retries and backoff, so an unreachable MailWizz never loses one.

What MailWizz gets: with ``list_uids``, the address is unsubscribed from those lists; without, it is
unsubscribed from every list of the API key's customer (MailWizz's documented
``unsubscribe-by-email-from-all-lists``). MailWizz's public API has no endpoint to add an address
to its blacklist, so "blacklist" here means unsubscribed everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from email_engine.errors import InvalidInput
from email_engine.integrations.mailwizz.api import check_email, check_list_uid
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.outbox.service import enqueue_event

__all__ = ["SYNC_KIND", "SyncReason", "enqueue_suppression_sync", "read_payload"]

SYNC_KIND = "mailwizz_suppression"
SyncReason = Literal["hard_bounce", "complaint"]
_REASONS = ("hard_bounce", "complaint")


def enqueue_suppression_sync(
    session: Session,
    *,
    settings: MailwizzSettings,
    email: str,
    reason: SyncReason,
    now: datetime,
    list_uids: Sequence[str] = (),
) -> bool:
    """Queue one address for MailWizz. False when syncing is off or the same sync is queued already."""
    if not settings.sync_suppressions:
        return False
    payload = _payload(email, reason, list_uids)
    digest = hashlib.sha256(
        f"{reason}|{payload['email']}|{','.join(payload['list_uids'])}".encode()
    ).hexdigest()
    return enqueue_event(
        session, kind=SYNC_KIND, payload=payload, idempotency_key=f"mailwizz-sync:{digest[:40]}", now=now
    )


def _payload(email: str, reason: str, list_uids: Sequence[str]) -> dict[str, Any]:
    if reason not in _REASONS:
        raise InvalidInput(f"A MailWizz sync reason is hard_bounce or complaint, not {reason!r}.")
    email = check_email(email.strip().lower())
    uids = sorted({check_list_uid(uid) for uid in list_uids})
    return {"email": email, "reason": reason, "list_uids": uids}


def read_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Check a stored payload again before acting on it (it came from the database)."""
    return _payload(
        str(payload.get("email", "")), str(payload.get("reason", "")), list(payload.get("list_uids", []))
    )
