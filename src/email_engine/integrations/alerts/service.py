"""Raise and resolve alerts: the same condition alerts once, reminds at an interval, and says when it clears.

Messages are outbox events of kind ``alert``, written in the caller's transaction, so an alert is
never lost when Telegram is down and never sent for a change that was rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.errors import InvalidInput
from email_engine.integrations.alerts.models import AlertState
from email_engine.integrations.alerts.settings import AlertSettings
from email_engine.outbox.service import enqueue_event
from email_engine.platform.settings import session_section
from email_engine.platform.upsert import insert_for

__all__ = [
    "ALERT_KIND",
    "Severity",
    "active_alerts",
    "enqueue_test_message",
    "raise_alert",
    "resolve_alert",
]

ALERT_KIND = "alert"
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
MessageState = Literal["firing", "reminder", "escalated", "resolved", "test"]

MAX_KEY = 200
MAX_TITLE = 200
MAX_TEXT = 3000  # Telegram messages hold 4096 characters after escaping and headers


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _message(state: AlertState, kind: MessageState, now: datetime) -> dict[str, Any]:
    return {
        "key": state.key,
        "state": kind,
        "severity": state.severity,
        "title": state.title,
        "text": state.text,
        "first_raised_at": state.first_raised_at.isoformat(),
        "at": now.isoformat(),
        "notification": state.notifications,
    }


def _enqueue(session: Session, state: AlertState, kind: MessageState, now: datetime) -> bool:
    suffix = "resolved" if kind == "resolved" else str(state.notifications)
    return enqueue_event(
        session,
        kind=ALERT_KIND,
        payload=_message(state, kind, now),
        idempotency_key=f"alert:{state.key}:{state.episode}:{suffix}",
        now=now,
    )


def _locked_state(session: Session, key: str) -> AlertState | None:
    return session.scalars(select(AlertState).where(AlertState.key == key).with_for_update()).first()


def _insert_state(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless another worker created the row first (then that row is used). True if inserted."""
    inserted_id = session.execute(
        insert_for(session, AlertState)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(AlertState.id)
    ).scalar_one_or_none()
    session.flush()
    return inserted_id is not None


def _check(key: str, now: datetime) -> None:
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"An alert key must be 1 to {MAX_KEY} characters.")
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware.")


def raise_alert(
    session: Session,
    *,
    key: str,
    severity: Severity,
    title: str,
    text: str,
    now: datetime,
    remind_intervals: Mapping[str, timedelta] | None = None,
) -> bool:
    """Record that the condition ``key`` holds now. True when a message was queued.

    A new (or returning) condition sends "firing"; a higher severity sends "escalated" at once;
    otherwise a "reminder" goes out when the severity's interval has passed since the last message.
    """
    _check(key, now)
    if severity not in get_args(Severity):
        raise InvalidInput(f"Alert severity must be one of info, warning, critical (got {severity!r}).")
    intervals = remind_intervals or session_section(session, AlertSettings).remind_intervals()
    title = _clip(title.strip() or key, MAX_TITLE)
    text = _clip(text, MAX_TEXT)

    state = _locked_state(session, key)
    if state is None:
        inserted = _insert_state(
            session,
            {
                "key": key,
                "severity": severity,
                "status": "firing",
                "title": title,
                "text": text,
                "episode": 1,
                "first_raised_at": now,
                "last_seen_at": now,
                "last_notified_at": now,
                "notifications": 1,
                "resolved_at": None,
            },
        )
        state = _locked_state(session, key)
        assert state is not None
        if inserted:
            return _enqueue(session, state, "firing", now)
    state.last_seen_at = now
    state.title = title
    state.text = text
    if state.status != "firing":
        state.status = "firing"
        state.severity = severity
        state.episode += 1
        state.first_raised_at = now
        state.last_notified_at = now
        state.notifications = 1
        state.resolved_at = None
        session.flush()
        return _enqueue(session, state, "firing", now)
    if SEVERITY_RANK[severity] > SEVERITY_RANK[state.severity]:
        state.severity = severity
        state.notifications += 1
        state.last_notified_at = now
        session.flush()
        return _enqueue(session, state, "escalated", now)
    state.severity = severity
    if now - state.last_notified_at >= intervals[severity]:
        state.notifications += 1
        state.last_notified_at = now
        session.flush()
        return _enqueue(session, state, "reminder", now)
    session.flush()
    return False


def resolve_alert(session: Session, *, key: str, now: datetime) -> bool:
    """The condition ``key`` no longer holds. True when a "resolved" message was queued."""
    _check(key, now)
    state = _locked_state(session, key)
    if state is None or state.status != "firing":
        return False
    state.status = "resolved"
    state.resolved_at = now
    state.last_seen_at = now
    session.flush()
    return _enqueue(session, state, "resolved", now)


def active_alerts(session: Session) -> list[AlertState]:
    return list(
        session.scalars(select(AlertState).where(AlertState.status == "firing").order_by(AlertState.key))
    )


def enqueue_test_message(session: Session, *, now: datetime, note: str = "") -> str:
    """Queue a one-off test message (not deduplicated); returns its idempotency key."""
    idempotency_key = f"alert-test:{now.isoformat()}:{uuid.uuid4().hex[:8]}"
    enqueue_event(
        session,
        kind=ALERT_KIND,
        payload={
            "key": "test",
            "state": "test",
            "severity": "info",
            "title": "Test message from Email Engine",
            "text": note or "If you can read this, alerts reach you.",
            "first_raised_at": now.isoformat(),
            "at": now.isoformat(),
            "notification": 1,
        },
        idempotency_key=idempotency_key,
        now=now,
    )
    return idempotency_key
