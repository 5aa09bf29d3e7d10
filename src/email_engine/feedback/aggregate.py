"""What each stored record adds to the hourly stat buckets (pure).

Counting rules: ``d`` is sent and delivered; ``b`` is sent and bounced (and hard, soft or block by
its classification); ``rb`` (a bounce after acceptance) is bounced but not sent again; ``t``/``tq``
are deferrals; ``f`` is a complaint; ``r``/``rs`` are stored only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["COUNTERS", "DIMENSIONS", "BucketKey", "Countable", "bucket_deltas", "counters_for", "hour_of"]

COUNTERS = ("sent", "delivered", "bounced", "hard", "soft", "block", "complaints", "deferred")
# "all" has the single key "*"; "category" counts bounces per category in its "bounced" column.
DIMENSIONS = ("all", "ip", "vmta", "sender_domain", "rcpt_domain", "provider", "category")

BucketKey = tuple[datetime, str, str]


@dataclass(frozen=True, slots=True)
class Countable:
    type: str
    time_logged: datetime
    bounce_type: str | None
    category: str | None
    source_ip: str | None
    vmta: str | None
    sender_domain: str | None
    rcpt_domain: str
    provider: str


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counters_for(record_type: str, bounce_type: str | None) -> tuple[str, ...]:
    if record_type == "d":
        return ("sent", "delivered")
    if record_type in ("b", "rb"):
        base = ("sent", "bounced") if record_type == "b" else ("bounced",)
        return (*base, bounce_type) if bounce_type in ("hard", "soft", "block") else base
    if record_type in ("t", "tq"):
        return ("deferred",)
    if record_type == "f":
        return ("complaints",)
    return ()


def bucket_deltas(records: Iterable[Countable]) -> dict[BucketKey, Counter[str]]:
    deltas: dict[BucketKey, Counter[str]] = {}
    for record in records:
        counters = counters_for(record.type, record.bounce_type)
        if not counters:
            continue
        hour = hour_of(record.time_logged)
        keys = [
            ("all", "*"),
            ("ip", record.source_ip),
            ("vmta", record.vmta),
            ("sender_domain", record.sender_domain),
            ("rcpt_domain", record.rcpt_domain),
            ("provider", record.provider),
        ]
        for dimension, key in keys:
            if key:
                bucket = deltas.setdefault((hour, dimension, key[:255]), Counter())
                for name in counters:
                    bucket[name] += 1
        if "bounced" in counters and record.category:
            deltas.setdefault((hour, "category", record.category), Counter())["bounced"] += 1
    return deltas
