"""The lifecycle table: explicit, total, and with a way out of every state."""

from __future__ import annotations

from collections import deque

import pytest

from email_engine.ips.lifecycle import (
    INITIAL_STATES,
    SENDING_STATES,
    TRANSITIONS,
    IpState,
    TransitionRefused,
    check_transition,
    parse_state,
)

S = IpState


def _reachable(start: IpState) -> set[IpState]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def test_every_state_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(IpState)


def test_no_state_is_a_dead_end() -> None:
    for state in IpState:
        assert TRANSITIONS[state], f"{state} has no way out"
        assert state not in TRANSITIONS[state], f"{state} loops to itself"


def test_every_state_can_get_back_to_sending() -> None:
    for state in IpState:
        assert _reachable(state) & SENDING_STATES, f"{state} can never send again"


def test_every_state_is_reachable_from_a_new_ip() -> None:
    reachable = set().union(*(_reachable(start) for start in INITIAL_STATES))
    assert reachable == set(IpState)


def test_quarantine_exits_to_resting_or_warming_never_straight_to_full_volume() -> None:
    assert {S.RESTING, S.WARMING} <= TRANSITIONS[S.QUARANTINED]
    assert S.ACTIVE not in TRANSITIONS[S.QUARANTINED]
    assert S.STANDBY not in TRANSITIONS[S.QUARANTINED]


def test_retired_is_reinstated_only_through_warming() -> None:
    assert TRANSITIONS[S.RETIRED] == frozenset({S.WARMING})


def test_paused_states_never_jump_to_active() -> None:
    for state in (S.RESTING, S.QUARANTINED, S.RETIRED):
        assert S.ACTIVE not in TRANSITIONS[state]


@pytest.mark.parametrize(
    ("frm", "to"),
    [
        (frm, to)
        for frm in IpState
        for to in IpState
        if to in TRANSITIONS[frm] and (frm, to) != (S.STANDBY, S.ACTIVE)
    ],
)
def test_allowed_moves_pass(frm: IpState, to: IpState) -> None:
    check_transition(frm, to, force=False, reason="test")


@pytest.mark.parametrize(
    ("frm", "to"),
    [(frm, to) for frm in IpState for to in IpState if frm != to and to not in TRANSITIONS[frm]],
)
def test_moves_outside_the_table_are_refused_unless_forced(frm: IpState, to: IpState) -> None:
    with pytest.raises(TransitionRefused, match="may go to"):
        check_transition(frm, to, force=False, reason="test")
    check_transition(frm, to, force=True, reason="admin decision")


def test_forcing_needs_a_reason() -> None:
    with pytest.raises(TransitionRefused, match="reason"):
        check_transition(S.QUARANTINED, S.ACTIVE, force=True, reason=" ")


@pytest.mark.parametrize("state", list(IpState))
def test_same_state_is_refused_even_forced(state: IpState) -> None:
    with pytest.raises(TransitionRefused, match="already"):
        check_transition(state, state, force=True, reason="x")


@pytest.mark.parametrize("entered_from", [None, S.WARMING, S.RESTING, S.RETIRED])
def test_cold_standby_cannot_take_full_volume(entered_from: IpState | None) -> None:
    with pytest.raises(TransitionRefused, match="cold"):
        check_transition(S.STANDBY, S.ACTIVE, force=False, reason="failover", entered_from=entered_from)


def test_warm_standby_may_take_over() -> None:
    check_transition(S.STANDBY, S.ACTIVE, force=False, reason="failover", entered_from=S.ACTIVE)


@pytest.mark.parametrize("name", ["Warming", " active ", "QUARANTINED"])
def test_parse_state_is_forgiving_about_case(name: str) -> None:
    assert parse_state(name) in IpState


@pytest.mark.parametrize("name", ["paused", "", "active'; --", "warm ing"])
def test_parse_state_lists_valid_names(name: str) -> None:
    with pytest.raises(ValueError, match="warming, active, standby"):
        parse_state(name)
