"""The failover job: apply :func:`email_engine.warmup.failover.decide_failover` to every active IP,
and walk quarantined IPs back through resting to a new warmup plan.

Every action goes through the inventory's lifecycle (``transition_ip``) and MailWizz adapter
(``push_mailwizz_limits``), is recorded in ``failover_event`` (one row per IP, day and action, so a
re-run the same day does nothing new) and is told to the operator through an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput
from email_engine.ips.actuation import ServerWriter
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import IpTransition, SendingIp
from email_engine.warmup import service
from email_engine.warmup.failover import (
    Candidate,
    FailoverAction,
    FailoverDecision,
    FailoverRules,
    ListedIp,
    decide_failover,
    is_warm,
    next_recovery_state,
)
from email_engine.warmup.models import FailoverEvent, WarmupPlan
from email_engine.warmup.plan import DayResult, hourly_limit
from email_engine.warmup.settings import WarmupSettings

__all__ = ["PRESET_FOR_PURPOSE", "list_failover_events", "rules_from_settings", "run_failover"]

log = structlog.get_logger(__name__)

ACTOR = "job:failover"
PRESET_FOR_PURPOSE = {"cold": "cold", "marketing": "standard", "transactional": "transactional"}
_TOOK_OVER = (FailoverAction.FAIL_OVER.value, FailoverAction.WARM_STANDBY.value)


@dataclass(frozen=True, slots=True)
class _Entry:
    """How and when an IP entered its current state."""

    from_state: str | None
    at: datetime | None


def rules_from_settings(settings: WarmupSettings) -> FailoverRules:
    return FailoverRules(
        max_hard_bounce_rate=settings.failover_max_hard_bounce_rate,
        max_complaint_rate=settings.failover_max_complaint_rate,
        block_spike_rate=settings.failover_block_spike_rate,
        min_blocks=settings.failover_min_blocks,
        standby_max_idle=timedelta(days=settings.standby_max_idle_days),
        rotation_cooldown=timedelta(days=settings.rotation_cooldown_days),
    )


def _entry(session: Session, ip_id: int) -> _Entry:
    last = session.scalar(
        select(IpTransition)
        .where(IpTransition.ip_id == ip_id)
        .order_by(IpTransition.at.desc(), IpTransition.id.desc())
        .limit(1)
    )
    return _Entry(None, None) if last is None else _Entry(last.from_state, last.at)


def _recent_results(session: Session, address: str, today: date) -> DayResult | None:
    """Yesterday and today so far, added up: a spike shows within the day, a quiet day still has data."""
    from email_engine.feedback.stats import daily_ip_results

    days = [
        daily_ip_results(session, ip_address=address, day=day) for day in (today - timedelta(days=1), today)
    ]
    total = DayResult(
        sent=sum(d.sent for d in days),
        delivered=sum(d.delivered for d in days),
        hard_bounces=sum(d.hard_bounces for d in days),
        soft_bounces=sum(d.soft_bounces for d in days),
        blocks=sum(d.blocks for d in days),
        complaints=sum(d.complaints for d in days),
        deferred=sum(d.deferred for d in days),
    )
    return total if total.sent or total.blocks or total.hard_bounces or total.complaints else None


def _provider_causes(session: Session, address: str, today: date) -> tuple[str, ...]:
    """What SNDS and Gmail say against the list (traps, complaints): reputation_signals decides."""
    from email_engine.reputation_signals.service import failover_list_causes
    from email_engine.reputation_signals.settings import get_signal_settings

    signals = get_signal_settings()
    return failover_list_causes(
        session, ip_address=address, today=today, rules=signals.rules, freshness_days=signals.freshness_days
    )


def _record(session: Session, decision: FailoverDecision, today: date, now: datetime) -> bool:
    """Store the event; False when the same action was already taken for this IP today."""
    exists = session.scalar(
        select(FailoverEvent.id).where(
            FailoverEvent.ip_id == decision.ip_id,
            FailoverEvent.day == today,
            FailoverEvent.action == decision.action.value,
        )
    )
    if exists is not None:
        return False
    session.add(
        FailoverEvent(
            ip_id=decision.ip_id,
            standby_ip_id=decision.standby_id,
            day=today,
            action=decision.action.value,
            reasons=list(decision.reasons),
            at=now,
        )
    )
    session.flush()
    return True


def _recent_group_failovers(session: Session, ip: SendingIp, since: datetime) -> int:
    group = select(SendingIp.id).where(SendingIp.id != ip.id)
    group = group.where(
        (SendingIp.pool_id == ip.pool_id) if ip.pool_id is not None else (SendingIp.purpose == ip.purpose)
    )
    return (
        session.scalar(
            select(func.count(func.distinct(FailoverEvent.ip_id))).where(
                FailoverEvent.ip_id.in_(group),
                FailoverEvent.action.in_(_TOOK_OVER),
                FailoverEvent.at >= since,
            )
        )
        or 0
    )


def _candidates(
    session: Session, rules: FailoverRules, now: datetime, listed: dict[str, list[Any]]
) -> list[Candidate]:
    """Standby IPs that could take over; a listed one never does."""
    standbys = session.scalars(select(SendingIp).where(SendingIp.state == IpState.STANDBY.value)).all()
    result = []
    for standby in standbys:
        if listed.get(standby.address):
            continue
        entry = _entry(session, standby.id)
        warm = is_warm(
            entered_standby_from=entry.from_state,
            entered_standby_at=entry.at,
            now=now,
            max_idle=rules.standby_max_idle,
        )
        result.append(Candidate(standby.id, standby.address, standby.purpose, standby.pool_id, warm))
    return result


def _quarantine(
    session: Session, ip: SendingIp, reasons: str, mailwizz: ServerWriter | None, now: datetime
) -> None:
    service.transition(session, ip, IpState.QUARANTINED, reason=reasons[:1000], actor=ACTOR, now=now)
    service.push_limits(session, mailwizz, ip, None, now)


def _start_warmup(
    session: Session,
    ip: SendingIp,
    *,
    why: str,
    mailwizz: ServerWriter | None,
    settings: WarmupSettings,
    now: datetime,
) -> int | None:
    """Create and start a warmup plan with the preset of the IP's purpose; None if one is unfinished."""
    busy = session.scalar(
        select(WarmupPlan.id)
        .where(WarmupPlan.ip_id == ip.id, WarmupPlan.status.in_(service.UNFINISHED))
        .limit(1)
    )
    if busy is not None:
        return None
    plan = service.create_plan(
        session,
        ip_id=ip.id,
        preset=PRESET_FOR_PURPOSE.get(ip.purpose, "cold"),
        default_gates=settings.default_gates(),
        actor=ACTOR,
        now=now,
    )
    plan.status_reason = why[:1000]
    service.start_plan(session, plan_id=plan.id, actor=ACTOR, now=now, mailwizz=mailwizz)
    return plan.id


