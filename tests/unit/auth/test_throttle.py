"""Login attempt policies (pure): a rate per window, and a doubling backoff after the free attempts."""

from __future__ import annotations

from email_engine.auth.throttle import Policy, Throttle, claim, refund

RATE = Policy.rate("client", amount=3, window_seconds=60)
BACKOFF = Policy.backoff("pair", free=2, base_seconds=1, max_seconds=5, window_seconds=3600)


def _run(policy: Policy, times_ms: list[int]) -> list[bool]:
    state = Throttle()
    allowed = []
    for now in times_ms:
        outcome, state = claim(state, policy, now)
        allowed.append(outcome.allowed)
    return allowed


def test_rate_allows_the_amount_then_blocks_until_the_window_ends() -> None:
    assert _run(RATE, [0, 10, 20, 30, 59_999, 60_000, 60_001]) == [True, True, True, False, False, True, True]
    outcome, _ = claim(Throttle(3, 0, 60_000), RATE, 45_000)
    assert not outcome.allowed and outcome.retry_after_ms == 15_000


def test_backoff_doubles_and_is_capped() -> None:
    assert BACKOFF.backoff_ms == (1000, 2000, 4000, 5000)
    # two free, then 1 s, 2 s, 4 s, 5 s, 5 s between allowed attempts
    times = [0, 0, 0, 999, 1000, 2999, 3000, 6999, 7000, 11_999, 12_000, 17_000]
    assert _run(BACKOFF, times) == [
        True,
        True,
        False,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
    ]


def test_a_window_later_the_count_starts_again() -> None:
    state = Throttle(9, 0, 0)
    outcome, state = claim(state, BACKOFF, 3_600_000)
    assert outcome.allowed and state.count == 1 and state.blocked_until_ms == 0


def test_refund_gives_one_attempt_back_and_resets_a_backoff() -> None:
    assert refund(Throttle(3, 0, 60_000), RATE) == Throttle(2, 0, 0)
    assert refund(Throttle(5, 0, 60_000), RATE) == Throttle(4, 0, 60_000)
    assert refund(Throttle(1, 0, 0), RATE).empty
    assert refund(Throttle(7, 0, 99_000), BACKOFF).empty
