"""Warmup schedules (pure): the curves of daily volumes a plan follows, the rules a custom schedule
must keep (a cold IP opens small and at most doubles a day), and a day's volume spread over the
sending hours and the mailbox providers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_PROVIDER_SHARES",
    "MAX_DAILY_VOLUME",
    "MAX_FIRST_DAY_VOLUME",
    "MAX_SCHEDULE_DAYS",
    "ScheduleError",
    "geometric_curve",
    "hourly_limit",
    "provider_limits",
    "takeover_curve",
    "validate_schedule",
]

MAX_SCHEDULE_DAYS = 365


MAX_DAILY_VOLUME = 10_000_000


# A custom schedule may not open above this volume nor more than double from one day to the next:
# a cold IP is never handed full volume (DESIGN.md principle 1).
MAX_FIRST_DAY_VOLUME = 5_000


MAX_DAY_OVER_DAY_GROWTH = 2.0


class ScheduleError(ValueError):
    """A custom schedule, preset name or gate setting is unusable; the message says why."""


DEFAULT_PROVIDER_SHARES: Mapping[str, float] = {"gmail": 0.4, "microsoft": 0.3, "yahoo": 0.2, "other": 0.5}


def _round_volume(value: float) -> int:
    """Round to a figure a person reads easily: 10s below 1,000, 100s below 10,000, then 1,000s."""
    if value < 100:
        return max(1, round(value))
    if value < 1_000:
        return round(value / 10) * 10
    if value < 10_000:
        return round(value / 100) * 100
    return round(value / 1_000) * 1_000


def geometric_curve(start: int, end: int, days: int) -> tuple[int, ...]:
    """A curve growing by the same factor each day from ``start`` to ``end``, rounded, never flat."""
    if days < 2 or start < 1 or end <= start:
        raise ScheduleError("A geometric curve needs at least 2 days and end > start >= 1.")
    factor = (end / start) ** (1 / (days - 1))
    points: list[int] = []
    for day in range(days):
        value = _round_volume(start * factor**day)
        if points and value <= points[-1]:
            value = points[-1] + 1
        points.append(value)
    points[-1] = end
    return tuple(points)


def takeover_curve(start: int, end: int, *, growth: float = 1.5) -> tuple[int, ...]:
    """The ramp of a warm standby taking over: from ``start`` (what it has proven, capped at what the
    listed IP sent) up to ``end`` (the listed IP's recent daily volume), growing at most ``growth``
    a day; one point when there is nothing to climb."""
    if start < 1 or end < 1:
        raise ScheduleError("A takeover needs a volume of at least 1 a day.")
    if end <= start:
        return (start,)
    days = max(2, math.ceil(math.log(end / start) / math.log(growth)) + 1)
    return geometric_curve(start, end, days)


def validate_schedule(schedule: Sequence[int], *, max_opening: int = MAX_FIRST_DAY_VOLUME) -> tuple[int, ...]:
    """Check a day-by-day schedule and return it as a tuple; raise :class:`ScheduleError` with the reason.

    ``max_opening``: the highest allowed first point (a cold IP opens at most at
    ``MAX_FIRST_DAY_VOLUME``; a warm standby's takeover plan at the volume it has proven)."""
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Sequence):
        raise ScheduleError("The schedule must be a list of daily volumes.")
    if not 1 <= len(schedule) <= MAX_SCHEDULE_DAYS:
        raise ScheduleError(f"The schedule must have 1 to {MAX_SCHEDULE_DAYS} days; it has {len(schedule)}.")
    points: list[int] = []
    for day, volume in enumerate(schedule, start=1):
        if isinstance(volume, bool) or not isinstance(volume, int):
            raise ScheduleError(f"Day {day}: the volume must be a whole number, got {volume!r}.")
        if not 1 <= volume <= MAX_DAILY_VOLUME:
            raise ScheduleError(
                f"Day {day}: the volume must be between 1 and {MAX_DAILY_VOLUME:,}, got {volume}."
            )
        if day == 1 and volume > max(max_opening, MAX_FIRST_DAY_VOLUME):
            raise ScheduleError(
                f"Day 1: a warmup may not open above {max(max_opening, MAX_FIRST_DAY_VOLUME):,} messages "
                f"(got {volume:,}); "
                "a cold IP must start small."
            )
        if points and volume > points[-1] * MAX_DAY_OVER_DAY_GROWTH:
            raise ScheduleError(
                f"Day {day}: {volume:,} is more than {MAX_DAY_OVER_DAY_GROWTH:g}× day {day - 1} "
                f"({points[-1]:,}); raise the volume more gradually."
            )
        points.append(volume)
    return tuple(points)


def hourly_limit(daily: int, active_hours: int) -> int:
    return 0 if daily <= 0 else max(1, math.ceil(daily / active_hours))


def provider_limits(daily: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Per-provider caps: each provider gets at most its share of the day (rounded down, at least 1)."""
    if daily <= 0:
        return dict.fromkeys(shares, 0)
    return {provider: min(daily, max(1, math.floor(daily * share))) for provider, share in shares.items()}
