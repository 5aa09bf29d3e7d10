"""Prometheus metrics of the outbox."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["OUTBOX_EVENTS", "OUTBOX_REVIVED", "OUTBOX_WAKEUPS"]

OUTBOX_EVENTS = Counter(
    "email_engine_outbox_events_total",
    "Outbox delivery attempts by event kind and outcome (sent, retry, dead).",
    ["kind", "outcome"],
)

OUTBOX_REVIVED = Counter(
    "email_engine_outbox_revived_total",
    "Dead outbox events queued again automatically because their destination answered again.",
    ["destination"],
)

OUTBOX_WAKEUPS = Counter(
    "email_engine_outbox_wakeups_total",
    "Outbox deliveries started by a commit notification (not by the polling job).",
)
