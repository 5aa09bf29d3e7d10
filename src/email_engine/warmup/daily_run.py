"""The daily warmup run: decide today for each running plan from yesterday's results (once per UTC
day), alert on pauses, step-backs and failing gates, and make MailWizz hold every unfinished plan's
limits. Flushes; the job or CLI commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput
from email_engine.ips.actuation import ServerWriter
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import SendingIp
from email_engine.warmup.gates import DayResult, Listing, complaint_pause
from email_engine.warmup.models import WarmupPlan
from email_engine.warmup.plan import Decision, PlanStatus, Step, next_step, paused_state
from email_engine.warmup.schedule import hourly_limit
from email_engine.warmup.service import alert, get_ip, push_limits, transition
from email_engine.warmup.stored_plan import (
    VolumeLimit,
    limit_of,
    record_day,
    spec_of,
    state_of,
    store_state,
)

if TYPE_CHECKING:
    from email_engine.reputation_signals.settings import SignalSettings

__all__ = ["ResultsReader", "make_results_reader", "run_warmup"]

log = structlog.get_logger(__name__)

JOB_ACTOR = "job:warmup"

# Gates whose failure raises a warning alert on the first failing day (the others hold quietly).
ALERTING_GATES = frozenset({"hard_bounce", "complaint", "volume_cap"})


ResultsReader = Callable[[Session, SendingIp, date, datetime | None], DayResult | None]


def make_results_reader(session: Session, signal_settings: SignalSettings) -> ResultsReader:
    """A reader of yesterday's counts (feedback ``daily_ip_results``) plus listings first seen since
    the plan started (reputation ``listed_ips``, read once per run).

    It returns None when nothing at all was recorded for the IP that day and it has no new listing.
    """
    from email_engine.feedback.stats import daily_ip_results
    from email_engine.reputation.service import listed_ips
    from email_engine.reputation_signals.service import warmup_provider_signals

    listed = listed_ips(session)

    def read(session: Session, ip: SendingIp, day: date, listed_since: datetime | None) -> DayResult | None:
        counts = daily_ip_results(session, ip_address=ip.address, day=day)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        listings = tuple(
            Listing(zone=item.zone, major=item.major)
            for item in listed.get(ip.address, [])
            if (listed_since is None or item.first_seen_at >= listed_since) and item.first_seen_at < end
        )
        values = (
            counts.sent,
            counts.hard_bounces,
            counts.soft_bounces,
            counts.blocks,
            counts.complaints,
            counts.deferred,
            counts.delivered,
        )
        signals = warmup_provider_signals(
            session,
            ip_address=ip.address,
            day=day,
            rules=signal_settings.rules,
            freshness_days=signal_settings.freshness_days,
        )
        if not any(values) and not listings and not signals:
            return None
        return DayResult(
            sent=counts.sent,
            delivered=counts.delivered,
            hard_bounces=counts.hard_bounces,
            soft_bounces=counts.soft_bounces,
            blocks=counts.blocks,
            complaints=counts.complaints,
            deferred=counts.deferred,
            new_listings=listings,
            provider_signals=signals,
        )

    return read


def _decide_today(
    session: Session, plan: WarmupPlan, ip: SendingIp, *, today: date, now: datetime, reader: ResultsReader
) -> Step:
    yesterday = today - timedelta(days=1)
    results = reader(session, ip, yesterday, plan.started_at)
    step = next_step(spec_of(plan), state_of(plan), results, today)
    record_day(session, plan, step, today=today, results=results, now=now)
    failed = {outcome.name for outcome in step.gates if not outcome.passed}
    if step.decision is Decision.PAUSE and plan.paused_at is None:
        plan.paused_at = now
        plan.status_reason = "; ".join(step.reasons)
        critical = results is not None and (
            any(x.major for x in results.new_listings)
            or complaint_pause(spec_of(plan).gates, results) is not None
        )
        alert(
            session,
            key=f"warmup:plan:{plan.id}:paused",
            severity="critical" if critical else "warning",
            title=f"Warmup of {ip.address} paused",
            text=f"Warmup plan {plan.id} for {ip.address} was paused on {today.isoformat()}: "
            + "; ".join(step.reasons),
            now=now,
        )
    elif step.decision is Decision.STEP_BACK:
        alert(
            session,
            key=f"warmup:plan:{plan.id}:stepped_back",
            severity="warning",
            title=f"Warmup of {ip.address} stepped back",
            text=f"Warmup plan {plan.id} for {ip.address} stepped back on {today.isoformat()}: "
            + "; ".join(step.reasons),
            now=now,
        )
    elif step.decision is Decision.HOLD and failed & ALERTING_GATES:
        # Hard bounces, complaints over Gmail's 0.1 % and a cap that does not hold are told on the
        # first day, not after the third.
        alert(
            session,
            key=f"warmup:plan:{plan.id}:gates",
            severity="warning",
            title=f"Warmup of {ip.address} holding: {', '.join(sorted(failed & ALERTING_GATES))}",
            text=f"Warmup plan {plan.id} for {ip.address} holds on {today.isoformat()}: "
            + "; ".join(step.reasons),
            now=now,
        )
    if step.decision in (Decision.ADVANCE, Decision.COMPLETE):
        from email_engine.integrations.alerts.service import resolve_alert

        resolve_alert(session, key=f"warmup:plan:{plan.id}:gates", now=now)
    if step.decision is Decision.COMPLETE:
        plan.ended_at = now
        plan.status_reason = "completed: the IP is warm"
        transition(
            session, ip, IpState.ACTIVE, reason=f"warmup plan {plan.id} completed", actor=JOB_ACTOR, now=now
        )
    session.flush()
    return step


def _pause_for_state(session: Session, plan: WarmupPlan, ip: SendingIp, now: datetime) -> None:
    """Someone moved the IP out of ``warming`` by hand: the plan stops pushing volume until resumed."""
    store_state(plan, paused_state(state_of(plan)), now)
    plan.paused_at = now
    plan.status_reason = (
        f"paused: the IP was moved to {ip.state} outside the plan; resume the plan to re-warm"
    )
    alert(
        session,
        key=f"warmup:plan:{plan.id}:paused",
        severity="warning",
        title=f"Warmup of {ip.address} paused",
        text=f"IP {ip.address} is {ip.state}, not warming, so warmup plan {plan.id} was paused.",
        now=now,
    )
    session.flush()


def run_warmup(
    session: Session,
    *,
    now: datetime,
    mailwizz: ServerWriter | None,
    signals: SignalSettings,
) -> dict[str, Any]:
    """One pass of the warmup job: decide today for each running plan (once per UTC day) and make
    MailWizz hold every unfinished plan's limits (idempotent; failed pushes are retried next pass)."""
    reader = make_results_reader(session, signals)
    today = now.astimezone(UTC).date()
    summary: dict[str, Any] = {
        "day": today.isoformat(),
        "decided": {},
        "pushed": 0,
        "push_failed": [],
        "push_skipped": 0,
        "errors": [],
    }
    plans = session.scalars(
        select(WarmupPlan)
        .where(WarmupPlan.status.in_((PlanStatus.RUNNING.value, PlanStatus.PAUSED.value)))
        .order_by(WarmupPlan.id)
    ).all()
    for plan in plans:
        ip = get_ip(session, plan.ip_id)
        limit: VolumeLimit | None
        try:
            with session.begin_nested():
                if plan.status == PlanStatus.RUNNING.value and ip.state != IpState.WARMING.value:
                    _pause_for_state(session, plan, ip, now)
                    summary["decided"][str(plan.id)] = "pause"
                if plan.last_day is None or plan.last_day < today:
                    step = _decide_today(session, plan, ip, today=today, now=now, reader=reader)
                    summary["decided"][str(plan.id)] = step.decision.value
                limit = limit_of(plan)
                if plan.status == PlanStatus.COMPLETED.value:
                    # The IP is active now: keep the final curve point as its quota.
                    final = plan.schedule[-1]
                    limit = VolumeLimit(daily=final, hourly=hourly_limit(final, plan.active_hours))
                push = push_limits(session, mailwizz, ip, limit, now)
        except (Conflict, InvalidInput, ValueError) as exc:
            detail = getattr(exc, "detail", str(exc))
            summary["errors"].append({"plan_id": plan.id, "error": detail})
            log.warning("warmup.plan_failed", plan_id=plan.id, error=detail)
            continue
        if push["status"] == "applied":
            summary["pushed"] += 1
        elif push["status"] == "failed":
            summary["push_failed"].append({"plan_id": plan.id, "ip_id": ip.id, "error": push["error"]})
        else:
            summary["push_skipped"] += 1
    log.info(
        "warmup.run",
        day=today.isoformat(),
        plans=len(plans),
        pushed=summary["pushed"],
        push_failed=len(summary["push_failed"]),
        errors=len(summary["errors"]),
    )
    return summary
