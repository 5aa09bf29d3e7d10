"""PowerMTA message rates as exact numbers (pure): ``20/h``, ``1/m`` and ``1/3h`` read into messages
per hour as a :class:`~fractions.Fraction` (so the linter and the renderer compare them without
rounding), and the simplest rate at most a given number per hour written back."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Final

__all__ = ["format_rate_at_most", "rate_per_hour"]

# §3.3.10.33: { unlimited | 0 | N/[M]{d|day|h|hr|m|min|s|sec} }
_RATE: Final = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?(d|day|h|hr|m|min|s|sec)")


_PER_HOUR: Final = {
    "d": Fraction(1, 24),
    "day": Fraction(1, 24),
    "h": Fraction(1),
    "hr": Fraction(1),
    "m": Fraction(60),
    "min": Fraction(60),
    "s": Fraction(3600),
    "sec": Fraction(3600),
}


@lru_cache(maxsize=1024)
def rate_per_hour(text: str) -> Fraction | None:
    """Messages per hour a rate allows, exactly; ``None`` means unlimited. Raises ValueError."""
    value = text.strip()
    if value == "unlimited":
        return None
    if value == "0":
        return Fraction(0)
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a PowerMTA rate")
    count, multiple, unit = match.groups()
    return Fraction(int(count)) * _PER_HOUR[unit] / int(multiple or "1")


def format_rate_at_most(per_hour: Fraction) -> str:
    """The simplest PowerMTA rate that is at most ``per_hour`` and as close to it as a whole count
    allows: ``12/h``, or below one an hour ``1/3h`` (§3.3.10.33 allows a multiple in the denominator)."""
    if per_hour <= 0:
        return "0"
    if per_hour >= 1:
        return f"{math.floor(per_hour)}/h"
    hours = math.ceil(1 / per_hour)
    return f"1/{hours}h" if hours <= 9999 else f"1/{math.ceil(hours / 24)}d"
