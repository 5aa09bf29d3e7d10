"""Traffic holds: an IP stopped because the list or the content is the cause.

A hold is opened by the failover job (``failover_service``) and closed only by an operator
(:func:`resolve_hold`, from ``email-engine failover resolve`` or ``POST /api/v1/warmup/holds/{id}/resolve``,
audited). While it is open the IP sends nothing (MailWizz inactive, quarantined in the lifecycle so
PowerMTA renders it at rate 0), its warmup cannot start or resume, the recovery path does not
re-warm it, and no other IP of its pool takes traffic over. Later volume and time never close it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput, NotFound
from email_engine.ips.models import SendingIp
from email_engine.warmup.failover import HoldCause
from email_engine.warmup.models import TrafficHold

__all__ = ["get_hold", "list_holds", "open_hold", "open_holds_in_pool", "place_hold", "resolve_hold"]

log = structlog.get_logger(__name__)


def open_hold(session: Session, ip_id: int) -> TrafficHold | None:
    return session.scalar(
        select(TrafficHold)
        .where(TrafficHold.ip_id == ip_id, TrafficHold.resolved_at.is_(None))
        .order_by(TrafficHold.id)
        .limit(1)
    )


def open_holds_in_pool(session: Session, pool_id: int | None, *, exclude_ip: int) -> int:
    if pool_id is None:
        return 0
    return (
        session.scalar(
            select(func.count()).where(
                TrafficHold.pool_id == pool_id,
                TrafficHold.resolved_at.is_(None),
                TrafficHold.ip_id != exclude_ip,
            )
        )
        or 0
    )


def place_hold(
    session: Session, ip: SendingIp, *, cause: HoldCause, trigger: str, reasons: Sequence[str], now: datetime
) -> TrafficHold:
    """Open a hold on ``ip`` (or return the one already open: a hold is never replaced or diluted)."""
    existing = open_hold(session, ip.id)
    if existing is not None:
        return existing
    hold = TrafficHold(
        ip_id=ip.id,
        pool_id=ip.pool_id,
        cause=cause.value,
        trigger=trigger,
        reasons=list(reasons),
        opened_at=now,
    )
    session.add(hold)
    session.flush()
    log.warning("failover.hold_opened", ip_id=ip.id, hold_id=hold.id, cause=cause.value, trigger=trigger)
    return hold


def get_hold(session: Session, hold_id: int) -> TrafficHold:
    hold = session.get(TrafficHold, hold_id)
    if hold is None:
        raise NotFound(f"There is no traffic hold {hold_id}.")
    return hold


def list_holds(
    session: Session, *, open_only: bool = False, ip_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[TrafficHold]]:
    query = select(TrafficHold)
    if open_only:
        query = query.where(TrafficHold.resolved_at.is_(None))
    if ip_id is not None:
        query = query.where(TrafficHold.ip_id == ip_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(TrafficHold.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def resolve_hold(session: Session, *, hold_id: int, note: str, actor: str, now: datetime) -> TrafficHold:
    """An operator says the cause is fixed (the list cleaned, the content changed). The IP stays
    quarantined; from here the normal recovery applies (rest, then re-warm from day 1 once delisted).
    Raises ``InvalidInput`` (no note), ``NotFound``, ``Conflict`` (already resolved)."""
    text = note.strip()
    if not text:
        raise InvalidInput("Say what was fixed (--note): the hold records who resolved it and why.")
    if len(text) > 1000:
        raise InvalidInput("The note is longer than 1,000 characters.")
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise InvalidInput("The note contains control characters (such as newlines); use plain text.")
    hold = get_hold(session, hold_id)
    if hold.resolved_at is not None:
        raise Conflict(f"Traffic hold {hold.id} was already resolved by {hold.resolved_by}.")
    hold.resolved_at = now
    hold.resolved_by = actor[:128]
    hold.resolution = text
    session.flush()
    ip = session.get(SendingIp, hold.ip_id)
    if ip is not None:
        from email_engine.integrations.alerts.service import resolve_alert

        for key in (f"failover:refused:{ip.address}", f"failover:blocked:{ip.address}"):
            resolve_alert(session, key=key, now=now)
    log.info("failover.hold_resolved", hold_id=hold.id, ip_id=hold.ip_id, actor=actor)
    return hold
