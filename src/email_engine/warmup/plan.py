"""Warmup schedule maths: presets, custom schedules, gates and the daily decision. Pure: no I/O, no clock.

A plan is a curve of daily volumes. Each day :func:`next_step` looks at yesterday's results for the
IP and decides whether today's limit is the next point on the curve (*advance*), the same point
(*hold*), a lower point (*step_back*) or nothing at all (*pause*). The curve is a ceiling: no decision
ever produces a volume above the curve point the IP has earned, the index moves up by at most one per
day, and a paused plan stays paused until a person resumes it (at a lower point, never at full volume).

Small samples are judged by a statistical bound, never by "fewer than N events passes": a rate gate
fails when the Wilson lower bound of the rate (one-sided 90 %) is over the threshold, so one hard
bounce in 22 messages is noise while two in 28 (7 %) is not. Complaints follow the mailbox
providers' own lines (Gmail's and Yahoo's bulk-sender rules): a complaint rate at or over 0.3 %
pauses at once, over 0.1 % holds. A day that sent more than its limit fails the ``volume_cap``
gate: the MailWizz or PowerMTA cap is not holding, and the plan never advances on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from email_engine.reputation_signals.decisions import ProviderSignal, SignalAction

__all__ = [
    "DEFAULT_PROVIDER_SHARES",
    "MAX_DAILY_VOLUME",
    "MAX_SCHEDULE_DAYS",
    "PRESETS",
    "DayResult",
    "Decision",
    "GateOutcome",
    "Gates",
    "Listing",
    "PlanSpec",
    "PlanState",
    "PlanStatus",
    "Preset",
    "ScheduleError",
    "Step",
    "complaint_pause",
    "evaluate_gates",
    "hourly_limit",
    "next_step",
    "paused_state",
    "provider_limits",
    "resume_state",
    "takeover_curve",
    "validate_schedule",
    "wilson_lower_bound",
]

MAX_SCHEDULE_DAYS = 365
MAX_DAILY_VOLUME = 10_000_000
# A custom schedule may not open above this volume nor more than double from one day to the next:
# a cold IP is never handed full volume (DESIGN.md principle 1).
MAX_FIRST_DAY_VOLUME = 5_000
MAX_DAY_OVER_DAY_GROWTH = 2.0


class ScheduleError(ValueError):
    """A custom schedule, preset name or gate setting is unusable; the message says why."""


class Decision(StrEnum):
    START = "start"  # first day of the plan: the first point of the curve
    ADVANCE = "advance"
    HOLD = "hold"
    STEP_BACK = "step_back"
    PAUSE = "pause"
    COMPLETE = "complete"  # yesterday passed on the last point: the IP is warm


class PlanStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Gates:
    """What yesterday's results must show before the plan moves up. Rates are fractions of sent."""

    max_hard_bounce_rate: float = 0.02
    # Gmail's and Yahoo's bulk-sender guidance: keep the spam rate under 0.1 %, never reach 0.3 %
    # (Gmail "Email sender guidelines", Yahoo "Sender best practices"). Over 0.1 % holds.
    max_complaint_rate: float = 0.001
    max_block_rate: float = 0.05
    max_deferral_rate: float = 0.30
    # Minimum events before a rate gate can fail at all. 1 by default: the Wilson bound alone
    # judges small samples (plans created before issue 20 keep the floors they were created with).
    min_hard_bounces: int = 1
    min_complaints: int = 1
    min_blocks: int = 1
    min_deferrals: int = 1
    # An observed complaint rate at or over this pauses the plan at once (Gmail/Yahoo: 0.3 %),
    # once at least ``min_complaints_to_pause`` complaints were seen.
    pause_complaint_rate: float = 0.003
    min_complaints_to_pause: int = 2
    # Sending more than the day's limit by this fraction fails the ``volume_cap`` gate.
    max_over_cap: float = 0.10
    # One-sided confidence for the Wilson lower bound (1.2816 ≈ 90 %).
    confidence_z: float = 1.2816
    # Yesterday must have used at least this share of its limit to be judged at all.
    min_sent_fraction: float = 0.5
    fail_on_new_listing: bool = True
    failures_before_action: int = 3
    on_repeated_failure: str = "pause"  # "pause" or "step_back"
    step_back_days: int = 2
    # A manual resume restarts this many points lower than where the plan was paused.
    resume_step_back_days: int = 2

    def __post_init__(self) -> None:
        for name in (
            "max_hard_bounce_rate",
            "max_complaint_rate",
            "max_block_rate",
            "max_deferral_rate",
            "pause_complaint_rate",
        ):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ScheduleError(f"{name} must be a fraction between 0 and 1 (exclusive), got {value}.")
        for name in (
            "min_hard_bounces",
            "min_complaints",
            "min_blocks",
            "min_deferrals",
            "min_complaints_to_pause",
        ):
            if not 1 <= getattr(self, name) <= 10_000:
                raise ScheduleError(f"{name} must be between 1 and 10000.")
        if self.pause_complaint_rate < self.max_complaint_rate:
            raise ScheduleError("pause_complaint_rate must be at least max_complaint_rate.")
        if not 0.0 <= self.max_over_cap <= 1.0:
            raise ScheduleError("max_over_cap must be between 0 and 1.")
        if not 0.0 <= self.confidence_z <= 4.0:
            raise ScheduleError("confidence_z must be between 0 and 4.")
        if not 0.0 <= self.min_sent_fraction <= 1.0:
            raise ScheduleError("min_sent_fraction must be between 0 and 1.")
        if not 1 <= self.failures_before_action <= 30:
            raise ScheduleError("failures_before_action must be between 1 and 30.")
        if self.on_repeated_failure not in ("pause", "step_back"):
            raise ScheduleError('on_repeated_failure must be "pause" or "step_back".')
        if not 1 <= self.step_back_days <= MAX_SCHEDULE_DAYS:
            raise ScheduleError("step_back_days must be between 1 and 365.")
        if not 0 <= self.resume_step_back_days <= MAX_SCHEDULE_DAYS:
            raise ScheduleError("resume_step_back_days must be between 0 and 365.")


