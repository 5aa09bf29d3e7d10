"""The daily decision of a warmup plan, and its presets. Pure: no I/O, no clock.

A plan is a curve of daily volumes (:mod:`schedule`). Each day :func:`next_step` looks at yesterday's
results for the IP (judged by :mod:`gates`) and decides whether today's limit is the next point on
the curve (*advance*), the same point (*hold*), a lower point (*step_back*) or nothing at all
(*pause*). The curve is a ceiling: no decision ever produces a volume above the curve point the IP
has earned, the index moves up by at most one per day, and a paused plan stays paused until a person
resumes it (at a lower point, never at full volume).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from email_engine.reputation_signals.decisions import SignalAction
from email_engine.warmup.gates import DayResult, GateOutcome, Gates, complaint_pause, evaluate_gates
from email_engine.warmup.schedule import (
    DEFAULT_PROVIDER_SHARES,
    MAX_FIRST_DAY_VOLUME,
    ScheduleError,
    geometric_curve,
    hourly_limit,
    provider_limits,
    validate_schedule,
)

__all__ = [
    "PRESETS",
    "Decision",
    "PlanSpec",
    "PlanState",
    "PlanStatus",
    "Preset",
    "Step",
    "next_step",
    "paused_state",
    "resume_state",
]


class Decision(StrEnum):
    START = "start"  # first day of the plan: the first point of the curve
    ADVANCE = "advance"
    HOLD = "hold"
    STEP_BACK = "step_back"
    PAUSE = "pause"
    COMPLETE = "complete"  # yesterday passed on the last point: the IP is warm


class PlanStatus(StrEnum):
    """A plan's state; ``warmup_plan.status`` holds the value."""

    CREATED = "created"  # not started yet: the planner takes no step and nothing is sent
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """The fixed part of a plan: its curve and its rules."""

    curve: tuple[int, ...]
    gates: Gates = field(default_factory=Gates)
    provider_shares: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PROVIDER_SHARES))
    active_hours: int = 12  # the day's volume is spread over this many hours
    # The highest first point allowed: MAX_FIRST_DAY_VOLUME for a cold IP; a warm standby taking
    # over opens at the volume it has proven (failover.takeover_volume).
    max_opening: int = MAX_FIRST_DAY_VOLUME

    def __post_init__(self) -> None:
        validate_schedule(self.curve, max_opening=self.max_opening)
        if not 1 <= self.active_hours <= 24:
            raise ScheduleError("active_hours must be between 1 and 24.")
        for provider, share in self.provider_shares.items():
            if not provider or len(provider) > 32 or not provider.replace("-", "").replace("_", "").isalnum():
                raise ScheduleError(f"Provider name {provider!r} must be 1-32 letters, digits, - or _.")
            if not 0.0 < share <= 1.0:
                raise ScheduleError(f"The share for {provider} must be above 0 and at most 1, got {share}.")


@dataclass(frozen=True, slots=True)
class PlanState:
    """Where a plan stands after its last recorded day."""

    status: PlanStatus = PlanStatus.RUNNING
    day_index: int | None = None  # curve point the IP was given on the last recorded day
    consecutive_failures: int = 0
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """Today's decision for one plan."""

    decision: Decision
    day_index: int | None  # curve point for today; None when paused
    daily: int
    hourly: int
    provider_limits: Mapping[str, int]
    reasons: tuple[str, ...]
    state: PlanState  # the plan's state after today's decision
    gates: tuple[GateOutcome, ...] = ()


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    description: str
    spec: PlanSpec


def _step(
    spec: PlanSpec,
    decision: Decision,
    state: PlanState,
    reasons: list[str],
    gates: tuple[GateOutcome, ...] = (),
) -> Step:
    sends = state.status is not PlanStatus.PAUSED and state.day_index is not None
    daily = spec.curve[state.day_index] if sends and state.day_index is not None else 0
    return Step(
        decision=decision,
        day_index=None if daily == 0 else state.day_index,
        daily=daily,
        hourly=hourly_limit(daily, spec.active_hours),
        provider_limits=provider_limits(daily, spec.provider_shares),
        reasons=tuple(reasons),
        state=state,
        gates=gates,
    )


def _paused_step(
    spec: PlanSpec,
    state: PlanState,
    *,
    failures: int,
    today: date,
    reasons: list[str],
    gates: tuple[GateOutcome, ...],
) -> Step:
    paused = replace(state, status=PlanStatus.PAUSED, consecutive_failures=failures, last_day=today)
    return _step(spec, Decision.PAUSE, paused, reasons, gates)


