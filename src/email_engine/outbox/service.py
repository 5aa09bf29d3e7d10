"""Outbox service: enqueue in the caller's transaction, inspect, retry by hand.

Delivery (claiming and completing events) lives in :mod:`email_engine.outbox.delivery`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from email_engine.errors import Conflict, InvalidInput, NotFound
from email_engine.outbox.models import DeadCause, OutboxEvent, OutboxStatus
from email_engine.outbox.notify import mark_enqueued
from email_engine.platform.upsert import dialect_insert

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "backlog",
    "dead_counts",
    "enqueue_event",
    "recent_dead",
    "requeue",
    "retry_event",
    "revivable_kinds",
    "status_counts",
]

MAX_PAYLOAD_BYTES = 262_144
_UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def _check_event(
    kind: str, payload: Mapping[str, Any], idempotency_key: str, now: datetime
) -> dict[str, Any]:
    if not kind or len(kind) > 64:
        raise InvalidInput("An outbox event kind must be 1 to 64 characters.")
    if not idempotency_key or len(idempotency_key) > 255:
        raise InvalidInput("An outbox idempotency key must be 1 to 255 characters.")
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware.")
    if not isinstance(payload, Mapping):
        raise InvalidInput("An outbox payload must be a JSON object.")
    try:
        encoded = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The {kind} outbox payload is not JSON-serialisable: {exc}.") from exc
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidInput(
            f"The {kind} outbox payload is over {MAX_PAYLOAD_BYTES} bytes; send smaller batches."
        )
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded


def enqueue_event(
    session: Session,
    *,
    kind: str,
    payload: Mapping[str, Any],
    idempotency_key: str,
    now: datetime,
) -> bool:
    """Add an event in the caller's transaction (flush only). False when the key exists already.

    Duplicates never raise and never disturb the transaction: the insert is an
    ``INSERT … ON CONFLICT DO NOTHING`` on the unique idempotency key.
    """
    values = {
        "kind": kind,
        "idempotency_key": idempotency_key,
        "payload": _check_event(kind, payload, idempotency_key, now),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    statement = _insert_statement(session.get_bind().dialect.name)
    inserted_id = session.execute(statement, values).scalar_one_or_none()
    if inserted_id is not None:
        mark_enqueued(session, kind)
    session.flush()
    return inserted_id is not None


@lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id``, built once per dialect.

    A Core insert on the table with parameters passed at execution skips per-call statement
    construction (most of the cost of an enqueue); RETURNING, not rowcount, tells whether it
    inserted (psycopg reports -1 for these).
    """
    table = cast(Table, OutboxEvent.__table__)
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )


def backlog(session: Session) -> dict[str, int]:
    """Undelivered events (pending or being sent) per kind."""
    rows = session.execute(
        select(OutboxEvent.kind, func.count())
        .where(OutboxEvent.status.in_(_UNDELIVERED))
        .group_by(OutboxEvent.kind)
    ).all()
    return {kind: int(count) for kind, count in rows}


def status_counts(session: Session) -> dict[str, dict[str, int]]:
    """``{kind: {status: count}}`` with every status present (zero when none)."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(OutboxEvent.kind, OutboxEvent.status, func.count()).group_by(
            OutboxEvent.kind, OutboxEvent.status
        )
    ).all()
    for kind, status, count in rows:
        counts.setdefault(kind, dict.fromkeys(OutboxStatus.ALL, 0))[status] = int(count)
    return counts


def oldest_undelivered(session: Session) -> datetime | None:
    value = session.scalar(
        select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status.in_(_UNDELIVERED))
    )
    return value


def recent_dead(session: Session, *, limit: int = 50) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.status == OutboxStatus.DEAD)
            .order_by(OutboxEvent.id.desc())
            .limit(limit)
        )
    )


def retry_event(session: Session, *, event_id: int, now: datetime) -> OutboxEvent:
    """Put a dead (or failing) event back in the queue for an immediate attempt with fresh attempts."""
    event = session.get(OutboxEvent, event_id)
    if event is None:
        raise NotFound(f"Outbox event {event_id} does not exist.")
    if event.status == OutboxStatus.SENT:
        raise Conflict(f"Outbox event {event_id} was delivered at {event.sent_at}; it is not sent again.")
    result = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.status != OutboxStatus.SENT)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            claimed_by=None,
            dead_cause=None,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(f"Outbox event {event_id} changed while retrying it; look at it again.")
    session.flush()
    session.refresh(event)
    return event


def requeue(
    session: Session,
    *,
    kinds: Sequence[str] | None,
    state: str,
    now: datetime,
    automatic: bool = False,
    max_revivals: int = 0,
) -> int:
    """Queue again the ``dead`` events (or make the waiting ``pending`` ones due now) of ``kinds``
    (None: every kind). Returns how many.

    Revived events keep their idempotency key and become due at their creation time, so they go out
    oldest first and ahead of newer events. ``automatic`` revivals (the peer answers again) take only
    events that ran out of attempts, at most ``max_revivals`` times each.
    """
    query = update(OutboxEvent)
    if kinds is not None:
        query = query.where(OutboxEvent.kind.in_(list(kinds)))
    if state == OutboxStatus.PENDING:
        query = query.where(OutboxEvent.status == OutboxStatus.PENDING, OutboxEvent.next_attempt_at > now)
        values: dict[str, Any] = {"next_attempt_at": now}
    elif state == OutboxStatus.DEAD:
        query = query.where(OutboxEvent.status == OutboxStatus.DEAD)
        values = {
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": OutboxEvent.created_at,
            "locked_until": None,
            "claimed_by": None,
            "dead_cause": None,
        }
        if automatic:
            query = query.where(
                OutboxEvent.dead_cause == DeadCause.EXHAUSTED, OutboxEvent.revivals < max_revivals
            )
            values["revivals"] = OutboxEvent.revivals + 1
    else:
        raise InvalidInput("state must be dead or pending.")
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def dead_counts(session: Session) -> dict[str, int]:
    """Dead events per kind."""
    rows = session.execute(
        select(OutboxEvent.kind, func.count())
        .where(OutboxEvent.status == OutboxStatus.DEAD)
        .group_by(OutboxEvent.kind)
    ).all()
    return {kind: int(count) for kind, count in rows}


def revivable_kinds(session: Session, *, max_revivals: int) -> set[str]:
    """Kinds with dead events that an answering peer would bring back."""
    return set(
        session.scalars(
            select(OutboxEvent.kind)
            .where(
                OutboxEvent.status == OutboxStatus.DEAD,
                OutboxEvent.dead_cause == DeadCause.EXHAUSTED,
                OutboxEvent.revivals < max_revivals,
            )
            .distinct()
        )
    )
