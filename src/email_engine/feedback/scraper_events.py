"""What ingestion queues for scraper-pro (through the outbox, in the batch's transaction): bounces
and complaints in chunks, and one delivery count per recipient domain."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from email_engine.feedback.classified import ClassifiedRecord, suppression_reason
from email_engine.outbox.service import enqueue_event

__all__ = ["BOUNCES_PER_EVENT", "BOUNCE_EVENT", "DELIVERY_EVENT", "bounce_payload", "queue_feedback"]

BOUNCE_EVENT = "scraper_pro.bounce"


DELIVERY_EVENT = "scraper_pro.delivery"


# Bounces per outbox event (and per HTTP request to scraper-pro): one row per bounce would cost a
# round trip each at ingestion time; 100 keeps a request well under a few hundred kilobytes.
BOUNCES_PER_EVENT = 100


def bounce_payload(row: ClassifiedRecord, *, diag_max_chars: int) -> dict[str, object]:
    record = row.record
    return {
        "email": record.rcpt,
        "event": "complaint" if record.type == "f" else "bounce",
        "type": "complaint" if record.type == "f" else row.bounce_type,
        "category": row.category,
        "dsn_status": record.dsn_status,
        "diagnostic": (record.dsn_diag or "")[:diag_max_chars] or None,
        "source_ip": record.source_ip,
        "vmta": record.vmta,
        "record_type": record.type,
        "occurred_at": record.time_logged.isoformat(),
        "idempotency_key": f"{BOUNCE_EVENT}:{record.key}",
    }


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def queue_feedback(
    session: Session,
    rows: Sequence[ClassifiedRecord],
    *,
    bounces: bool,
    deliveries: bool,
    diag_max_chars: int,
    now: datetime,
) -> tuple[int, int]:
    """Queue scraper-pro events: bounces in chunks of BOUNCES_PER_EVENT, one delivery count per domain.

    Only rows stored by this call get here, so a replay queues nothing twice; the outbox keys are
    derived from the record keys all the same.
    """
    payloads: list[dict[str, object]] = []
    delivered: dict[str, list[ClassifiedRecord]] = {}
    for row in rows:
        if suppression_reason(row) is not None:
            if bounces:
                payloads.append(bounce_payload(row, diag_max_chars=diag_max_chars))
        elif row.record.type == "d" and row.rcpt_domain and deliveries:
            delivered.setdefault(row.rcpt_domain, []).append(row)
    bounce_count = 0
    for start in range(0, len(payloads), BOUNCES_PER_EVENT):
        chunk = payloads[start : start + BOUNCES_PER_EVENT]
        key = f"{BOUNCE_EVENT}:{_digest([str(item['idempotency_key']) for item in chunk])}"
        if enqueue_event(
            session, kind=BOUNCE_EVENT, payload={"bounces": chunk}, idempotency_key=key, now=now
        ):
            bounce_count += len(chunk)
    delivery_events = 0
    for domain, domain_rows in sorted(delivered.items()):
        key = f"{DELIVERY_EVENT}:{_digest([domain, *sorted(row.record.key for row in domain_rows)])}"
        times = [row.record.time_logged for row in domain_rows]
        payload = {
            "domain": domain,
            "provider": domain_rows[0].provider,
            "delivered": len(domain_rows),
            "first_at": min(times).isoformat(),
            "last_at": max(times).isoformat(),
            "idempotency_key": key,
        }
        if enqueue_event(session, kind=DELIVERY_EVENT, payload=payload, idempotency_key=key, now=now):
            delivery_events += 1
    return bounce_count, delivery_events
