"""The failover job: apply :func:`email_engine.warmup.failover.decide_failover` to every sending IP,
and walk quarantined IPs back through resting to a new warmup plan (never while a hold is open).

Every action goes through the inventory's lifecycle (``transition_ip``) and MailWizz adapter
(``push_mailwizz_limits``), is recorded in ``failover_event`` (one row per IP, day and action, so a
re-run the same day does nothing new) and is told to the operator through an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput
from email_engine.ips.actuation import ServerWriter
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import IpTransition, SendingIp
from email_engine.warmup import holds, service
from email_engine.warmup.campaign_pause import CampaignFinder, pause_campaigns_through
from email_engine.warmup.failover import (
    Candidate,
    FailoverAction,
    FailoverDecision,
    FailoverRules,
    ListedIp,
    decide_failover,
    is_warm,
    next_recovery_state,
    takeover_volume,
)
from email_engine.warmup.gates import DayResult
from email_engine.warmup.models import FailoverEvent, WarmupPlan
from email_engine.warmup.plan import PlanStatus
from email_engine.warmup.schedule import takeover_curve
from email_engine.warmup.settings import WarmupSettings

if TYPE_CHECKING:
    from email_engine.integrations.mailwizz.campaigns import CampaignApi
    from email_engine.reputation_signals.settings import SignalSettings

__all__ = ["PRESET_FOR_PURPOSE", "list_failover_events", "rules_from_settings", "run_failover"]

log = structlog.get_logger(__name__)

ACTOR = "job:failover"
PRESET_FOR_PURPOSE = {"cold": "cold", "marketing": "standard", "transactional": "transactional"}
_TOOK_OVER = (FailoverAction.FAIL_OVER.value, FailoverAction.WARM_STANDBY.value)


@dataclass(frozen=True, slots=True)
class _Entry:
    """How and when an IP entered its current state."""

    from_state: IpState | None
    at: datetime | None


def rules_from_settings(settings: WarmupSettings) -> FailoverRules:
    return FailoverRules(
        max_hard_bounce_rate=settings.failover_max_hard_bounce_rate,
        max_complaint_rate=settings.failover_max_complaint_rate,
        block_spike_rate=settings.failover_block_spike_rate,
        min_blocks=settings.failover_min_blocks,
        standby_max_idle=timedelta(days=settings.standby_max_idle_days),
        rotation_cooldown=timedelta(days=settings.rotation_cooldown_days),
        window_days=settings.failover_window_days,
    )


def _entry(session: Session, ip_id: int) -> _Entry:
    last = session.scalar(
        select(IpTransition)
        .where(IpTransition.ip_id == ip_id)
        .order_by(IpTransition.at.desc(), IpTransition.id.desc())
        .limit(1)
    )
    if last is None:
        return _Entry(None, None)
    return _Entry(IpState(last.from_state) if last.from_state else None, last.at)


def _day_result(session: Session, address: str, day: date) -> DayResult:
    from email_engine.feedback.stats import daily_ip_results

    d = daily_ip_results(session, ip_address=address, day=day)
    return DayResult(
        sent=d.sent,
        delivered=d.delivered,
        hard_bounces=d.hard_bounces,
        soft_bounces=d.soft_bounces,
        blocks=d.blocks,
        complaints=d.complaints,
        deferred=d.deferred,
    )


def _recent_results(session: Session, address: str, today: date) -> DayResult | None:
    """Yesterday and today so far, added up: a spike shows within the day, a quiet day still has data."""
    days = [_day_result(session, address, day) for day in (today - timedelta(days=1), today)]
    total = DayResult.total(days)
    return total if total.sent or total.blocks or total.hard_bounces or total.complaints else None


def _window(session: Session, address: str, until: date, days: int) -> tuple[DayResult, ...]:
    """One result per day of the window that led up to ``until`` (the listing's first day)."""
    return tuple(
        _day_result(session, address, until - timedelta(days=back)) for back in range(days - 1, -1, -1)
    )


def _daily_peak(session: Session, address: str, until: date, days: int) -> int:
    """The most the IP sent in one day over ``days`` days up to ``until``."""
    return max(
        (_day_result(session, address, until - timedelta(days=back)).sent for back in range(days)), default=0
    )


def _proven_volume(session: Session, ip: SendingIp, today: date, days: int) -> int:
    """What a standby has shown it can carry: its busiest day while it sent (within ``days``), or the
    final point of its last completed warmup plan, whichever is higher; 0 when it proved nothing."""
    plan = session.scalar(
        select(WarmupPlan)
        .where(WarmupPlan.ip_id == ip.id, WarmupPlan.status == PlanStatus.COMPLETED)
        .order_by(WarmupPlan.id.desc())
        .limit(1)
    )
    final = int(plan.schedule[-1]) if plan is not None else 0
    return max(final, _daily_peak(session, ip.address, today, days))


def _first_listed_day(listings: list[Any], majors: tuple[str, ...], today: date) -> date:
    seen = [item.first_seen_at for item in listings if item.zone in majors and item.first_seen_at is not None]
    return min(seen).astimezone(UTC).date() if seen else today


def _provider_causes(session: Session, address: str, today: date, signals: SignalSettings) -> tuple[str, ...]:
    """What SNDS and Gmail say against the list (traps, complaints): reputation_signals decides."""
    from email_engine.reputation_signals.service import failover_list_causes

    return failover_list_causes(
        session, ip_address=address, today=today, rules=signals.rules, freshness_days=signals.freshness_days
    )


def _record(session: Session, decision: FailoverDecision, today: date, now: datetime) -> FailoverEvent | None:
    """Store the event; None when the same action was already taken for this IP today."""
    exists = session.scalar(
        select(FailoverEvent.id).where(
            FailoverEvent.ip_id == decision.ip_id,
            FailoverEvent.day == today,
            FailoverEvent.action == decision.action.value,
        )
    )
    if exists is not None:
        return None
    event = FailoverEvent(
        ip_id=decision.ip_id,
        standby_ip_id=decision.standby_id,
        day=today,
        action=decision.action.value,
        reasons=list(decision.reasons),
        at=now,
    )
    session.add(event)
    session.flush()
    return event


def _recent_hops_in_pool(session: Session, ip: SendingIp, since: datetime) -> int:
    """Hand-overs within the cooldown that involved an IP of this pool, from it or to it: the
    cooldown follows the traffic, so a standby that took traffic over cannot hand it on."""
    if ip.pool_id is None:
        return 0
    pool = select(SendingIp.id).where(SendingIp.pool_id == ip.pool_id)
    return (
        session.scalar(
            select(func.count()).where(
                FailoverEvent.action.in_(_TOOK_OVER),
                FailoverEvent.at >= since,
                FailoverEvent.ip_id.in_(pool) | FailoverEvent.standby_ip_id.in_(pool),
            )
        )
        or 0
    )


def _candidates(
    session: Session, ip: SendingIp, rules: FailoverRules, now: datetime, listed: dict[str, list[Any]]
) -> list[Candidate]:
    """Standby IPs of the same pool that could take over; listed, blocked or held ones never do.
    A standby is warm only if it came from ``active``, is not idle too long and proved a volume."""
    if ip.pool_id is None:
        return []
    standbys = session.scalars(
        select(SendingIp).where(SendingIp.state == IpState.STANDBY.value, SendingIp.pool_id == ip.pool_id)
    ).all()
    today = now.astimezone(UTC).date()
    result = []
    for standby in standbys:
        if listed.get(standby.address) or holds.open_hold(session, standby.id) is not None:
            continue
        recent = _recent_results(session, standby.address, today)
        if (
            recent is not None
            and recent.blocks >= rules.min_blocks
            and recent.blocks > recent.sent * rules.block_spike_rate
        ):
            continue
        entry = _entry(session, standby.id)
        warm = is_warm(
            entered_standby_from=entry.from_state,
            entered_standby_at=entry.at,
            now=now,
            max_idle=rules.standby_max_idle,
        )
        if warm and _proven_volume(session, standby, today, rules.standby_max_idle.days) <= 0:
            warm = False
        result.append(Candidate(standby.id, standby.address, standby.purpose, standby.pool_id, warm))
    return result


def _stop(
    session: Session, ip: SendingIp, reasons: str, mailwizz: ServerWriter | None, now: datetime
) -> dict[str, Any]:
    """Stop the IP at once: its unfinished warmup plan ends, it is quarantined (PowerMTA renders it
    at rate 0) and its MailWizz delivery server is set inactive."""
    plan = session.scalar(
        select(WarmupPlan)
        .where(WarmupPlan.ip_id == ip.id, WarmupPlan.status.in_(service.UNFINISHED))
        .limit(1)
    )
    if plan is not None:
        plan.status = PlanStatus.ABORTED.value
        plan.ended_at = now
        plan.updated_at = now
        plan.status_reason = f"stopped by the failover job: {reasons}"[:1000]
    if ip.state != IpState.QUARANTINED.value:
        service.transition(session, ip, IpState.QUARANTINED, reason=reasons[:1000], actor=ACTOR, now=now)
    return service.push_limits(session, mailwizz, ip, None, now)


def _start_warmup(
    session: Session,
    ip: SendingIp,
    *,
    why: str,
    mailwizz: ServerWriter | None,
    settings: WarmupSettings,
    now: datetime,
    schedule: tuple[int, ...] | None = None,
    proven_volume: int | None = None,
) -> int | None:
    """Create and start a warmup plan (the preset of the IP's purpose, or ``schedule`` for a warm
    standby's takeover ramp); None if one is unfinished."""
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
        preset=None if schedule is not None else PRESET_FOR_PURPOSE.get(ip.purpose, "cold"),
        schedule=schedule,
        default_gates=settings.default_gates(),
        proven_volume=proven_volume,
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
    listed_day: date,
    today: date,
    now: datetime,
    campaigns_api: CampaignApi | None = None,
) -> dict[str, Any]:
    text = "; ".join(decision.reasons)
    outcome: dict[str, Any] = {
        "ip_id": ip.id,
        "address": ip.address,
        "action": decision.action.value,
        "reasons": list(decision.reasons),
    }
    event = _record(session, decision, today, now)
    if event is None:
        outcome["repeat"] = True
        return outcome
    recent_volume = _daily_peak(session, ip.address, listed_day, 7)
    outcome["mailwizz"] = _stop(session, ip, text, mailwizz, now)
    if decision.hold is not None:
        hold = holds.place_hold(
            session,
            ip,
            cause=decision.hold,
            trigger="blocks" if decision.action is FailoverAction.PAUSED else "listing",
            reasons=decision.reasons,
            now=now,
        )
        outcome["hold_id"] = hold.id
        since = min(listed_day, today) - timedelta(days=max(settings.failover_window_days - 1, 1))
        try:
            with session.begin_nested():
                campaigns, note = pause_campaigns_through(
                    session,
                    ip,
                    hold,
                    finder=mailwizz if isinstance(mailwizz, CampaignFinder) else None,
                    api=campaigns_api,
                    since=datetime.combine(since, datetime.min.time(), tzinfo=UTC),
                    now=now,
                    actor=ACTOR,
                )
        except Exception as exc:  # the IP's stop above must stand, whatever this meets
            log.exception("failover.campaign_pause_failed", ip_id=ip.id)
            campaigns = {"error": type(exc).__name__}
            note = (
                f"pausing the MailWizz campaigns that were sending through it failed ({type(exc).__name__}): "
                "pause them by hand in MailWizz"
            )
        if campaigns is not None:
            outcome["campaigns"] = campaigns
        if note:
            text += "; " + note
            event.reasons = [*event.reasons, note]
        refused = decision.action is FailoverAction.REFUSED
        service.alert(
            session,
            key=f"failover:{'refused' if refused else 'blocked'}:{ip.address}",
            severity="critical",
            title=f"{ip.address} stopped: the {'list' if refused else 'content'} is the cause; nothing moved "
            "to another IP",
            text=text,
            now=now,
        )
        log.warning("failover.stopped", ip_id=ip.id, action=decision.action.value, hold_id=hold.id)
        return outcome
    standby = session.get(SendingIp, decision.standby_id) if decision.standby_id is not None else None
    severity: service.AlertSeverity = "critical"
    if decision.action is FailoverAction.FAIL_OVER and standby is not None:
        proven = _proven_volume(session, standby, today, settings.standby_max_idle_days)
        start = takeover_volume(proven=proven, recent=recent_volume)
        outcome["standby"] = standby.address
        if start <= 0:
            outcome["detail"] = (
                f"{ip.address} sent nothing in the last 7 days: there is no traffic to hand over"
            )
            text += "; " + outcome["detail"]
        else:
            outcome["takeover_daily"] = start
            outcome["plan_id"] = _start_warmup(
                session,
                standby,
                why=f"warm standby taking over from {ip.address} at {start}/day (proven {proven}/day, "
                f"{ip.address} sent up to {recent_volume}/day), ramping to {recent_volume}/day under the gates",
                mailwizz=mailwizz,
                settings=settings,
                now=now,
                schedule=takeover_curve(start, max(start, recent_volume)),
                proven_volume=start,
            )
            text += f"; it takes over at {start}/day (its proven {proven}/day, {ip.address}'s recent {recent_volume}/day)"
            severity = "warning"
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
        if entry.at is None or holds.open_hold(session, ip.id) is not None:
            continue
        target = next_recovery_state(
            state=IpState(ip.state),
            since=entry.at,
            now=now,
            still_listed=bool(listed.get(ip.address)),
            quarantine=timedelta(days=settings.quarantine_days),
            rest=timedelta(days=settings.rest_days),
        )
        try:
            with session.begin_nested():
                if target == IpState.RESTING:
                    service.transition(
                        session,
                        ip,
                        IpState.RESTING,
                        reason="quarantine over and delisted: resting",
                        actor=ACTOR,
                        now=now,
                    )
                    moves.append({"ip_id": ip.id, "to": IpState.RESTING})
                elif target == IpState.WARMING:
                    plan_id = _start_warmup(
                        session,
                        ip,
                        why="re-warming after quarantine and rest",
                        mailwizz=mailwizz,
                        settings=settings,
                        now=now,
                    )
                    moves.append({"ip_id": ip.id, "to": IpState.WARMING, "plan_id": plan_id})
        except (Conflict, InvalidInput) as exc:
            errors.append({"ip_id": ip.id, "error": exc.detail})
            log.warning("failover.recovery_failed", ip_id=ip.id, error=exc.detail)
    return moves


