"""Guarded failover: what to do when an active IP is listed or blocked. Pure: no I/O, no clock.

The rules (DESIGN.md principle 1, "protect reputation, never evade it"):

1. Only a *major* listing or a block-rate spike of an ``active`` IP triggers anything.
2. If the sender's own hard-bounce or complaint rate is over its threshold, the list is the cause:
   failover is **refused** (moving the same list to a clean IP would only burn that IP too) and the
   operator is told why. The same holds when another IP of the same pool or purpose failed over
   recently: listings hopping from IP to IP point at the list, and a rotation would spread it.
3. Otherwise the IP is taken out (MailWizz server inactive, state ``quarantined``) and:
   - a **warm** standby (it entered standby straight from ``active``, not idle too long) takes over;
   - else a **cold** standby starts a warmup plan (it never gets full volume straight away);
   - else nothing takes over and the operator is alerted.
4. A quarantined IP rests and re-warms before full volume (quarantined → resting → warming).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from email_engine.warmup.plan import DayResult, wilson_lower_bound

__all__ = [
    "Candidate",
    "FailoverAction",
    "FailoverDecision",
    "FailoverRules",
    "ListedIp",
    "decide_failover",
    "is_warm",
    "next_recovery_state",
]


class FailoverAction(StrEnum):
    NONE = "none"
    FAIL_OVER = "fail_over"  # quarantine the IP, a warm standby becomes active
    WARM_STANDBY = "warm_standby"  # quarantine the IP, a cold standby starts a warmup plan
    QUARANTINE_ONLY = "quarantine_only"  # quarantine the IP, no standby available
    REFUSED = "refused"  # the list is the cause: nothing moves, the operator is alerted


@dataclass(frozen=True, slots=True)
class FailoverRules:
    max_hard_bounce_rate: float = 0.05
    max_complaint_rate: float = 0.003
    block_spike_rate: float = 0.20
    min_blocks: int = 20
    min_list_events: int = 3  # bounces/complaints needed before the list is blamed
    confidence_z: float = 1.2816
    standby_max_idle: timedelta = timedelta(days=30)
    rotation_cooldown: timedelta = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class ListedIp:
    """The IP under review: its state, open major listings and recent results (yesterday + today)."""

    id: int
    address: str
    state: str
    purpose: str
    pool_id: int | None
    major_listings: tuple[str, ...]
    results: DayResult | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A standby IP that could take over."""

    id: int
    address: str
    purpose: str
    pool_id: int | None
    warm: bool


@dataclass(frozen=True, slots=True)
class FailoverDecision:
    action: FailoverAction
    ip_id: int
    standby_id: int | None
    reasons: tuple[str, ...]


def is_warm(
    *,
    entered_standby_from: str | None,
    entered_standby_at: datetime | None,
    now: datetime,
    max_idle: timedelta,
) -> bool:
    """A standby IP is warm when it came straight from ``active`` (it finished a warmup or sent at full
    volume) and has not been idle longer than ``max_idle`` (mailbox providers forget an idle IP)."""
    if entered_standby_from != "active" or entered_standby_at is None:
        return False
    return now - entered_standby_at <= max_idle


def _over(events: int, sent: int, threshold: float, minimum: int, z: float) -> float | None:
    """The observed rate when it is confidently over ``threshold``; None otherwise."""
    trials = max(sent, events)
    if events < minimum or trials == 0:
        return None
    return events / trials if wilson_lower_bound(events, trials, z) > threshold else None


def _pick(ip: ListedIp, candidates: Sequence[Candidate], *, warm: bool) -> Candidate | None:
    pool = [c for c in candidates if c.warm is warm and c.purpose == ip.purpose and c.id != ip.id]
    # Same pool first, then the same purpose; lowest id for a stable choice.
    pool.sort(key=lambda c: (c.pool_id != ip.pool_id, c.id))
    return pool[0] if pool else None


