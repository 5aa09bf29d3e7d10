"""Prometheus metrics of the outbox."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["OUTBOX_EVENTS"]

OUTBOX_EVENTS = Counter(
    "email_engine_outbox_events_total",
    "Outbox delivery attempts by event kind and outcome (sent, retry, dead).",
    ["kind", "outcome"],
)
