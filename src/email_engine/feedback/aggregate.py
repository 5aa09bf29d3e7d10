"""What each stored record adds to the hourly stat buckets (pure).

Counting rules: ``d`` is sent and delivered; ``b`` is sent and bounced (and hard, soft or block by
its classification); ``rb`` (a bounce after acceptance) is bounced but not sent again; ``t``/``tq``
are deferrals; ``f`` is a complaint; ``r``/``rs`` are stored only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["COUNTERS", "DIMENSIONS", "BucketKey", "Countable", "bucket_deltas", "counters_for", "hour_of"]

COUNTERS = ("sent", "delivered", "bounced", "hard", "soft", "block", "complaints", "deferred")
# "all" has the single key "*"; "category" counts bounces per category in its "bounced" column.
DIMENSIONS = ("all", "ip", "vmta", "sender_domain", "rcpt_domain", "provider", "category")

BucketKey = tuple[datetime, str, str]


class Countable(Protocol):
    """What a record must tell the buckets (ingestion's prepared rows have these attributes)."""

    @property
    def type(self) -> str: ...
    @property
    def time_logged(self) -> datetime: ...
    @property
    def bounce_type(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def source_ip(self) -> str | None: ...
    @property
    def vmta(self) -> str | None: ...
    @property
    def sender_domain(self) -> str | None: ...
    @property
    def rcpt_domain(self) -> str: ...
    @property
    def provider(self) -> str: ...


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
    # Records of one hour mostly share their attributes: count identical ones first, expand after.
    groups: Counter[
        tuple[datetime, str, str | None, str | None, str | None, str | None, str | None, str, str]
    ]
    groups = Counter()
    for r in records:
        groups[
            (
                hour_of(r.time_logged),
                r.type,
                r.bounce_type,
                r.category,
                r.source_ip,
                r.vmta,
                r.sender_domain,
                r.rcpt_domain,
                r.provider,
            )
        ] += 1
    deltas: dict[BucketKey, Counter[str]] = {}
    for (
        hour,
        kind,
        bounce_type,
        category,
        ip,
        vmta,
        sender,
        rcpt_domain,
        provider,
    ), weight in groups.items():
        counters = counters_for(kind, bounce_type)
        if not counters:
            continue
        keys = (
            ("all", "*"),
            ("ip", ip),
            ("vmta", vmta),
            ("sender_domain", sender),
            ("rcpt_domain", rcpt_domain),
            ("provider", provider),
        )
        for dimension, key in keys:
            if key:
                bucket = deltas.setdefault((hour, dimension, key[:255]), Counter())
                for name in counters:
                    bucket[name] += weight
        if "bounced" in counters and category:
            deltas.setdefault((hour, "category", category), Counter())["bounced"] += weight
    return deltas
