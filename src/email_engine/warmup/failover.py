"""Guarded failover: what to do when a sending IP is listed or blocked. Pure: no I/O, no clock.

The rules (DESIGN.md principle 1, "protect reputation, never evade it"):

1. A listed or blocked IP **stops at once**: it is quarantined (MailWizz server inactive, its
   PowerMTA queues at rate 0), whatever else happens.
2. **Blocks never trigger a failover.** Moving the same mail to a fresh IP after a provider refused
   it for its content is what providers call snowshoeing. A block spike (no listing) stops the IP
   and opens a *content* hold; nothing takes its traffic.
3. **The list is the cause** when, in the window that led up to the listing (the listing day and
   the days before it), the hard-bounce or complaint rate was confidently over its threshold on any
   day or over the window, when a mailbox provider's own signals blame the list (SNDS trap hits,
   Gmail's spam rate), when the listing came within the cooldown of a hand-over in the same pool
   (the listing follows the traffic), or when the pool already has an open hold. Then nothing takes
   over and a *list* hold opens. A hold is recorded and **sticks** until an operator resolves it:
   later clean volume or the window passing never undo it.
4. Otherwise (a listing with a clean list) the IP's traffic may move, once, to a standby **of the
   same pool** (an IP without a pool has no standby), never to one that is listed, blocked or held
   itself:
   - a **warm** standby (it entered standby from ``active``, is not idle too long and has proven a
     volume) takes over at min(its proven volume, the listed IP's recent daily volume) and ramps
     from there under the normal gates;
   - else a **cold** standby starts a warmup plan from day 1;
   - else nothing takes over and the operator is alerted.
5. A quarantined IP rests and re-warms before full volume (quarantined → resting → warming), but
   never while a hold is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from email_engine.ips.lifecycle import IpState
from email_engine.warmup.gates import DayResult, wilson_lower_bound

__all__ = [
    "Candidate",
    "FailoverAction",
    "FailoverDecision",
    "FailoverRules",
    "HoldCause",
    "ListedIp",
    "decide_failover",
    "is_warm",
    "list_causes",
    "next_recovery_state",
    "takeover_volume",
]


class FailoverAction(StrEnum):
    NONE = "none"
    FAIL_OVER = "fail_over"  # quarantine the IP; a warm standby of its pool takes over at a safe volume
    WARM_STANDBY = "warm_standby"  # quarantine the IP; a cold standby of its pool starts a warmup plan
    QUARANTINE_ONLY = "quarantine_only"  # quarantine the IP; no standby of its pool can take over
    REFUSED = "refused"  # listed and the list is the cause: stop the IP, hold, nothing moves
    PAUSED = "paused"  # a block spike (content): stop the IP, hold, nothing moves


class HoldCause(StrEnum):
    LIST = "list"
    CONTENT = "content"


@dataclass(frozen=True, slots=True)
class FailoverRules:
    max_hard_bounce_rate: float = 0.05
    max_complaint_rate: float = 0.003
    block_spike_rate: float = 0.20
    min_blocks: int = 20
    min_list_events: int = 2  # bounces/complaints needed before the list is blamed
    confidence_z: float = 1.2816
    standby_max_idle: timedelta = timedelta(days=30)
    rotation_cooldown: timedelta = timedelta(days=14)
    window_days: int = 3  # the listing day and the days before it that are judged


@dataclass(frozen=True, slots=True)
class ListedIp:
    """The IP under review.

    ``major_listings``: open listings on major lists; ``window``: one result per day of the window
    that led up to the listing (or, without a listing, yesterday and today); ``recent``: yesterday
    and today added up (a block spike shows within the day).
    """

    id: int
    address: str
    state: IpState
    purpose: str
    pool_id: int | None
    major_listings: tuple[str, ...]
    window: tuple[DayResult, ...] = ()
    recent: DayResult | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A standby IP that could take over (listed, blocked and held ones are left out by the caller)."""

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
    hold: HoldCause | None = None


def is_warm(
    *,
    entered_standby_from: IpState | None,
    entered_standby_at: datetime | None,
    now: datetime,
    max_idle: timedelta,
) -> bool:
    """A standby IP is warm when it came straight from ``active`` (it finished a warmup or sent at full
    volume) and has not been idle longer than ``max_idle`` (mailbox providers forget an idle IP)."""
    if entered_standby_from != IpState.ACTIVE or entered_standby_at is None:
        return False
    return now - entered_standby_at <= max_idle


def takeover_volume(*, proven: int, recent: int) -> int:
    """The daily volume a warm standby takes over at: never above what it has proven, never above
    what the listed IP was recently sending (0: nothing to take over)."""
    return max(0, min(proven, recent))


def _over(events: int, sent: int, threshold: float, minimum: int, z: float) -> float | None:
    """The observed rate when it is confidently over ``threshold``; None otherwise."""
    trials = max(sent, events)
    if events < minimum or trials == 0:
        return None
    return events / trials if wilson_lower_bound(events, trials, z) > threshold else None


