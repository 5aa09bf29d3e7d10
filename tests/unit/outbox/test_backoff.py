"""Retry delays double per attempt, stay under the cap, and jitter within the upper half."""

from __future__ import annotations

import pytest

from email_engine.outbox.backoff import retry_delay_seconds


@pytest.mark.parametrize(
    ("attempts", "draw", "expected"),
    [
        (1, 0.0, 15.0),
        (1, 0.999999, 29.99997),
        (2, 0.0, 30.0),
        (3, 0.5, 90.0),
        (10, 0.0, 1800.0),  # capped at 3600, lower half cut off
        (500, 0.0, 1800.0),  # huge attempt counts do not overflow
    ],
)
def test_delays(attempts: int, draw: float, expected: float) -> None:
    assert retry_delay_seconds(attempts, base=30, cap=3600, draw=draw) == pytest.approx(expected)


def test_delays_grow_monotonically_until_the_cap() -> None:
    delays = [retry_delay_seconds(n, base=30, cap=3600, draw=0.0) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert max(retry_delay_seconds(n, base=30, cap=3600, draw=0.99) for n in range(1, 40)) < 3600


@pytest.mark.parametrize(("attempts", "draw"), [(0, 0.5), (-1, 0.5), (1, 1.0), (1, -0.1)])
def test_bad_arguments(attempts: int, draw: float) -> None:
    with pytest.raises(ValueError):
        retry_delay_seconds(attempts, base=30, cap=3600, draw=draw)