DEFAULT_PROVIDER_SHARES: Mapping[str, float] = {"gmail": 0.4, "microsoft": 0.3, "yahoo": 0.2, "other": 0.5}


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
class Listing:
    zone: str
    major: bool


@dataclass(frozen=True, slots=True)
class DayResult:
    """What one IP did on one day (from the accounting records) plus listings first seen that day."""

    sent: int
    delivered: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    blocks: int = 0
    complaints: int = 0
    deferred: int = 0
    new_listings: tuple[Listing, ...] = ()
    # What the mailbox providers said about the day (SNDS, Gmail): each fails a gate; "pause" ones
    # pause at once (reputation_signals.decisions.warmup_signals).
    provider_signals: tuple[ProviderSignal, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sent", "delivered", "hard_bounces", "soft_bounces", "blocks", "complaints", "deferred"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")

    @classmethod
    def total(cls, days: Sequence[DayResult]) -> DayResult:
        """The counts of ``days`` added up (listings and provider signals are per day and not carried)."""
        return cls(
            sent=sum(d.sent for d in days),
            delivered=sum(d.delivered for d in days),
            hard_bounces=sum(d.hard_bounces for d in days),
            soft_bounces=sum(d.soft_bounces for d in days),
            blocks=sum(d.blocks for d in days),
            complaints=sum(d.complaints for d in days),
            deferred=sum(d.deferred for d in days),
        )


@dataclass(frozen=True, slots=True)
class GateOutcome:
    name: str
    passed: bool
    reason: str
    observed: float | None = None
    threshold: float | None = None


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


def _round_volume(value: float) -> int:
    """Round to a figure a person reads easily: 10s below 1,000, 100s below 10,000, then 1,000s."""
    if value < 100:
        return max(1, round(value))
    if value < 1_000:
        return round(value / 10) * 10
    if value < 10_000:
        return round(value / 100) * 100
    return round(value / 1_000) * 1_000


def geometric_curve(start: int, end: int, days: int) -> tuple[int, ...]:
    """A curve growing by the same factor each day from ``start`` to ``end``, rounded, never flat."""
    if days < 2 or start < 1 or end <= start:
        raise ScheduleError("A geometric curve needs at least 2 days and end > start >= 1.")
    factor = (end / start) ** (1 / (days - 1))
    points: list[int] = []
    for day in range(days):
        value = _round_volume(start * factor**day)
        if points and value <= points[-1]:
            value = points[-1] + 1
        points.append(value)
    points[-1] = end
    return tuple(points)


