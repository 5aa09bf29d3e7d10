"""A warmup plan's rows read as the planner's values and written back: its spec and state, today's
limit, and a decided day (a ``warmup_day`` row). Flushes; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import structlog
from sqlalchemy.orm import Session

from email_engine.warmup.gates import DayResult, Gates
from email_engine.warmup.models import WarmupDay, WarmupPlan
from email_engine.warmup.plan import PlanSpec, PlanState, PlanStatus, Step
from email_engine.warmup.schedule import MAX_FIRST_DAY_VOLUME, hourly_limit, provider_limits

__all__ = ["VolumeLimit", "limit_of", "plan_limit", "record_day", "spec_of", "state_of", "store_state"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VolumeLimit:
    """Messages per day and per hour an IP may send today (0 means: send nothing).

    ``providers``: per-provider daily caps (gmail, microsoft, yahoo, other…) for a renderer that can
    apply per-domain rates; empty when not applicable.
    """

    daily: int
    hourly: int
    providers: Mapping[str, int] = field(default_factory=dict)


def spec_of(plan: WarmupPlan) -> PlanSpec:
    return PlanSpec(
        curve=tuple(plan.schedule),
        gates=Gates(**plan.gates),
        provider_shares=dict(plan.provider_shares),
        active_hours=plan.active_hours,
        max_opening=max(MAX_FIRST_DAY_VOLUME, plan.proven_volume or 0),
    )


def state_of(plan: WarmupPlan) -> PlanState:
    return PlanState(
        status=PlanStatus(plan.status),
        day_index=plan.day_index,
        consecutive_failures=plan.consecutive_failures,
        last_day=plan.last_day,
    )


def store_state(plan: WarmupPlan, state: PlanState, now: datetime) -> None:
    plan.status = state.status.value
    plan.day_index = state.day_index
    plan.consecutive_failures = state.consecutive_failures
    plan.last_day = state.last_day
    plan.updated_at = now


def limit_of(plan: WarmupPlan) -> VolumeLimit | None:
    """Today's limit of a plan that is running (None when it sends nothing under the plan)."""
    if plan.status != PlanStatus.RUNNING.value or plan.day_index is None:
        return None
    spec = spec_of(plan)
    daily = spec.curve[plan.day_index]
    return VolumeLimit(
        daily=daily,
        hourly=hourly_limit(daily, spec.active_hours),
        providers=provider_limits(daily, spec.provider_shares),
    )


def plan_limit(plan: WarmupPlan) -> VolumeLimit:
    """What :func:`current_limits` gives this running or paused plan's IP today."""
    limit = limit_of(plan)
    return limit if limit is not None else VolumeLimit(daily=0, hourly=0)


def record_day(
    session: Session, plan: WarmupPlan, step: Step, *, today: date, results: DayResult | None, now: datetime
) -> WarmupDay:
    row = WarmupDay(
        plan_id=plan.id,
        day=today,
        day_index=step.day_index,
        daily_limit=step.daily,
        hourly_limit=step.hourly,
        provider_limits=dict(step.provider_limits),
        decision=step.decision.value,
        reasons=list(step.reasons),
        gates=[asdict(outcome) for outcome in step.gates],
        results=None
        if results is None
        else {
            **asdict(results),
            "new_listings": [asdict(x) for x in results.new_listings],
            "provider_signals": [
                {"name": x.name, "action": x.action.value, "reason": x.reason}
                for x in results.provider_signals
            ],
        },
        decided_at=now,
    )
    session.add(row)
    store_state(plan, step.state, now)
    session.flush()
    log.info(
        "warmup.day_decided",
        plan_id=plan.id,
        ip_id=plan.ip_id,
        day=today.isoformat(),
        decision=step.decision.value,
        daily=step.daily,
        hourly=step.hourly,
    )
    return row
