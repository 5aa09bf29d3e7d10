"""One day's results of an IP and the gates that judge them (pure).

Small samples are judged by a statistical bound, never by "fewer than N events passes": a rate gate
fails when the Wilson lower bound of the rate (one-sided 90 %) is over the threshold, so one hard
bounce in 22 messages is noise while two in 28 (7 %) is not. Complaints follow the mailbox
providers' own lines (Gmail's and Yahoo's bulk-sender rules): a complaint rate at or over 0.3 %
pauses at once, over 0.1 % holds. A day that sent more than its limit fails the ``volume_cap``
gate: the MailWizz or PowerMTA cap is not holding, and the plan never advances on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from email_engine.reputation_signals.decisions import ProviderSignal
from email_engine.warmup.schedule import MAX_SCHEDULE_DAYS, ScheduleError

__all__ = [
    "DayResult",
    "GateOutcome",
    "Gates",
    "Listing",
    "complaint_pause",
    "evaluate_gates",
    "wilson_lower_bound",
]


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
