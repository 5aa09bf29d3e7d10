"""Pushing an IP's limits and status to MailWizz, recorded in ``actuation`` rows.

One row per wanted state of one IP on one target: a push that fails leaves the row ``failed`` with
``last_error`` (visible at ``GET /api/v1/ips/{id}/actuation``), and the caller's next run retries
the same row (``attempts`` counts). Once ``applied``, later pushes of the same values re-check the
target (correcting drift from hand edits) and update the same row. New values supersede any
unfinished row (``superseded``) and start a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import (
    ConfigurationError,
    Conflict,
    DependencyUnavailable,
    EmailEngineError,
    InvalidInput,
    NotFound,
)
from email_engine.integrations.mailwizz.database import ServerUpdate
from email_engine.integrations.mailwizz.quota import DesiredServer, actuation_notes
from email_engine.ips.lifecycle import SENDING_STATES, IpState
from email_engine.ips.models import Actuation, SendingIp

__all__ = [
    "MAILWIZZ_ADAPTER_KEY",
    "ActuationResult",
    "ServerWriter",
    "list_actuations",
    "mailwizz_adapter",
    "pause_if_stopped",
    "pause_in_mailwizz",
    "push_mailwizz_limits",
    "retry_failed_actuations",
    "verify_paused_servers",
]

log = structlog.get_logger(__name__)

TARGET_MAILWIZZ = "mailwizz"
TARGETS = frozenset({TARGET_MAILWIZZ, "powermta"})
_UNFINISHED = ("pending", "failed")
MAILWIZZ_ADAPTER_KEY = "ips.mailwizz_adapter"


class ServerWriter(Protocol):
    """What :func:`push_mailwizz_limits` needs from the MailWizz adapter (``MailwizzDatabase``)."""

    def apply(self, server_id: int, desired: DesiredServer) -> ServerUpdate: ...


@dataclass(frozen=True)
class ActuationResult:
    """``status``: ``applied`` (MailWizz holds the values now), ``failed`` (see ``error``; retried by
    the next call), or ``skipped`` (the IP has no MailWizz server id; nothing recorded)."""

    status: Literal["applied", "failed", "skipped"]
    actuation_id: int | None = None
    changed: dict[str, list[Any]] = field(default_factory=dict)
    error: str | None = None


def push_mailwizz_limits(
    session: Session,
    mw_adapter: ServerWriter,
    *,
    ip: SendingIp,
    hourly: int | None,
    daily: int | None,
    active: bool,
    now: datetime,
) -> ActuationResult:
    """Make IP ``ip``'s MailWizz delivery server hold these quotas and status; record the outcome.

    ``hourly`` / ``daily``: messages (1..100,000,000) or None to leave that quota alone; ``active``:
    True sets the server ``active`` and needs both quotas (MailWizz reads a 0 left in place as
    unlimited), False ``inactive``. Raises ``InvalidInput`` (bad or missing quota) or
    ``Conflict`` (``active=True`` for an IP that is not warming/active) before anything is written
    anywhere. Peer trouble (database down, row missing, server disabled in MailWizz) does not
    raise: the row is ``failed`` with the reason and the result says so. Flushes; caller commits.
    """
    desired_server = DesiredServer(
        hourly_quota=hourly, daily_quota=daily, status="active" if active else "inactive"
    )
    if active and (hourly is None or daily is None):
        raise InvalidInput(
            f"IP {ip.address}: a MailWizz server is made active only with explicit hourly and daily quotas "
            "(a quota left as it is may be 0, which MailWizz reads as unlimited)."
        )
    if active and IpState(ip.state) not in SENDING_STATES:
        raise Conflict(
            f"IP {ip.address} is {ip.state}; its MailWizz server can be active only while the IP is "
            "warming or active."
        )
    if ip.mailwizz_server_id is None:
        return ActuationResult(status="skipped")
    desired = {"server_id": ip.mailwizz_server_id, **desired_server.as_dict()}
    row = _row_for(session, ip.id, desired, now)
    row.attempts += 1
    row.last_attempt_at = now
    try:
        update = mw_adapter.apply(ip.mailwizz_server_id, desired_server)
    except (DependencyUnavailable, NotFound, Conflict, ConfigurationError) as exc:
        return _failed(session, row, ip, exc)
    row.status = "applied"
    row.applied = {
        **update.server.as_dict(),
        "changed": update.changed,
        **actuation_notes(update.previous_status, update.changed, now),
    }
    row.applied_at = now
    row.last_error = None
    session.flush()
    log.info(
        "actuation.applied",
        target=TARGET_MAILWIZZ,
        ip_id=ip.id,
        server_id=ip.mailwizz_server_id,
        changed=update.changed,
        attempts=row.attempts,
    )
    return ActuationResult(status="applied", actuation_id=row.id, changed=update.changed)


def _row_for(session: Session, ip_id: int, desired: dict[str, Any], now: datetime) -> Actuation:
    latest = session.scalar(
        select(Actuation)
        .where(Actuation.ip_id == ip_id, Actuation.target == TARGET_MAILWIZZ)
        .order_by(Actuation.id.desc())
        .limit(1)
    )
    if latest is not None and latest.desired == desired and latest.status in (*_UNFINISHED, "applied"):
        return latest
    if latest is not None and latest.status in _UNFINISHED:
        latest.status = "superseded"
    row = Actuation(
        ip_id=ip_id,
        target=TARGET_MAILWIZZ,
        desired=desired,
        applied=None,
        status="pending",
        attempts=0,
        last_error=None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _failed(session: Session, row: Actuation, ip: SendingIp, exc: EmailEngineError) -> ActuationResult:
    row.status = "failed"
    row.last_error = exc.detail[:2000]
    session.flush()
    log.warning(
        "actuation.failed",
        target=TARGET_MAILWIZZ,
        ip_id=ip.id,
        server_id=ip.mailwizz_server_id,
        attempts=row.attempts,
        error=exc.code,
    )
    return ActuationResult(status="failed", actuation_id=row.id, error=exc.detail)


def list_actuations(
    session: Session, ip_id: int, *, target: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[Actuation]]:
    """Actuations of one IP, newest first."""
    query = select(Actuation).where(Actuation.ip_id == ip_id)
    if target is not None:
        query = query.where(Actuation.target == target)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Actuation.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def mailwizz_adapter(ctx: AppContext) -> ServerWriter | None:
    """The MailWizz database adapter of this context, or None when ``MAILWIZZ_DB_HOST`` is unset.

    Tests and embedding code may install their own under ``ctx.extras[MAILWIZZ_ADAPTER_KEY]``.
    """
    installed = ctx.extras.get(MAILWIZZ_ADAPTER_KEY)
    if installed is not None:
        return installed  # type: ignore[return-value]
    from email_engine.integrations.mailwizz.database import MailwizzDatabase
    from email_engine.integrations.mailwizz.settings import MailwizzSettings

    settings = ctx.settings.section(MailwizzSettings)
    if not settings.db_host:
        return None
    return MailwizzDatabase.from_settings(settings)


def pause_in_mailwizz(
    session: Session, mw_adapter: ServerWriter, *, ip: SendingIp, now: datetime
) -> ActuationResult:
    """Set the IP's delivery server inactive, leaving its quotas alone (recorded like any push)."""
    return push_mailwizz_limits(session, mw_adapter, ip=ip, hourly=None, daily=None, active=False, now=now)


