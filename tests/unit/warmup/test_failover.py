"""The pure failover decision: triggers, the list-is-the-cause refusal, warm vs cold standbys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.warmup.failover import (
    Candidate,
    FailoverAction,
    FailoverRules,
    ListedIp,
    decide_failover,
    is_warm,
    next_recovery_state,
)
from email_engine.warmup.plan import DayResult

RULES = FailoverRules()
NOW = datetime(2026, 3, 2, tzinfo=UTC)
WARM = Candidate(2, "198.51.100.2", "marketing", 1, warm=True)
COLD = Candidate(3, "198.51.100.3", "marketing", 1, warm=False)


def listed(
    results: DayResult | None = None,
    *,
    majors: tuple[str, ...] = ("zen.spamhaus.org",),
    state: str = "active",
) -> ListedIp:
    return ListedIp(1, "198.51.100.1", state, "marketing", 1, majors, results)


@pytest.mark.parametrize(
    ("ip", "candidates", "action", "standby", "reason"),
    [
        (listed(), [WARM, COLD], FailoverAction.FAIL_OVER, 2, "warm standby 198.51.100.2 takes over"),
        (listed(), [COLD], FailoverAction.WARM_STANDBY, 3, "starts a warmup plan"),
        (listed(), [], FailoverAction.QUARANTINE_ONLY, None, "no standby IP"),
        (listed(state="warming"), [WARM], FailoverAction.NONE, None, "not active"),
        (listed(majors=()), [WARM], FailoverAction.NONE, None, "no major listing"),
        (
            listed(DayResult(sent=1000, hard_bounces=120)),
            [WARM],
            FailoverAction.REFUSED,
            None,
            "the list, not the IP, is the cause",
        ),
        (listed(DayResult(sent=1000, complaints=10)), [WARM], FailoverAction.REFUSED, None, "complaint rate"),
        (listed(DayResult(sent=1000, hard_bounces=20)), [WARM], FailoverAction.FAIL_OVER, 2, "takes over"),
        (listed(DayResult(sent=10, hard_bounces=2)), [WARM], FailoverAction.FAIL_OVER, 2, "takes over"),
        (
            listed(DayResult(sent=1000, blocks=400), majors=()),
            [WARM],
            FailoverAction.FAIL_OVER,
            2,
            "block rate 40.0%",
        ),
        (listed(DayResult(sent=1000, blocks=50), majors=()), [WARM], FailoverAction.NONE, None, "no major"),
        (listed(DayResult(sent=30, blocks=10), majors=()), [WARM], FailoverAction.NONE, None, "no major"),
        (
            listed(),
            [Candidate(4, "192.0.2.4", "transactional", 1, warm=True)],
            FailoverAction.QUARANTINE_ONLY,
            None,
            "no standby",
        ),
    ],
)
def test_failover_table(
    ip: ListedIp, candidates: list[Candidate], action: FailoverAction, standby: int | None, reason: str
) -> None:
    decision = decide_failover(ip, candidates, RULES)
    assert decision.action is action
    assert decision.standby_id == standby
    assert any(reason in text for text in decision.reasons), decision.reasons


def test_same_pool_standby_is_preferred() -> None:
    other_pool = Candidate(2, "198.51.100.9", "marketing", 7, warm=True)
    same_pool = Candidate(5, "198.51.100.5", "marketing", 1, warm=True)
    assert decide_failover(listed(), [other_pool, same_pool], RULES).standby_id == 5


def test_recent_failovers_in_the_group_refuse_a_rotation() -> None:
    decision = decide_failover(listed(), [WARM], RULES, recent_failovers_in_group=1)
    assert decision.action is FailoverAction.REFUSED
    assert any("listings moving from IP to IP follow the list" in text for text in decision.reasons)


@pytest.mark.parametrize(
    ("came_from", "idle", "warm"),
    [
        ("active", timedelta(days=2), True),
        ("active", timedelta(days=45), False),
        ("warming", timedelta(days=1), False),
        (None, timedelta(0), False),
    ],
)
def test_warmth(came_from: str | None, idle: timedelta, warm: bool) -> None:
    assert (
        is_warm(
            entered_standby_from=came_from,
            entered_standby_at=NOW - idle,
            now=NOW,
            max_idle=timedelta(days=30),
        )
        is warm
    )


@pytest.mark.parametrize(
    ("state", "age", "listed_now", "expected"),
    [
        ("quarantined", timedelta(days=8), False, "resting"),
        ("quarantined", timedelta(days=8), True, None),
        ("quarantined", timedelta(days=2), False, None),
        ("resting", timedelta(days=8), False, "warming"),
        ("resting", timedelta(days=1), False, None),
        ("active", timedelta(days=100), False, None),
    ],
)
def test_recovery_path(state: str, age: timedelta, listed_now: bool, expected: str | None) -> None:
    assert (
        next_recovery_state(
            state=state,
            since=NOW - age,
            now=NOW,
            still_listed=listed_now,
            quarantine=timedelta(days=7),
            rest=timedelta(days=7),
        )
        == expected
    )


counts = st.integers(min_value=0, max_value=5000)


@settings(max_examples=200, deadline=None)
@given(
    sent=counts,
    hard=counts,
    complaints=counts,
    blocks=counts,
    majors=st.booleans(),
    warm=st.booleans(),
    recent=st.integers(min_value=0, max_value=3),
)
def test_failover_never_moves_traffic_when_the_list_is_bad(
    sent: int, hard: int, complaints: int, blocks: int, majors: bool, warm: bool, recent: int
) -> None:
    results = DayResult(sent=sent, hard_bounces=hard, complaints=complaints, blocks=blocks)
    ip = listed(results, majors=("zen.spamhaus.org",) if majors else ())
    decision = decide_failover(
        ip, [Candidate(2, "x", "marketing", 1, warm=warm)], RULES, recent_failovers_in_group=recent
    )
    trials = max(sent, hard)
    bad_list = (hard >= RULES.min_list_events and trials and hard / trials > 0.12) or recent > 0
    if bad_list and decision.action is not FailoverAction.NONE:
        assert decision.action is FailoverAction.REFUSED
    # A cold standby never becomes the active replacement.
    if not warm:
        assert decision.action is not FailoverAction.FAIL_OVER