def takeover_curve(start: int, end: int, *, growth: float = 1.5) -> tuple[int, ...]:
    """The ramp of a warm standby taking over: from ``start`` (what it has proven, capped at what the
    listed IP sent) up to ``end`` (the listed IP's recent daily volume), growing at most ``growth``
    a day; one point when there is nothing to climb."""
    if start < 1 or end < 1:
        raise ScheduleError("A takeover needs a volume of at least 1 a day.")
    if end <= start:
        return (start,)
    days = max(2, math.ceil(math.log(end / start) / math.log(growth)) + 1)
    return geometric_curve(start, end, days)


def validate_schedule(schedule: Sequence[int], *, max_opening: int = MAX_FIRST_DAY_VOLUME) -> tuple[int, ...]:
    """Check a day-by-day schedule and return it as a tuple; raise :class:`ScheduleError` with the reason.

    ``max_opening``: the highest allowed first point (a cold IP opens at most at
    ``MAX_FIRST_DAY_VOLUME``; a warm standby's takeover plan at the volume it has proven)."""
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Sequence):
        raise ScheduleError("The schedule must be a list of daily volumes.")
    if not 1 <= len(schedule) <= MAX_SCHEDULE_DAYS:
        raise ScheduleError(f"The schedule must have 1 to {MAX_SCHEDULE_DAYS} days; it has {len(schedule)}.")
    points: list[int] = []
    for day, volume in enumerate(schedule, start=1):
        if isinstance(volume, bool) or not isinstance(volume, int):
            raise ScheduleError(f"Day {day}: the volume must be a whole number, got {volume!r}.")
        if not 1 <= volume <= MAX_DAILY_VOLUME:
            raise ScheduleError(
                f"Day {day}: the volume must be between 1 and {MAX_DAILY_VOLUME:,}, got {volume}."
            )
        if day == 1 and volume > max(max_opening, MAX_FIRST_DAY_VOLUME):
            raise ScheduleError(
                f"Day 1: a warmup may not open above {max(max_opening, MAX_FIRST_DAY_VOLUME):,} messages "
                f"(got {volume:,}); "
                "a cold IP must start small."
            )
        if points and volume > points[-1] * MAX_DAY_OVER_DAY_GROWTH:
            raise ScheduleError(
                f"Day {day}: {volume:,} is more than {MAX_DAY_OVER_DAY_GROWTH:g}× day {day - 1} "
                f"({points[-1]:,}); raise the volume more gradually."
            )
        points.append(volume)
    return tuple(points)


def hourly_limit(daily: int, active_hours: int) -> int:
    return 0 if daily <= 0 else max(1, math.ceil(daily / active_hours))