def pause_if_stopped(
    session: Session, ctx: AppContext, *, ip: SendingIp, to_state: IpState, now: datetime
) -> dict[str, Any] | None:
    """After a transition: an IP that stops sending is paused in MailWizz at once, not at the next
    warmup run. Returns what happened (``status``, ``changed``, ``error``), or None when nothing was due.
    Commits the recorded actuation (the transition is committed already)."""
    if to_state in SENDING_STATES or ip.mailwizz_server_id is None:
        return None
    try:
        adapter = mailwizz_adapter(ctx)
    except ConfigurationError as exc:
        return {"status": "failed", "changed": {}, "error": exc.detail}
    if adapter is None:
        return None
    result = pause_in_mailwizz(session, adapter, ip=ip, now=now)
    session.commit()
    return {"status": result.status, "changed": result.changed, "error": result.error}


def retry_failed_actuations(
    session: Session, mw_adapter: ServerWriter, *, now: datetime, limit: int = 200
) -> dict[str, int]:
    """Push every ``failed`` MailWizz actuation again; drop those the IP has outgrown.

    A failed row is superseded instead of retried when the IP's MailWizz server id changed, or when
    it asked for ``active`` and the IP no longer sends (it was quarantined meanwhile).
    """
    summary = {"retried": 0, "applied": 0, "failed": 0, "superseded": 0}
    rows = session.scalars(
        select(Actuation)
        .where(Actuation.target == TARGET_MAILWIZZ, Actuation.status == "failed")
        .order_by(Actuation.id)
        .limit(limit)
    ).all()
    for row in rows:
        ip = session.get(SendingIp, row.ip_id)
        desired = row.desired
        active = desired.get("status") == "active"
        outgrown = (
            ip is None
            or ip.mailwizz_server_id != desired.get("server_id")
            or (active and IpState(ip.state) not in SENDING_STATES)
            # Made before every activation carried its quotas: never replayed.
            or (active and (desired.get("hourly_quota") is None or desired.get("daily_quota") is None))
        )
        if outgrown or ip is None:
            row.status = "superseded"
            summary["superseded"] += 1
            continue
        result = push_mailwizz_limits(
            session,
            mw_adapter,
            ip=ip,
            hourly=desired.get("hourly_quota"),
            daily=desired.get("daily_quota"),
            active=active,
            now=now,
        )
        summary["retried"] += 1
        summary["applied" if result.status == "applied" else "failed"] += 1
    session.flush()
    return summary


def verify_paused_servers(session: Session, mw_adapter: ServerWriter, *, now: datetime) -> dict[str, int]:
    """Check that every server the engine last paused is still paused; pause it again if not.

    MailWizz's ``setIsNotInUse()`` writes ``active`` over a pause made while the server was
    ``in-use`` (see ``integrations.mailwizz.quota``); this is the next run that catches it.
    """
    latest = (
        select(func.max(Actuation.id)).where(Actuation.target == TARGET_MAILWIZZ).group_by(Actuation.ip_id)
    )
    rows = session.scalars(
        select(Actuation).where(Actuation.id.in_(latest), Actuation.status == "applied")
    ).all()
    summary = {"checked": 0, "reapplied": 0, "failed": 0}
    for row in rows:
        ip = session.get(SendingIp, row.ip_id)
        if (
            row.desired.get("status") != "inactive"
            or ip is None
            or ip.mailwizz_server_id != row.desired.get("server_id")
        ):
            continue
        result = push_mailwizz_limits(
            session,
            mw_adapter,
            ip=ip,
            hourly=row.desired.get("hourly_quota"),
            daily=row.desired.get("daily_quota"),
            active=False,
            now=now,
        )
        summary["checked"] += 1
        if result.status == "failed":
            summary["failed"] += 1
        elif result.changed:
            summary["reapplied"] += 1
            log.warning(
                "actuation.pause_reverted",
                ip_id=ip.id,
                server_id=ip.mailwizz_server_id,
                changed=result.changed,
            )
    return summary