def list_causes(window: Sequence[DayResult], rules: FailoverRules) -> list[str]:
    """What in the window says the list is the cause: any single day, or the window added up, with
    a hard-bounce or complaint rate confidently over its threshold. A bad day is judged on its own,
    so clean days around it never dilute it."""
    z = rules.confidence_z
    causes: list[str] = []
    for label, days in (("in one day", list(window)), ("over the window", [DayResult.total(window)])):
        for day in days:
            bounce = _over(day.hard_bounces, day.sent, rules.max_hard_bounce_rate, rules.min_list_events, z)
            if bounce is not None:
                causes.append(
                    f"the hard-bounce rate reached {bounce:.1%} ({day.hard_bounces} of {day.sent}) "
                    f"{label}, over {rules.max_hard_bounce_rate:.1%}"
                )
            complaint = _over(day.complaints, day.sent, rules.max_complaint_rate, rules.min_list_events, z)
            if complaint is not None:
                causes.append(
                    f"the complaint rate reached {complaint:.2%} ({day.complaints} of {day.sent}) "
                    f"{label}, over {rules.max_complaint_rate:.2%}"
                )
        if causes:
            break
    return causes


_FIX_LIST = (
    "failover refused: the list, not the IP, is the cause; moving it to another IP would burn that IP "
    "too. The IP is stopped. Pause the campaigns that sent through it, remove hard bounces and "
    "complainers, then resolve the hold (email-engine failover resolve)."
)
_FIX_CONTENT = (
    "blocks never move traffic to another IP (that is snowshoeing): the IP is stopped. Check what the "
    "provider's refusals say about the content and the list, fix it, then resolve the hold "
    "(email-engine failover resolve)."
)


def decide_failover(
    ip: ListedIp,
    candidates: Sequence[Candidate],
    rules: FailoverRules,
    *,
    recent_hops_in_pool: int = 0,
    open_holds_in_pool: int = 0,
    provider_causes: Sequence[str] = (),
) -> FailoverDecision:
    """Decide what happens to ``ip``. ``recent_hops_in_pool``: hand-overs in the IP's pool (to or from
    any IP of it) within ``rules.rotation_cooldown``; ``open_holds_in_pool``: unresolved holds of other
    IPs of the pool; ``provider_causes``: the mailbox providers' own signals that blame the list."""
    if ip.state not in (IpState.ACTIVE, IpState.WARMING):
        return FailoverDecision(
            FailoverAction.NONE, ip.id, None, (f"{ip.address} is {ip.state}, not sending",)
        )
    if not ip.major_listings:
        recent = ip.recent
        rate = None
        if recent is not None:
            rate = _over(
                recent.blocks, recent.sent, rules.block_spike_rate, rules.min_blocks, rules.confidence_z
            )
        if rate is None or recent is None:
            return FailoverDecision(
                FailoverAction.NONE, ip.id, None, ("no major listing and no block spike",)
            )
        return FailoverDecision(
            FailoverAction.PAUSED,
            ip.id,
            None,
            (
                f"{ip.address} block rate {rate:.1%} ({recent.blocks} of {recent.sent}) is over "
                f"{rules.block_spike_rate:.0%}: the providers refuse this mail",
                _FIX_CONTENT,
            ),
            HoldCause.CONTENT,
        )

    trigger = f"{ip.address} is listed on {', '.join(sorted(ip.major_listings))}"
    causes = list_causes(ip.window, rules)
    if recent_hops_in_pool:
        days = rules.rotation_cooldown.days
        causes.append(
            f"traffic of this pool already moved to another IP in the last {days} days; a listing that "
            "follows the traffic points at the list (no chains of hand-overs)"
        )
    if open_holds_in_pool:
        causes.append(
            f"{open_holds_in_pool} other IP(s) of this pool are stopped with an open hold: the list is under "
            "investigation"
        )
    causes += provider_causes
    if causes:
        return FailoverDecision(
            FailoverAction.REFUSED, ip.id, None, (trigger, *causes, _FIX_LIST), HoldCause.LIST
        )
    if ip.state != IpState.ACTIVE:
        return FailoverDecision(
            FailoverAction.QUARANTINE_ONLY,
            ip.id,
            None,
            (
                trigger,
                f"{ip.address} was warming: it is quarantined and its plan stops; it re-warms from day 1",
            ),
        )
    if ip.pool_id is None:
        return FailoverDecision(
            FailoverAction.QUARANTINE_ONLY,
            ip.id,
            None,
            (trigger, f"{ip.address} is quarantined; it has no pool, so no standby carries its traffic"),
        )
    pool = sorted(
        (c for c in candidates if c.pool_id == ip.pool_id and c.id != ip.id), key=lambda c: (not c.warm, c.id)
    )
    if pool and pool[0].warm:
        return FailoverDecision(
            FailoverAction.FAIL_OVER,
            ip.id,
            pool[0].id,
            (
                trigger,
                f"{ip.address} is quarantined; warm standby {pool[0].address} of the same pool takes over",
            ),
        )
    if pool:
        return FailoverDecision(
            FailoverAction.WARM_STANDBY,
            ip.id,
            pool[0].id,
            (
                trigger,
                f"{ip.address} is quarantined; standby {pool[0].address} of the same pool is cold, so it "
                "starts a warmup plan instead of taking the volume",
            ),
        )
    return FailoverDecision(
        FailoverAction.QUARANTINE_ONLY,
        ip.id,
        None,
        (trigger, f"{ip.address} is quarantined; no standby IP of its pool can take over"),
    )


def next_recovery_state(
    *,
    state: IpState,
    since: datetime,
    now: datetime,
    still_listed: bool,
    quarantine: timedelta,
    rest: timedelta,
) -> IpState | None:
    """The next step out of quarantine: quarantined → resting (after the quarantine period, once
    delisted) → warming (after the rest period, with a new plan). None when it is not time yet."""
    if state == IpState.QUARANTINED and not still_listed and now - since >= quarantine:
        return IpState.RESTING
    if state == IpState.RESTING and not still_listed and now - since >= rest:
        return IpState.WARMING
    return None
