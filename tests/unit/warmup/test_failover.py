"""The pure failover decision: triggers, the list-is-the-cause refusal, warm vs cold standbys."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.warmup.failover import (
    Candidate,
    FailoverAction,
    FailoverRules,
    HoldCause,
    ListedIp,
    decide_failover,
    is_warm,
    list_causes,
    next_recovery_state,
    takeover_volume,
)
from email_engine.warmup.gates import DayResult
from email_engine.warmup.schedule import takeover_curve

RULES = FailoverRules()
NOW = datetime(2026, 3, 2, tzinfo=UTC)
WARM = Candidate(2, "198.51.100.2", "marketing", 1, warm=True)
COLD = Candidate(3, "198.51.100.3", "marketing", 1, warm=False)


def listed(
    *days: DayResult,
    majors: tuple[str, ...] = ("zen.spamhaus.org",),
    state: str = "active",
    pool: int | None = 1,
    recent: DayResult | None = None,
) -> ListedIp:
    return ListedIp(1, "198.51.100.1", state, "marketing", pool, majors, window=days, recent=recent)


CLEAN = DayResult(sent=1000, delivered=1000)


@pytest.mark.parametrize(
    ("ip", "candidates", "action", "standby", "reason"),
    [
        (
            listed(CLEAN),
            [WARM, COLD],
            FailoverAction.FAIL_OVER,
            2,
            "warm standby 198.51.100.2 of the same pool",
        ),
        (listed(CLEAN), [COLD], FailoverAction.WARM_STANDBY, 3, "starts a warmup plan"),
        (listed(CLEAN), [], FailoverAction.QUARANTINE_ONLY, None, "no standby IP of its pool"),
        # A warming IP listed mid-warmup stops; nothing takes over.
        (listed(CLEAN, state="warming"), [WARM], FailoverAction.QUARANTINE_ONLY, None, "re-warms from day 1"),
        (listed(CLEAN, state="standby"), [WARM], FailoverAction.NONE, None, "not sending"),
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
        (listed(DayResult(sent=10, hard_bounces=1)), [WARM], FailoverAction.FAIL_OVER, 2, "takes over"),
        # A bad day is judged on its own: clean days after it do not dilute it.
        (
            listed(DayResult(sent=1000, hard_bounces=90), CLEAN, DayResult(sent=20_000, delivered=20_000)),
            [WARM],
            FailoverAction.REFUSED,
            None,
            "9.0% (90 of 1000) in one day",
        ),
        # Blocks never move traffic: they stop the IP with a content hold.
        (
            listed(majors=(), recent=DayResult(sent=1000, blocks=400)),
            [WARM],
            FailoverAction.PAUSED,
            None,
            "block rate 40.0%",
        ),
        (
            listed(majors=(), recent=DayResult(sent=4000, blocks=1000, hard_bounces=20)),
            [WARM],
            FailoverAction.PAUSED,
            None,
            "snowshoeing",
        ),
        (
            listed(majors=(), recent=DayResult(sent=1000, blocks=50)),
            [WARM],
            FailoverAction.NONE,
            None,
            "no major",
        ),
        (
            listed(majors=(), recent=DayResult(sent=30, blocks=10)),
            [WARM],
            FailoverAction.NONE,
            None,
            "no major",
        ),
        # Only the same pool: a standby of another pool never takes the traffic.
        (
            listed(CLEAN),
            [Candidate(4, "192.0.2.4", "marketing", 7, warm=True)],
            FailoverAction.QUARANTINE_ONLY,
            None,
            "no standby",
        ),
        (listed(CLEAN, pool=None), [WARM], FailoverAction.QUARANTINE_ONLY, None, "it has no pool"),
    ],
)
def test_failover_table(
    ip: ListedIp, candidates: list[Candidate], action: FailoverAction, standby: int | None, reason: str
) -> None:
    decision = decide_failover(ip, candidates, RULES)
    assert decision.action is action
    assert decision.standby_id == standby
    assert any(reason in text for text in decision.reasons), decision.reasons
    assert (decision.hold is not None) == (action in (FailoverAction.REFUSED, FailoverAction.PAUSED))


def test_a_hop_in_the_pool_within_the_cooldown_stops_the_chain() -> None:
    decision = decide_failover(listed(CLEAN), [WARM], RULES, recent_hops_in_pool=1)
    assert decision.action is FailoverAction.REFUSED and decision.hold is HoldCause.LIST
    assert any("follows the traffic" in text for text in decision.reasons)


def test_an_open_hold_in_the_pool_refuses_a_hand_over() -> None:
    decision = decide_failover(listed(CLEAN), [WARM], RULES, open_holds_in_pool=1)
    assert decision.action is FailoverAction.REFUSED
    assert any("open hold" in text for text in decision.reasons)


def test_provider_causes_blame_the_list() -> None:
    decision = decide_failover(listed(CLEAN), [WARM], RULES, provider_causes=("SNDS: 6 spam-trap hits",))
    assert decision.action is FailoverAction.REFUSED and "SNDS: 6 spam-trap hits" in decision.reasons


@pytest.mark.parametrize(
    ("proven", "recent", "volume"), [(100_000, 20_000, 20_000), (3_000, 20_000, 3_000), (5_000, 0, 0)]
)
def test_takeover_volume_is_never_above_either(proven: int, recent: int, volume: int) -> None:
    assert takeover_volume(proven=proven, recent=recent) == volume


def test_takeover_curve_ramps_from_the_proven_volume() -> None:
    curve = takeover_curve(3_000, 20_000)
    assert curve[0] == 3_000 and curve[-1] == 20_000
    assert all(b <= a * 2 for a, b in itertools.pairwise(curve))
    assert takeover_curve(20_000, 20_000) == (20_000,)


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
days = st.builds(DayResult, sent=counts, hard_bounces=counts, complaints=counts, blocks=counts)


@settings(max_examples=200, deadline=None)
@given(
    window=st.lists(days, min_size=1, max_size=4),
    recent=st.one_of(st.none(), days),
    majors=st.booleans(),
    warm=st.booleans(),
    pool=st.sampled_from([1, 7, None]),
    hops=st.integers(min_value=0, max_value=3),
)
def test_traffic_never_moves_when_the_list_or_the_content_is_the_cause(
    window: list[DayResult], recent: DayResult | None, majors: bool, warm: bool, pool: int | None, hops: int
) -> None:
    ip = listed(*window, majors=("zen.spamhaus.org",) if majors else (), recent=recent)
    candidate = Candidate(2, "x", "marketing", pool, warm=warm)
    decision = decide_failover(ip, [candidate], RULES, recent_hops_in_pool=hops)
    moved = decision.action in (FailoverAction.FAIL_OVER, FailoverAction.WARM_STANDBY)
    if list_causes(window, RULES) or hops:
        assert not moved
    if not majors:
        assert not moved  # blocks alone never move traffic
    if moved:
        assert decision.standby_id == 2 and pool == 1  # only to the same pool
    if not warm:
        assert decision.action is not FailoverAction.FAIL_OVER