def provider_limits(daily: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Per-provider caps: each provider gets at most its share of the day (rounded down, at least 1)."""
    if daily <= 0:
        return dict.fromkeys(shares, 0)
    return {provider: min(daily, max(1, math.floor(daily * share))) for provider, share in shares.items()}


def wilson_lower_bound(events: int, trials: int, z: float) -> float:
    """Lower end of the Wilson score interval for ``events`` out of ``trials``."""
    if trials <= 0:
        return 0.0
    p = min(1.0, events / trials)
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))


def _rate_gate(
    name: str, label: str, *, events: int, sent: int, threshold: float, minimum: int, z: float
) -> GateOutcome:
    trials = max(sent, events)
    rate = events / trials if trials else 0.0
    if events < minimum:
        return GateOutcome(
            name,
            True,
            f"{label} {events} of {sent} ({rate:.1%}): fewer than {minimum}, too few to judge",
            rate,
            threshold,
        )
    lower = wilson_lower_bound(events, trials, z)
    if lower > threshold:
        return GateOutcome(
            name,
            False,
            f"{label} rate {rate:.1%} ({events} of {sent}) is over the {threshold:.1%} limit "
            f"(lower bound {lower:.2%})",
            rate,
            threshold,
        )
    return GateOutcome(
        name, True, f"{label} rate {rate:.1%} ({events} of {sent}) within {threshold:.1%}", rate, threshold
    )


def complaint_pause(gates: Gates, result: DayResult) -> str | None:
    """Why the day's complaints pause the plan at once (Gmail's and Yahoo's 0.3 % line), or None."""
    trials = max(result.sent, result.complaints)
    if result.complaints < gates.min_complaints_to_pause or trials == 0:
        return None
    rate = result.complaints / trials
    if rate < gates.pause_complaint_rate:
        return None
    return (
        f"complaint rate {rate:.2%} ({result.complaints} of {result.sent}) is at or over "
        f"{gates.pause_complaint_rate:.1%}, the line Gmail and Yahoo hold bulk senders to: paused at once"
    )


def _cap_gate(gates: Gates, sent: int, limit: int | None) -> GateOutcome:
    if limit is None or limit <= 0:
        return GateOutcome("volume_cap", True, "no limit to compare with")
    allowed = math.floor(limit * (1 + gates.max_over_cap))
    if sent > allowed:
        return GateOutcome(
            "volume_cap",
            False,
            f"sent {sent} against a limit of {limit} ({sent / limit:.0%} of it): the MailWizz or PowerMTA "
            "cap is not holding; check the delivery server's quotas and the VMTA's max-msg-rate",
            float(sent),
            float(limit),
        )
    return GateOutcome(
        "volume_cap", True, f"sent {sent} within the limit of {limit}", float(sent), float(limit)
    )


def evaluate_gates(gates: Gates, result: DayResult, *, limit: int | None = None) -> tuple[GateOutcome, ...]:
    """Judge one day's results; every gate is reported, passed or not. ``limit``: the day's volume
    limit (the ``volume_cap`` gate fails when the day sent more than it allows)."""
    z = gates.confidence_z
    sent = result.sent
    outcomes = [
        _rate_gate(
            "hard_bounce",
            "hard bounces",
            events=result.hard_bounces,
            sent=sent,
            threshold=gates.max_hard_bounce_rate,
            minimum=gates.min_hard_bounces,
            z=z,
        ),
        _rate_gate(
            "complaint",
            "complaints",
            events=result.complaints,
            sent=sent,
            threshold=gates.max_complaint_rate,
            minimum=gates.min_complaints,
            z=z,
        ),
        _rate_gate(
            "block",
            "blocks",
            events=result.blocks,
            sent=sent,
            threshold=gates.max_block_rate,
            minimum=gates.min_blocks,
            z=z,
        ),
        _rate_gate(
            "deferral",
            "deferrals",
            events=result.deferred,
            sent=sent,
            threshold=gates.max_deferral_rate,
            minimum=gates.min_deferrals,
            z=z,
        ),
    ]
    outcomes.append(_cap_gate(gates, sent, limit))
    outcomes += [
        GateOutcome(f"provider:{signal.name}", False, signal.reason) for signal in result.provider_signals
    ]
    if gates.fail_on_new_listing and result.new_listings:
        zones = ", ".join(sorted({listing.zone for listing in result.new_listings}))
        outcomes.append(GateOutcome("listing", False, f"newly listed on {zones}"))
    else:
        outcomes.append(GateOutcome("listing", True, "no new listing"))
    return tuple(outcomes)


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


def next_step(spec: PlanSpec, state: PlanState, yesterday: DayResult | None, today: date) -> Step:
    """Decide today's limits from the plan, its state and yesterday's results.

    ``yesterday`` is None when nothing was recorded for the IP yesterday (or on the first day).
    Raises ``ValueError`` for a plan that has ended or a day already decided.
    """
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
        if major and gates.fail_on_new_listing:
            paused = replace(state, status=PlanStatus.PAUSED, consecutive_failures=failures, last_day=today)
            reasons.append(f"listed on a major list ({', '.join(sorted(major))}): paused at once")
            return _step(spec, Decision.PAUSE, paused, reasons, outcomes)
        if complaints is not None:
            paused = replace(state, status=PlanStatus.PAUSED, consecutive_failures=failures, last_day=today)
            reasons.append(complaints)
            return _step(spec, Decision.PAUSE, paused, reasons, outcomes)
        if any(signal.action is SignalAction.PAUSE for signal in yesterday.provider_signals):
            paused = replace(state, status=PlanStatus.PAUSED, consecutive_failures=failures, last_day=today)
            reasons.append("a mailbox provider's own signal calls for a pause: paused at once")
            return _step(spec, Decision.PAUSE, paused, reasons, outcomes)
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
        paused = replace(state, status=PlanStatus.PAUSED, consecutive_failures=failures, last_day=today)
        reasons.append(
            f"{failures} failing days in a row: paused; check the list and the IP, then resume by hand"
        )
        return _step(spec, Decision.PAUSE, paused, reasons, outcomes)

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