def decide_failover(
    ip: ListedIp,
    candidates: Sequence[Candidate],
    rules: FailoverRules,
    *,
    recent_failovers_in_group: int = 0,
    provider_causes: Sequence[str] = (),
) -> FailoverDecision:
    """Decide what happens to ``ip``. ``recent_failovers_in_group`` counts failovers of other IPs of
    the same pool or purpose within ``rules.rotation_cooldown``; ``provider_causes`` are the mailbox
    providers' own signals that blame the list (SNDS trap hits or complaints, Gmail's spam rate)."""
    if ip.state != "active":
        return FailoverDecision(
            FailoverAction.NONE, ip.id, None, (f"{ip.address} is {ip.state}, not active",)
        )
    triggers: list[str] = []
    if ip.major_listings:
        triggers.append(f"{ip.address} is listed on {', '.join(sorted(ip.major_listings))}")
    results = ip.results
    if results is not None:
        rate = _over(
            results.blocks, results.sent, rules.block_spike_rate, rules.min_blocks, rules.confidence_z
        )
        if rate is not None:
            triggers.append(
                f"{ip.address} block rate {rate:.1%} ({results.blocks} of {results.sent}) is over "
                f"{rules.block_spike_rate:.0%}"
            )
    if not triggers:
        return FailoverDecision(FailoverAction.NONE, ip.id, None, ("no major listing and no block spike",))

    list_causes: list[str] = []
    if results is not None:
        z = rules.confidence_z
        bounce = _over(
            results.hard_bounces, results.sent, rules.max_hard_bounce_rate, rules.min_list_events, z
        )
        if bounce is not None:
            list_causes.append(
                f"the hard-bounce rate is {bounce:.1%} ({results.hard_bounces} of {results.sent}), "
                f"over {rules.max_hard_bounce_rate:.1%}"
            )
        complaint = _over(
            results.complaints, results.sent, rules.max_complaint_rate, rules.min_list_events, z
        )
        if complaint is not None:
            list_causes.append(
                f"the complaint rate is {complaint:.2%} ({results.complaints} of {results.sent}), "
                f"over {rules.max_complaint_rate:.2%}"
            )
    if recent_failovers_in_group:
        days = rules.rotation_cooldown.days
        list_causes.append(
            f"{recent_failovers_in_group} other IP(s) of this pool or purpose failed over in the last {days} "
            "days; listings moving from IP to IP follow the list"
        )
    list_causes += provider_causes
    if list_causes:
        return FailoverDecision(
            FailoverAction.REFUSED,
            ip.id,
            None,
            (
                *triggers,
                *list_causes,
                "failover refused: the list, not the IP, is the cause; moving it to another IP would burn "
                "that IP too. Stop the campaign and clean the list (remove hard bounces and complainers).",
            ),
        )

    warm = _pick(ip, candidates, warm=True)
    if warm is not None:
        return FailoverDecision(
            FailoverAction.FAIL_OVER,
            ip.id,
            warm.id,
            (*triggers, f"{ip.address} is quarantined; warm standby {warm.address} takes over"),
        )
    cold = _pick(ip, candidates, warm=False)
    if cold is not None:
        return FailoverDecision(
            FailoverAction.WARM_STANDBY,
            ip.id,
            cold.id,
            (
                *triggers,
                f"{ip.address} is quarantined; standby {cold.address} is cold, so it starts a warmup plan "
                "instead of taking full volume",
            ),
        )
    return FailoverDecision(
        FailoverAction.QUARANTINE_ONLY,
        ip.id,
        None,
        (*triggers, f"{ip.address} is quarantined; no standby IP of purpose {ip.purpose} is available"),
    )


def next_recovery_state(
    *, state: str, since: datetime, now: datetime, still_listed: bool, quarantine: timedelta, rest: timedelta
) -> str | None:
    """The next step out of quarantine: quarantined → resting (after the quarantine period, once
    delisted) → warming (after the rest period, with a new plan). None when it is not time yet."""
    if state == "quarantined" and not still_listed and now - since >= quarantine:
        return "resting"
    if state == "resting" and not still_listed and now - since >= rest:
        return "warming"
    return None
