"""The IP lifecycle: named states and the one table of allowed transitions (pure, no I/O).

Every path that changes an IP's state (API, CLI, warmup and failover jobs) goes through
``email_engine.ips.service.transition_ip``, which checks :func:`check_transition` against this table.

States::

    standby      in the inventory, not sending (a new IP starts here, cold until a warmup plan runs)
    warming      sending under a warmup plan's daily/hourly limits
    active       warm, sending at full volume
    resting      paused on purpose (no traffic); must re-warm before full volume again
    quarantined  paused because of a listing or a block spike; rests, then re-warms
    retired      taken out of service; may be reinstated, but only by warming again

Why the table looks the way it does (reputation first):

- Nothing goes back to ``active`` except from ``warming`` (plan finished) or ``standby`` (a warm
  reserve taking over). ``standby -> active`` is allowed only when the IP entered standby straight
  from ``active`` (it was warm when set aside); a cold standby (new, or parked mid-warmup) must start
  warming instead. The warmup domain may refuse more (e.g. a reserve idle for too long).
- ``resting``, ``quarantined`` and ``retired`` never jump to ``active`` or ``standby``: they re-enter
  through ``warming`` so volume ramps up again.
- Every state has a way out, so no IP is ever stuck (the reference deployment's quarantine had none).
- An admin may force any other move, with a reason; it is recorded as forced.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "INITIAL_STATES",
    "SENDING_STATES",
    "TRANSITIONS",
    "IpState",
    "TransitionRefused",
    "check_transition",
    "is_allowed",
    "parse_state",
]


class IpState(StrEnum):
    WARMING = "warming"
    ACTIVE = "active"
    STANDBY = "standby"
    RESTING = "resting"
    QUARANTINED = "quarantined"
    RETIRED = "retired"


_S = IpState

TRANSITIONS: Final[MappingProxyType[IpState, frozenset[IpState]]] = MappingProxyType(
    {
        _S.STANDBY: frozenset({_S.WARMING, _S.ACTIVE, _S.RESTING, _S.QUARANTINED, _S.RETIRED}),
        _S.WARMING: frozenset({_S.ACTIVE, _S.STANDBY, _S.RESTING, _S.QUARANTINED, _S.RETIRED}),
        _S.ACTIVE: frozenset({_S.WARMING, _S.STANDBY, _S.RESTING, _S.QUARANTINED, _S.RETIRED}),
        _S.RESTING: frozenset({_S.WARMING, _S.QUARANTINED, _S.RETIRED}),
        _S.QUARANTINED: frozenset({_S.RESTING, _S.WARMING, _S.RETIRED}),
        _S.RETIRED: frozenset({_S.WARMING}),
    }
)
"""state -> states it may move to without force."""

INITIAL_STATES: Final[frozenset[IpState]] = frozenset({_S.STANDBY})
"""States a new IP may be created in (warming starts with a warmup plan, active only through it)."""

SENDING_STATES: Final[frozenset[IpState]] = frozenset({_S.WARMING, _S.ACTIVE})
"""States in which the IP carries traffic (its MailWizz delivery server should be active)."""


class TransitionRefused(ValueError):
    """The move is not in the table (and was not forced) or makes no sense at all."""


def parse_state(value: str) -> IpState:
    """The state named ``value``, or a ``ValueError`` that lists the valid names."""
    try:
        return IpState(value.strip().lower())
    except ValueError:
        names = ", ".join(state.value for state in IpState)
        raise ValueError(f"Unknown IP state {value!r}; use one of: {names}.") from None


def is_allowed(from_state: IpState, to_state: IpState) -> bool:
    return to_state in TRANSITIONS[from_state]


def check_transition(
    from_state: IpState,
    to_state: IpState,
    *,
    force: bool,
    reason: str,
    entered_from: IpState | None = None,
) -> None:
    """Raise :class:`TransitionRefused` unless ``from_state -> to_state`` may happen.

    ``entered_from`` is the state the IP was in before ``from_state`` (None for a new IP). A forced
    move skips the table and the warmth rule but still needs a reason and a real change of state.
    """
    if from_state == to_state:
        raise TransitionRefused(f"The IP is already {to_state.value}; nothing to change.")
    if force:
        if not reason.strip():
            raise TransitionRefused("A forced transition needs a reason.")
        return
    if not is_allowed(from_state, to_state):
        targets = ", ".join(sorted(state.value for state in TRANSITIONS[from_state]))
        raise TransitionRefused(
            f"An IP cannot go from {from_state.value} to {to_state.value}; "
            f"from {from_state.value} it may go to: {targets} (an admin may force it with a reason)."
        )
    if from_state is IpState.STANDBY and to_state is IpState.ACTIVE and entered_from is not IpState.ACTIVE:
        raise TransitionRefused(
            "This standby IP is cold (it did not come straight from active), so it cannot take full "
            "volume; move it to warming and let a warmup plan ramp it up."
        )