def run_failover(
    session: Session,
    *,
    now: datetime,
    mailwizz: ServerWriter | None,
    settings: WarmupSettings,
    signals: SignalSettings,
    campaigns_api: CampaignApi | None = None,
) -> dict[str, Any]:
    """One pass: stop every sending (active or warming) IP that is listed on a major list or has a
    block spike, hand its traffic over only where the rules allow, move recovering IPs on. When the
    list or the content is the cause, the MailWizz campaigns that were sending through the IP are
    paused through ``campaigns_api`` (or named in the alert for a pause by hand)."""
    from email_engine.reputation.service import listed_ips

    rules = rules_from_settings(settings)
    today = now.astimezone(UTC).date()
    listed = listed_ips(session)
    actions: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    sending = session.scalars(
        select(SendingIp)
        .where(SendingIp.state.in_((IpState.ACTIVE.value, IpState.WARMING.value)))
        .order_by(SendingIp.id)
    ).all()
    for ip in sending:
        majors = tuple(sorted({item.zone for item in listed.get(ip.address, []) if item.major}))
        recent = _recent_results(session, ip.address, today)
        if not majors and recent is None:
            continue
        listed_day = _first_listed_day(listed.get(ip.address, []), majors, today)
        snapshot = ListedIp(
            ip.id,
            ip.address,
            IpState(ip.state),
            ip.purpose,
            ip.pool_id,
            majors,
            window=_window(session, ip.address, listed_day, rules.window_days) if majors else (),
            recent=recent,
        )
        decision = decide_failover(
            snapshot,
            _candidates(session, ip, rules, now, listed) if majors else [],
            rules,
            recent_hops_in_pool=_recent_hops_in_pool(session, ip, now - rules.rotation_cooldown),
            open_holds_in_pool=holds.open_holds_in_pool(session, ip.pool_id, exclude_ip=ip.id),
            provider_causes=_provider_causes(session, ip.address, today, signals) if majors else (),
        )
        if decision.action is FailoverAction.NONE:
            continue
        try:
            with session.begin_nested():
                actions.append(
                    _apply(
                        session,
                        decision,
                        ip,
                        mailwizz=mailwizz,
                        settings=settings,
                        listed_day=listed_day,
                        today=today,
                        now=now,
                        campaigns_api=campaigns_api,
                    )
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
