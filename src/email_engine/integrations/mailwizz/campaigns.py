"""Pause MailWizz campaigns through its API, never unpause one.

MailWizz's only pause endpoint, ``PUT campaigns/{uid}/pause-unpause``, *toggles*
(``Campaign::pauseUnpause()``, apps/common/models/Campaign.php: a ``paused`` campaign is unpaused,
any other is paused when ``getCanBePaused()``: ``sending``, ``processing`` or ``pending-sending``).
So every pause here reads the campaign first (``GET campaigns/{uid}``) and calls the toggle only
when MailWizz says the campaign can be paused; a campaign already ``paused`` (by the engine on an
earlier run, or by hand) is never touched. After the toggle the answer's status must be ``paused``;
if MailWizz answers otherwise (someone paused it between the read and the toggle, so the toggle
unpaused it), the campaign is read again and paused once more.

Failed pauses (API unreachable, 5xx) are queued in the outbox (kind ``mailwizz_campaign_pause``)
and retried with backoff by the outbox worker, with the same read-first rule; the retry stops once
the operator resolved the traffic hold that asked for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import structlog
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.mailwizz.api import check_campaign_uid
from email_engine.integrations.mailwizz.database import PAUSABLE_CAMPAIGN_STATUSES
from email_engine.outbox.service import enqueue_event

__all__ = [
    "CAMPAIGN_PAUSE_KIND",
    "CampaignApi",
    "CampaignPause",
    "enqueue_campaign_pause",
    "pause_campaign",
    "pause_campaigns",
    "read_pause_payload",
]

log = structlog.get_logger(__name__)

CAMPAIGN_PAUSE_KIND = "mailwizz_campaign_pause"

PauseOutcome = Literal["paused", "not-pausable", "not-found", "failed"]


class CampaignApi(Protocol):
    """What pausing needs from :class:`~email_engine.integrations.mailwizz.api.MailwizzApi`."""

    def campaign_status(self, campaign_uid: str) -> str | None: ...

    def pause_unpause(self, campaign_uid: str) -> str | None: ...


@dataclass(frozen=True)
class CampaignPause:
    """``paused``: paused now by this call; ``not-pausable``: MailWizz says it cannot be paused
    (already ``paused``, ``sent``, ``blocked``…; ``status`` says which); ``not-found``: MailWizz
    answered 404 (deleted, or not the API key's customer's); ``failed``: see ``error`` (retryable
    unless ``retryable`` is False)."""

    campaign_uid: str
    outcome: PauseOutcome
    status: str | None = None
    error: str | None = None
    retryable: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_uid": self.campaign_uid,
            "outcome": self.outcome,
            "status": self.status,
            **({"error": self.error} if self.error else {}),
        }


def pause_campaign(api: CampaignApi, campaign_uid: str) -> CampaignPause:
    """Pause one campaign if (and only if) MailWizz says it can be paused; never unpause it."""
    try:
        uid = check_campaign_uid(campaign_uid)
        toggled = False
        for _attempt in range(2):
            status = api.campaign_status(uid)
            if status is None:
                return CampaignPause(uid, "not-found")
            if status not in PAUSABLE_CAMPAIGN_STATUSES:
                # Left alone. After a toggle whose answer was not "paused", this second read says
                # where the campaign ended up: paused (fine) or something MailWizz cannot pause.
                outcome: PauseOutcome = "paused" if toggled and status == "paused" else "not-pausable"
                return CampaignPause(uid, outcome, status)
            after = api.pause_unpause(uid)
            if after is None:
                return CampaignPause(uid, "not-found")
            if after == "paused":
                log.warning("mailwizz.campaign_paused", campaign_uid=uid, was=status)
                return CampaignPause(uid, "paused", after)
            toggled = True
        return CampaignPause(uid, "failed", status, error="MailWizz did not keep the campaign paused")
    except DependencyUnavailable as exc:
        return CampaignPause(campaign_uid, "failed", error=exc.detail, retryable=True)
    except (InvalidInput, ConfigurationError) as exc:
        # A bad uid or refused credentials: retrying the same call cannot help by itself, but the
        # operator may fix the key; the caller decides (the outbox keeps credential failures queued).
        return CampaignPause(campaign_uid, "failed", error=exc.detail, retryable=False)


def pause_campaigns(api: CampaignApi, campaign_uids: Sequence[str]) -> list[CampaignPause]:
    """Pause each in turn. Once MailWizz does not answer (unreachable, timed out, 5xx), the rest are
    not tried: they fail with the same reason (and are retried later), so a hanging MailWizz costs one
    timeout, not one per campaign."""
    results: list[CampaignPause] = []
    down: CampaignPause | None = None
    for uid in campaign_uids:
        if down is not None:
            results.append(CampaignPause(uid, "failed", error=down.error, retryable=True))
            continue
        result = pause_campaign(api, uid)
        if result.outcome == "failed" and result.retryable and result.status is None:
            down = result
        results.append(result)
    return results


def enqueue_campaign_pause(
    session: Session, *, campaign_uids: Sequence[str], hold_id: int, address: str, now: datetime
) -> bool:
    """Queue the pauses that failed, for the outbox to retry (same read-first rule)."""
    payload = _payload(campaign_uids, hold_id, address)
    digest = hashlib.sha256(f"{hold_id}|{','.join(payload['campaign_uids'])}".encode()).hexdigest()
    return enqueue_event(
        session,
        kind=CAMPAIGN_PAUSE_KIND,
        payload=payload,
        idempotency_key=f"mailwizz-campaign-pause:{digest[:40]}",
        now=now,
    )


def _payload(campaign_uids: Sequence[str], hold_id: int, address: str) -> dict[str, Any]:
    uids = sorted({check_campaign_uid(str(uid)) for uid in campaign_uids})
    if not uids:
        raise InvalidInput("A campaign pause names at least one campaign.")
    if not isinstance(hold_id, int) or hold_id <= 0:
        raise InvalidInput("A campaign pause belongs to a traffic hold.")
    return {"campaign_uids": uids, "hold_id": hold_id, "address": str(address)[:64]}


def read_pause_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Check a stored payload again before acting on it (it came from the database)."""
    hold_id = payload.get("hold_id")
    return _payload(
        list(payload.get("campaign_uids", [])),
        hold_id if isinstance(hold_id, int) else 0,
        str(payload.get("address", "")),
    )
