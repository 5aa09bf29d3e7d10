"""enqueue_event writes in the caller's transaction and ignores duplicate keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.errors import InvalidInput
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.service import backlog, enqueue_event, status_counts

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_enqueue_then_duplicate_is_ignored_without_breaking_the_transaction(session: Session) -> None:
    assert enqueue_event(session, kind="bounce", payload={"a": 1}, idempotency_key="k-1", now=NOW) is True
    assert enqueue_event(session, kind="bounce", payload={"a": 2}, idempotency_key="k-1", now=NOW) is False
    assert enqueue_event(session, kind="bounce", payload={"a": 3}, idempotency_key="k-2", now=NOW) is True
    session.commit()
    events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.idempotency_key, e.payload, e.status, e.attempts) for e in events] == [
        ("k-1", {"a": 1}, "pending", 0),
        ("k-2", {"a": 3}, "pending", 0),
    ]
    assert events[0].next_attempt_at == NOW
    # A duplicate in a later transaction is still ignored.
    assert enqueue_event(session, kind="bounce", payload={"a": 9}, idempotency_key="k-2", now=NOW) is False
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 2


def test_rollback_of_the_caller_discards_the_event(session: Session) -> None:
    assert enqueue_event(session, kind="alert", payload={}, idempotency_key="gone", now=NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_backlog_and_status_counts(session: Session) -> None:
    for index in range(3):
        enqueue_event(session, kind="bounce", payload={"i": index}, idempotency_key=f"b{index}", now=NOW)
    enqueue_event(session, kind="alert", payload={}, idempotency_key="a0", now=NOW)
    session.commit()
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.idempotency_key == "b0")).one()
    event.status = "dead"
    session.commit()
    assert backlog(session) == {"bounce": 2, "alert": 1}
    counts = status_counts(session)
    assert counts["bounce"] == {"pending": 2, "sending": 0, "sent": 0, "dead": 1}
    assert counts["alert"]["pending"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "", "payload": {}, "idempotency_key": "x"}, "kind"),
        ({"kind": "k" * 65, "payload": {}, "idempotency_key": "x"}, "kind"),
        ({"kind": "a", "payload": {}, "idempotency_key": ""}, "idempotency key"),
        ({"kind": "a", "payload": {}, "idempotency_key": "x" * 256}, "idempotency key"),
        ({"kind": "a", "payload": {"t": object()}, "idempotency_key": "x"}, "JSON"),
        ({"kind": "a", "payload": {"n": float("nan")}, "idempotency_key": "x"}, "JSON"),
        ({"kind": "a", "payload": ["not", "an", "object"], "idempotency_key": "x"}, "JSON object"),
        ({"kind": "a", "payload": {"big": "x" * 300_000}, "idempotency_key": "x"}, "bytes"),
    ],
)
def test_bad_events_are_refused_with_a_sentence(
    session: Session, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        enqueue_event(session, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_naive_now_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        enqueue_event(session, kind="a", payload={}, idempotency_key="x", now=datetime(2026, 1, 1))
