"""Retry delays: exponential backoff with jitter (pure; the random draw is passed in)."""

from __future__ import annotations

__all__ = ["retry_delay_seconds"]


def retry_delay_seconds(attempts: int, *, base: float, cap: float, draw: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based).

    The ceiling doubles each attempt up to ``cap``; ``draw`` in [0, 1) picks a point in the upper
    half of it ("equal jitter"), so retries spread out but never come back at once.
    """
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    if not 0.0 <= draw < 1.0:
        raise ValueError("draw must be in [0, 1)")
    ceiling = min(cap, base * (2.0 ** min(attempts - 1, 62)))
    return ceiling / 2.0 + (ceiling / 2.0) * draw