def _apply(
    session: Session,
    decision: FailoverDecision,
    ip: SendingIp,
    *,
    mailwizz: ServerWriter | None,
    settings: WarmupSettings,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    text = "; ".join(decision.reasons)
    outcome: dict[str, Any] = {
        "ip_id": ip.id,
        "address": ip.address,
        "action": decision.action.value,
        "reasons": list(decision.reasons),
    }
    if decision.action is FailoverAction.REFUSED:
        _record(session, decision, today, now)
        service.alert(
            session,
            key=f"failover:refused:{ip.address}",
            severity="critical",
            title=f"Failover refused for {ip.address}: the list is the cause",
            text=text,
            now=now,
        )
        return outcome
    if not _record(session, decision, today, now):
        outcome["repeat"] = True
        return outcome
    _quarantine(session, ip, text, mailwizz, now)
    standby = session.get(SendingIp, decision.standby_id) if decision.standby_id is not None else None
    if decision.action is FailoverAction.FAIL_OVER and standby is not None:
        service.transition(
            session,
            standby,
            IpState.ACTIVE,
            reason=f"takes over from {ip.address}: {text}"[:1000],
            actor=ACTOR,
            now=now,
        )
        service.push_limits(
            session, mailwizz, standby, _full_volume(session, standby), now, keep_quotas_active=True
        )
        outcome["standby"] = standby.address
        severity: service.AlertSeverity = "warning"
    elif decision.action is FailoverAction.WARM_STANDBY and standby is not None:
        outcome["standby"] = standby.address
        outcome["plan_id"] = _start_warmup(
            session,
            standby,
            why=f"cold standby warming to replace {ip.address}",
            mailwizz=mailwizz,
            settings=settings,
            now=now,
        )
        severity = "warning"
    else:
        severity = "critical"
    service.alert(
        session,
        key=f"failover:{ip.address}",
        severity=severity,
        title=f"{ip.address} quarantined ({decision.action.value.replace('_', ' ')})",
        text=text,
        now=now,
    )
    log.info("failover.applied", ip_id=ip.id, action=decision.action.value, standby_id=decision.standby_id)
    return outcome


def _full_volume(session: Session, ip: SendingIp) -> service.VolumeLimit | None:
    """The last warmup plan's final point, the volume the IP was warmed to (None: leave quotas)."""
    plan = session.scalar(
        select(WarmupPlan)
        .where(WarmupPlan.ip_id == ip.id, WarmupPlan.status == "completed")
        .order_by(WarmupPlan.id.desc())
        .limit(1)
    )
    if plan is None:
        return None
    final = plan.schedule[-1]
    return service.VolumeLimit(daily=final, hourly=hourly_limit(final, plan.active_hours))


def _recover(
    session: Session,
    listed: dict[str, list[Any]],
    *,
    mailwizz: ServerWriter | None,
    settings: WarmupSettings,
    now: datetime,
    errors: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Quarantined IPs rest once delisted, then re-warm with a new plan (never straight to full volume)."""
    moves = []
    ips = session.scalars(
        select(SendingIp).where(SendingIp.state.in_((IpState.QUARANTINED.value, IpState.RESTING.value)))
    ).all()
    for ip in ips:
        entry = _entry(session, ip.id)
        if entry.at is None:
            continue
        target = next_recovery_state(
            state=ip.state,
            since=entry.at,
            now=now,
            still_listed=bool(listed.get(ip.address)),
            quarantine=timedelta(days=settings.quarantine_days),
            rest=timedelta(days=settings.rest_days),
        )
        try:
            with session.begin_nested():
                if target == IpState.RESTING.value:
                    service.transition(
                        session,
                        ip,
                        IpState.RESTING,
                        reason="quarantine over and delisted: resting",
                        actor=ACTOR,
                        now=now,
                    )
                    moves.append({"ip_id": ip.id, "to": "resting"})
                elif target == IpState.WARMING.value:
                    plan_id = _start_warmup(
                        session,
                        ip,
                        why="re-warming after quarantine and rest",
                        mailwizz=mailwizz,
                        settings=settings,
                        now=now,
                    )
                    moves.append({"ip_id": ip.id, "to": "warming", "plan_id": plan_id})
        except (Conflict, InvalidInput) as exc:
            errors.append({"ip_id": ip.id, "error": exc.detail})
            log.warning("failover.recovery_failed", ip_id=ip.id, error=exc.detail)
    return moves


def run_failover(
    session: Session, *, now: datetime, mailwizz: ServerWriter | None, settings: WarmupSettings
) -> dict[str, Any]:
    """One pass: check every active IP, act on listings and block spikes, move recovering IPs on."""
    from email_engine.reputation.service import listed_ips

    rules = rules_from_settings(settings)
    today = now.astimezone(UTC).date()
    listed = listed_ips(session)
    actions: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    active = session.scalars(
        select(SendingIp).where(SendingIp.state == IpState.ACTIVE.value).order_by(SendingIp.id)
    ).all()
    for ip in active:
        majors = tuple(sorted({item.zone for item in listed.get(ip.address, []) if item.major}))
        snapshot = ListedIp(
            ip.id,
            ip.address,
            ip.state,
            ip.purpose,
            ip.pool_id,
            majors,
            _recent_results(session, ip.address, today),
        )
        if not majors and snapshot.results is None:
            continue
        decision = decide_failover(
            snapshot,
            _candidates(session, rules, now, listed),
            rules,
            recent_failovers_in_group=_recent_group_failovers(session, ip, now - rules.rotation_cooldown),
            provider_causes=_provider_causes(session, ip.address, today),
        )
        if decision.action is FailoverAction.NONE:
            continue
        try:
            with session.begin_nested():
                actions.append(
                    _apply(session, decision, ip, mailwizz=mailwizz, settings=settings, today=today, now=now)
                )
        except (Conflict, InvalidInput) as exc:
            errors.append({"ip_id": ip.id, "error": exc.detail})
            log.warning("failover.failed", ip_id=ip.id, error=exc.detail)
    recovered = _recover(session, listed, mailwizz=mailwizz, settings=settings, now=now, errors=errors)
    log.info("failover.run", actions=len(actions), recovered=len(recovered))
    return {"day": today.isoformat(), "actions": actions, "recovered": recovered, "errors": errors}


def list_failover_events(
    session: Session, *, ip_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[FailoverEvent]]:
    query = select(FailoverEvent)
    if ip_id is not None:
        query = query.where(FailoverEvent.ip_id == ip_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(FailoverEvent.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)