def next_step(spec: PlanSpec, state: PlanState, yesterday: DayResult | None, today: date) -> Step:
    """Decide today's limits from the plan, its state and yesterday's results.

    ``yesterday`` is None when nothing was recorded for the IP yesterday (or on the first day).
    Raises ``ValueError`` for a plan that has ended or a day already decided.
    """
    if state.status is PlanStatus.CREATED:
        raise ValueError("The plan has not been started; it takes its first step when it starts.")
    if state.status in (PlanStatus.COMPLETED, PlanStatus.ABORTED):
        raise ValueError(f"The plan is {state.status.value}; it takes no more steps.")
    if state.last_day is not None and today <= state.last_day:
        raise ValueError(
            f"{today.isoformat()} was already decided (last decided day {state.last_day.isoformat()})."
        )
    if state.day_index is not None and not 0 <= state.day_index < len(spec.curve):
        raise ValueError("The plan's day index is outside its curve.")

    if state.status is PlanStatus.PAUSED:
        # A pause is lifted only by a person (resume_state), never here.
        paused = replace(state, last_day=today)
        return _step(spec, Decision.PAUSE, paused, ["the plan is paused; resume it by hand"])

    if state.day_index is None:
        started = replace(state, day_index=0, consecutive_failures=0, last_day=today)
        return _step(spec, Decision.START, started, [f"day 1 of {len(spec.curve)}: first point of the curve"])

    index = state.day_index
    position = f"day {index + 1} of {len(spec.curve)}"
    if yesterday is None:
        held = replace(state, last_day=today)
        return _step(spec, Decision.HOLD, held, [f"no results recorded for yesterday; holding at {position}"])

    gates = spec.gates
    outcomes = evaluate_gates(gates, yesterday, limit=spec.curve[index])
    failed = [outcome for outcome in outcomes if not outcome.passed]
    complaints = complaint_pause(gates, yesterday)
    if failed or complaints is not None:
        failures = state.consecutive_failures + 1
        reasons = [outcome.reason for outcome in failed]
        major = [listing.zone for listing in yesterday.new_listings if listing.major]
        at_once: str | None = None
        if major and gates.fail_on_new_listing:
            at_once = f"listed on a major list ({', '.join(sorted(major))}): paused at once"
        elif complaints is not None:
            at_once = complaints
        elif any(signal.action is SignalAction.PAUSE for signal in yesterday.provider_signals):
            at_once = "a mailbox provider's own signal calls for a pause: paused at once"
        if at_once is not None:
            return _paused_step(
                spec, state, failures=failures, today=today, reasons=[*reasons, at_once], gates=outcomes
            )
        if failures < gates.failures_before_action:
            held = replace(state, consecutive_failures=failures, last_day=today)
            reasons.append(f"failure {failures} of {gates.failures_before_action}; holding at {position}")
            return _step(spec, Decision.HOLD, held, reasons, outcomes)
        if gates.on_repeated_failure == "step_back" and index > 0:
            lower = max(0, index - gates.step_back_days)
            stepped = replace(state, day_index=lower, consecutive_failures=0, last_day=today)
            reasons.append(
                f"{failures} failing days in a row: stepping back from day {index + 1} to day {lower + 1}"
            )
            return _step(spec, Decision.STEP_BACK, stepped, reasons, outcomes)
        reasons.append(
            f"{failures} failing days in a row: paused; check the list and the IP, then resume by hand"
        )
        return _paused_step(spec, state, failures=failures, today=today, reasons=reasons, gates=outcomes)

    limit = spec.curve[index]
    needed = math.ceil(limit * gates.min_sent_fraction)
    if yesterday.sent < needed:
        # Too little traffic to judge: neither a pass nor a failure.
        held = replace(state, last_day=today)
        reason = (
            f"only {yesterday.sent} of {limit} sent yesterday (need {needed} to judge); holding at {position}"
        )
        return _step(spec, Decision.HOLD, held, [reason], outcomes)

    if index + 1 >= len(spec.curve):
        done = replace(state, status=PlanStatus.COMPLETED, consecutive_failures=0, last_day=today)
        return _step(
            spec, Decision.COMPLETE, done, ["every gate passed on the last day: the IP is warm"], outcomes
        )
    advanced = replace(state, day_index=index + 1, consecutive_failures=0, last_day=today)
    return _step(
        spec,
        Decision.ADVANCE,
        advanced,
        [f"every gate passed; advancing to day {index + 2} of {len(spec.curve)}"],
        outcomes,
    )


def paused_state(state: PlanState) -> PlanState:
    """A person pauses the plan."""
    if state.status is not PlanStatus.RUNNING:
        raise ValueError(f"Only a running plan can be paused; this one is {state.status.value}.")
    return replace(state, status=PlanStatus.PAUSED)


def resume_state(spec: PlanSpec, state: PlanState) -> PlanState:
    """A person resumes a paused plan: it restarts lower on the curve, never where it stopped."""
    if state.status is not PlanStatus.PAUSED:
        raise ValueError(f"Only a paused plan can be resumed; this one is {state.status.value}.")
    index = None if state.day_index is None else max(0, state.day_index - spec.gates.resume_step_back_days)
    # Today's limit is decided by the next run; last_day stays so a day is never decided twice.
    return replace(state, status=PlanStatus.RUNNING, day_index=index, consecutive_failures=0)


PRESETS: Mapping[str, Preset] = {
    "cold": Preset(
        "cold",
        "Conservative cold outreach: 7 weeks from 20 to 5,000 a day over 12 sending hours; "
        "Gmail and Microsoft capped hardest.",
        PlanSpec(
            curve=geometric_curve(20, 5_000, 49),
            provider_shares={"gmail": 0.35, "microsoft": 0.3, "yahoo": 0.2, "other": 0.5},
            active_hours=12,
        ),
    ),
    "standard": Preset(
        "standard",
        "Opt-in marketing: 30 days from 200 to 100,000 a day over 16 sending hours.",
        PlanSpec(curve=geometric_curve(200, 100_000, 30), active_hours=16),
    ),
    "transactional": Preset(
        "transactional",
        "Transactional mail (high engagement): 21 days from 500 to 200,000 a day, spread over 24 hours.",
        PlanSpec(
            curve=geometric_curve(500, 200_000, 21),
            provider_shares={"gmail": 0.5, "microsoft": 0.4, "yahoo": 0.3, "other": 0.6},
            active_hours=24,
        ),
    ),
}
