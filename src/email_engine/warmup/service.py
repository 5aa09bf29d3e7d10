"""Warmup plans in the database: create, start, pause, resume, abort, current limits (the daily run is
:mod:`daily_run`; a plan row read as the planner's values, :mod:`stored_plan`).

Services flush; the router, CLI or job commits. ``now`` is always a parameter. MailWizz is reached
through the inventory's ``push_mailwizz_limits`` (recorded in ``actuation`` rows, retried by the next
run); pass ``mailwizz=None`` when the MailWizz database is not configured (pushes are skipped and the
summary says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput, NotFound
from email_engine.ips.actuation import ServerWriter, push_mailwizz_limits
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import SendingIp
from email_engine.warmup.gates import Gates
from email_engine.warmup.models import WarmupDay, WarmupPlan
from email_engine.warmup.plan import PRESETS, PlanSpec, PlanStatus, next_step, paused_state, resume_state
from email_engine.warmup.schedule import MAX_FIRST_DAY_VOLUME, ScheduleError
from email_engine.warmup.stored_plan import (
    VolumeLimit,
    limit_of,
    plan_limit,
    record_day,
    spec_of,
    state_of,
    store_state,
)

__all__ = [
    "abort_plan",
    "alert",
    "create_plan",
    "current_limits",
    "get_ip",
    "get_plan",
    "list_plans",
    "pause_plan",
    "plan_detail",
    "push_limits",
    "resume_plan",
    "start_plan",
    "transition",
    "unfinished_plans",
]

log = structlog.get_logger(__name__)

UNFINISHED = (PlanStatus.CREATED, PlanStatus.RUNNING, PlanStatus.PAUSED)


# --- create / read ------------------------------------------------------------------------------


def get_plan(session: Session, plan_id: int) -> WarmupPlan:
    plan = session.get(WarmupPlan, plan_id)
    if plan is None:
        raise NotFound(f"There is no warmup plan {plan_id}.")
    return plan


def get_ip(session: Session, ip_id: int) -> SendingIp:
    ip = session.get(SendingIp, ip_id)
    if ip is None:
        raise NotFound(f"There is no IP {ip_id}; add it to the inventory first (POST /api/v1/ips).")
    return ip


def create_plan(
    session: Session,
    *,
    ip_id: int,
    preset: str | None = None,
    schedule: Sequence[int] | None = None,
    gates: Mapping[str, Any] | None = None,
    provider_shares: Mapping[str, float] | None = None,
    active_hours: int | None = None,
    default_gates: Gates | None = None,
    proven_volume: int | None = None,
    actor: str,
    now: datetime,
) -> WarmupPlan:
    """A new plan for ``ip_id`` from a preset or a custom schedule, not started yet.

    ``proven_volume`` (failover only): a warm standby's takeover ramp may open at that volume.

    Raises ``InvalidInput`` (unknown preset, bad schedule or gate), ``NotFound`` (no such IP) or
    ``Conflict`` (the IP already has an unfinished plan, or is retired).
    """
    if (preset is None) == (schedule is None):
        raise InvalidInput('Give exactly one of "preset" or "schedule".')
    base: PlanSpec
    if preset is not None:
        if preset not in PRESETS:
            raise InvalidInput(f"Unknown preset {preset!r}; use one of: {', '.join(sorted(PRESETS))}.")
        base = PRESETS[preset].spec
    else:
        try:
            base = PlanSpec(
                curve=tuple(schedule or ()), max_opening=max(MAX_FIRST_DAY_VOLUME, proven_volume or 0)
            )
        except ScheduleError as exc:
            raise InvalidInput(str(exc)) from None
    gate_values = asdict(default_gates or Gates())
    known = {item.name for item in fields(Gates)}
    for key, value in (gates or {}).items():
        if key not in known:
            raise InvalidInput(f"Unknown gate {key!r}; known gates: {', '.join(sorted(known))}.")
        if value is not None:
            gate_values[key] = value
    try:
        spec = PlanSpec(
            curve=base.curve,
            gates=Gates(**gate_values),
            provider_shares=dict(provider_shares)
            if provider_shares is not None
            else dict(base.provider_shares),
            active_hours=active_hours if active_hours is not None else base.active_hours,
            max_opening=base.max_opening,
        )
    except ScheduleError as exc:
        raise InvalidInput(str(exc)) from None
    except TypeError as exc:
        raise InvalidInput(f"A gate has a value of the wrong type ({exc}).") from None

    ip = get_ip(session, ip_id)
    if ip.state == IpState.RETIRED.value:
        raise Conflict(f"IP {ip.address} is retired; reinstate it before planning a warmup.")
    busy = session.scalar(
        select(WarmupPlan.id).where(WarmupPlan.ip_id == ip.id, WarmupPlan.status.in_(UNFINISHED)).limit(1)
    )
    if busy is not None:
        raise Conflict(f"IP {ip.address} already has warmup plan {busy}; abort it before creating another.")
    plan = WarmupPlan(
        ip_id=ip.id,
        preset=preset,
        schedule=list(spec.curve),
        gates=asdict(spec.gates),
        provider_shares=dict(spec.provider_shares),
        active_hours=spec.active_hours,
        status=PlanStatus.CREATED.value,
        day_index=None,
        consecutive_failures=0,
        last_day=None,
        proven_volume=proven_volume,
        created_by=actor[:128],
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    log.info(
        "warmup.plan_created", plan_id=plan.id, ip_id=ip.id, preset=preset, days=len(spec.curve), actor=actor
    )
    return plan


def list_plans(
    session: Session, *, status: str | None = None, ip_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[WarmupPlan]]:
    query = select(WarmupPlan)
    if status is not None:
        allowed = [s.value for s in PlanStatus]
        if status not in allowed:
            raise InvalidInput(f"Unknown plan status {status!r}; use one of: {', '.join(allowed)}.")
        query = query.where(WarmupPlan.status == status)
    if ip_id is not None:
        query = query.where(WarmupPlan.ip_id == ip_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(WarmupPlan.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def plan_detail(session: Session, plan_id: int) -> dict[str, Any]:
    """The plan, its curve, where the IP is on it, and why each day advanced or held."""
    plan = get_plan(session, plan_id)
    ip = get_ip(session, plan.ip_id)
    days = session.scalars(
        select(WarmupDay).where(WarmupDay.plan_id == plan.id).order_by(WarmupDay.day)
    ).all()
    limit = limit_of(plan)
    return {
        "id": plan.id,
        "ip_id": ip.id,
        "ip_address": ip.address,
        "ip_state": ip.state,
        "preset": plan.preset,
        "status": plan.status,
        "status_reason": plan.status_reason,
        "curve": list(plan.schedule),
        "days_in_curve": len(plan.schedule),
        "day_number": None if plan.day_index is None else plan.day_index + 1,
        "today_limit": None if limit is None else {"daily": limit.daily, "hourly": limit.hourly},
        "consecutive_failures": plan.consecutive_failures,
        "gates": plan.gates,
        "provider_shares": plan.provider_shares,
        "active_hours": plan.active_hours,
        "created_by": plan.created_by,
        "created_at": plan.created_at,
        "started_at": plan.started_at,
        "paused_at": plan.paused_at,
        "ended_at": plan.ended_at,
        "days": [
            {
                "day": row.day,
                "day_number": None if row.day_index is None else row.day_index + 1,
                "daily_limit": row.daily_limit,
                "hourly_limit": row.hourly_limit,
                "provider_limits": row.provider_limits,
                "decision": row.decision,
                "reasons": row.reasons,
                "gates": row.gates,
                "results": row.results,
            }
            for row in days
        ],
    }


def unfinished_plans(session: Session, ip_ids: Sequence[int]) -> dict[int, WarmupPlan]:
    """The running or paused plan of each of these IPs (one query; the console's inventory page)."""
    if not ip_ids:
        return {}
    plans = session.scalars(
        select(WarmupPlan).where(
            WarmupPlan.ip_id.in_(list(ip_ids)),
            WarmupPlan.status.in_((PlanStatus.RUNNING.value, PlanStatus.PAUSED.value)),
        )
    )
    return {plan.ip_id: plan for plan in plans}


def current_limits(session: Session, *, now: datetime) -> dict[int, VolumeLimit]:
    """Today's warmup limits keyed by ``sending_ip.id`` (for the PowerMTA renderer).

    Running plans give their curve point; a paused plan gives ``VolumeLimit(0, 0)`` (send nothing:
    do not render a rate of 0, leave the VMTA out). IPs without an unfinished plan are not listed:
    their state decides (active = full volume; quarantined/resting/retired/standby = not sending).
    """
    del now  # limits change only when the daily run records a decision
    limits: dict[int, VolumeLimit] = {}
    plans = session.scalars(
        select(WarmupPlan).where(WarmupPlan.status.in_((PlanStatus.RUNNING.value, PlanStatus.PAUSED.value)))
    )
    for plan in plans:
        limits[plan.ip_id] = plan_limit(plan)
    return limits


# --- pushing to MailWizz --------------------------------------------------------------------------


def push_limits(
    session: Session,
    mailwizz: ServerWriter | None,
    ip: SendingIp,
    limit: VolumeLimit | None,
    now: datetime,
) -> dict[str, Any]:
    """Make MailWizz match the plan: explicit quotas + active while it sends, inactive when it must
    not (no limit, a limit of 0, an IP that is not warming/active, or an open traffic hold). A server
    is never made active without explicit non-zero quotas (MailWizz reads 0 as unlimited)."""
    if ip.mailwizz_server_id is None:
        return {"status": "skipped", "detail": "the IP has no MailWizz delivery-server id"}
    if mailwizz is None:
        return {"status": "skipped", "detail": "the MailWizz database is not configured (MAILWIZZ_DB_*)"}
    from email_engine.warmup.holds import open_hold

    sends = IpState(ip.state) in (IpState.WARMING, IpState.ACTIVE) and open_hold(session, ip.id) is None
    if sends and limit is not None and limit.daily > 0:
        hourly = max(1, min(limit.hourly, limit.daily))
        result = push_mailwizz_limits(
            session, mailwizz, ip=ip, hourly=hourly, daily=limit.daily, active=True, now=now
        )
    else:
        result = push_mailwizz_limits(
            session, mailwizz, ip=ip, hourly=None, daily=None, active=False, now=now
        )
    return {"status": result.status, "actuation_id": result.actuation_id, "error": result.error}


# --- state changes --------------------------------------------------------------------------------


def transition(
    session: Session, ip: SendingIp, to_state: IpState, *, reason: str, actor: str, now: datetime
) -> None:
    from email_engine.ips.service import transition_ip

    if ip.state != to_state.value:
        transition_ip(session, ip_id=ip.id, to_state=to_state, reason=reason, actor=actor, now=now)


AlertSeverity = Literal["info", "warning", "critical"]


def alert(
    session: Session, *, key: str, severity: AlertSeverity, title: str, text: str, now: datetime
) -> bool:
    """Queue an alert through the alerts domain (deduplicated by ``key``)."""
    from email_engine.integrations.alerts.service import raise_alert

    return raise_alert(session, key=key, severity=severity, title=title, text=text, now=now)


def start_plan(
    session: Session, *, plan_id: int, actor: str, now: datetime, mailwizz: ServerWriter | None
) -> tuple[WarmupPlan, dict[str, Any]]:
    """Start a created plan: the IP moves to ``warming``, day 1's limits are recorded and pushed."""
    plan = get_plan(session, plan_id)
    if plan.status != PlanStatus.CREATED:
        raise Conflict(f"Warmup plan {plan.id} is {plan.status}; only a created plan can be started.")
    ip = get_ip(session, plan.ip_id)
    from email_engine.reputation.service import listed_ips

    majors = sorted({item.zone for item in listed_ips(session).get(ip.address, []) if item.major})
    if majors:
        raise Conflict(
            f"IP {ip.address} is listed on {', '.join(majors)}; get it delisted before warming it up "
            "(mail from a listed IP is refused, and the warmup would only hold)."
        )
    _refuse_when_held(session, ip)
    transition(session, ip, IpState.WARMING, reason=f"warmup plan {plan.id} started", actor=actor, now=now)
    plan.status = PlanStatus.RUNNING.value
    plan.started_at = now
    plan.status_reason = None
    today = now.astimezone(UTC).date()
    step = next_step(spec_of(plan), state_of(plan), None, today)
    record_day(session, plan, step, today=today, results=None, now=now)
    push = push_limits(session, mailwizz, ip, limit_of(plan), now)
    log.info("warmup.plan_started", plan_id=plan.id, ip_id=ip.id, actor=actor)
    return plan, push


def _refuse_when_held(session: Session, ip: SendingIp) -> None:
    from email_engine.warmup.holds import open_hold

    hold = open_hold(session, ip.id)
    if hold is not None:
        raise Conflict(
            f"IP {ip.address} is stopped by traffic hold {hold.id} ({hold.cause} is the cause); fix the cause "
            f"and resolve the hold first (email-engine failover resolve {ip.address} --note …)."
        )


def _clean_reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    text = reason.strip()
    if len(text) > 500:
        raise InvalidInput("The reason is longer than 500 characters.")
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise InvalidInput("The reason contains control characters (such as newlines); use plain text.")
    return text


def pause_plan(
    session: Session,
    *,
    plan_id: int,
    reason: str | None,
    actor: str,
    now: datetime,
    mailwizz: ServerWriter | None,
) -> tuple[WarmupPlan, dict[str, Any]]:
    """Pause a running plan; the IP's MailWizz server goes inactive until a person resumes it."""
    reason = _clean_reason(reason)
    plan = get_plan(session, plan_id)
    try:
        state = paused_state(state_of(plan))
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    store_state(plan, state, now)
    plan.paused_at = now
    plan.status_reason = f"paused by {actor}" + (f": {reason}" if reason else "")
    session.flush()
    push = push_limits(session, mailwizz, get_ip(session, plan.ip_id), None, now)
    log.info("warmup.plan_paused", plan_id=plan.id, actor=actor)
    return plan, push


def resume_plan(
    session: Session, *, plan_id: int, actor: str, now: datetime, mailwizz: ServerWriter | None
) -> tuple[WarmupPlan, dict[str, Any]]:
    """Resume a paused plan a few points lower on the curve (never where it stopped)."""
    plan = get_plan(session, plan_id)
    try:
        state = resume_state(spec_of(plan), state_of(plan))
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    ip = get_ip(session, plan.ip_id)
    _refuse_when_held(session, ip)
    transition(session, ip, IpState.WARMING, reason=f"warmup plan {plan.id} resumed", actor=actor, now=now)
    store_state(plan, state, now)
    plan.paused_at = None
    plan.status_reason = f"resumed by {actor} at day {(state.day_index or 0) + 1}"
    session.flush()
    from email_engine.integrations.alerts.service import resolve_alert

    resolve_alert(session, key=f"warmup:plan:{plan.id}:paused", now=now)
    push = push_limits(session, mailwizz, ip, limit_of(plan), now)
    log.info("warmup.plan_resumed", plan_id=plan.id, day_index=state.day_index, actor=actor)
    return plan, push


def abort_plan(
    session: Session,
    *,
    plan_id: int,
    reason: str | None,
    actor: str,
    now: datetime,
    mailwizz: ServerWriter | None,
) -> tuple[WarmupPlan, dict[str, Any]]:
    """Abort an unfinished plan; a warming IP goes back to standby (cold) and stops sending."""
    reason = _clean_reason(reason)
    plan = get_plan(session, plan_id)
    if plan.status not in UNFINISHED:
        raise Conflict(f"Warmup plan {plan.id} is already {plan.status}.")
    plan.status = PlanStatus.ABORTED.value
    plan.ended_at = now
    plan.updated_at = now
    plan.status_reason = f"aborted by {actor}" + (f": {reason}" if reason else "")
    ip = get_ip(session, plan.ip_id)
    push: dict[str, Any] = {"status": "skipped", "detail": "the IP was not warming"}
    if ip.state == IpState.WARMING.value:
        transition(
            session, ip, IpState.STANDBY, reason=f"warmup plan {plan.id} aborted", actor=actor, now=now
        )
        push = push_limits(session, mailwizz, ip, None, now)
    session.flush()
    log.info("warmup.plan_aborted", plan_id=plan.id, actor=actor)
    return plan, push
