"""Pause the MailWizz campaigns that were sending through an IP the failover job stopped (the list or
the content is the cause): found in MailWizz's database, paused through its API, audited; never
unpaused here. Nothing raises: what could not be paused is named for a pause by hand and queued in
the outbox for retries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import structlog
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError, DependencyUnavailable
from email_engine.ips.models import SendingIp
from email_engine.warmup.models import TrafficHold

if TYPE_CHECKING:
    from email_engine.integrations.mailwizz.campaigns import CampaignApi
    from email_engine.integrations.mailwizz.database import SendingCampaign

__all__ = ["CampaignFinder", "pause_campaigns_through"]

log = structlog.get_logger(__name__)


@runtime_checkable
class CampaignFinder(Protocol):
    """The MailWizz database adapter's campaign look-up (``MailwizzDatabase``)."""

    def campaigns_sending_through(self, server_id: int, since: datetime) -> list[SendingCampaign]: ...


def pause_campaigns_through(
    session: Session,
    ip: SendingIp,
    hold: TrafficHold,
    *,
    finder: CampaignFinder | None,
    api: CampaignApi | None,
    since: datetime,
    now: datetime,
    actor: str,
) -> tuple[dict[str, Any] | None, str]:
    """Pause the MailWizz campaigns that were sending through the stopped IP's delivery server
    (read from MailWizz's ``campaign_delivery_log``), through MailWizz's API; never unpause one.
    Returns what happened (for the job summary) and a sentence for the alert and the event. Nothing
    here raises: an unreachable MailWizz leaves the names in the alert for a pause by hand and the
    failed pauses queued in the outbox for retries. ``actor``: who the audit rows name."""
    from email_engine.integrations.mailwizz.campaigns import enqueue_campaign_pause, pause_campaigns

    if ip.mailwizz_server_id is None or finder is None:
        return None, ""
    try:
        found = finder.campaigns_sending_through(ip.mailwizz_server_id, since)
    except (DependencyUnavailable, ConfigurationError) as exc:
        log.warning("failover.campaigns_unknown", ip_id=ip.id, error=exc.detail)
        return {"error": exc.detail}, (
            "the MailWizz campaigns that were sending through it could not be read "
            f"({exc.detail}): pause them by hand in MailWizz"
        )
    if not found:
        return {"found": []}, ""
    uids = [campaign.campaign_uid for campaign in found]
    named = ", ".join(f"{campaign.campaign_uid} ({campaign.name[:60]})" for campaign in found)
    if api is None:
        return {"found": uids, "paused": [], "by_hand": uids}, (
            f"MailWizz's API is not configured: pause these campaigns by hand: {named}"
        )
    results = pause_campaigns(api, uids)
    paused = [item.campaign_uid for item in results if item.outcome == "paused"]
    failed = [item for item in results if item.outcome == "failed"]
    for item in results:
        if item.outcome == "paused":
            _audit_campaign_pause(session, item.campaign_uid, ip, hold, now, actor=actor)
    summary: dict[str, Any] = {
        "found": uids,
        "paused": paused,
        "results": [item.as_dict() for item in results],
    }
    parts = []
    if paused:
        parts.append(f"MailWizz campaigns paused through its API: {', '.join(paused)}")
    if failed:
        names = [item.campaign_uid for item in failed]
        summary["by_hand"] = names
        enqueue_campaign_pause(session, campaign_uids=names, hold_id=hold.id, address=ip.address, now=now)
        reason = failed[0].error or "no reason given"
        parts.append(
            f"MailWizz campaigns NOT paused ({reason}): pause them by hand: {', '.join(names)} "
            "(the outbox retries the pause)"
        )
    others = [f"{item.campaign_uid} is {item.status}" for item in results if item.outcome == "not-pausable"]
    if others:
        parts.append("left alone: " + ", ".join(others))
    return summary, "; ".join(parts)


def _audit_campaign_pause(
    session: Session, campaign_uid: str, ip: SendingIp, hold: TrafficHold, now: datetime, *, actor: str
) -> None:
    from email_engine.auth.roles import Role
    from email_engine.auth.service import Principal, record_audit

    record_audit(
        session,
        principal=Principal(kind="job", name=actor, role=Role.ADMIN),
        action="PUT",
        target=f"mailwizz:campaigns/{campaign_uid}/pause-unpause",
        status_code=200,
        client_address=None,
        now=now,
        details={"campaign_uid": campaign_uid, "ip": ip.address, "hold_id": hold.id, "to": "paused"},
    )
