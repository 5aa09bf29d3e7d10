"""The commit signal of the outbox (see ``outbox/wakeup.py``); imports nothing of the outbox itself."""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

__all__ = ["CHANNEL", "committed", "mark_enqueued"]

CHANNEL = "email_engine_outbox"
_MARK = "outbox_enqueued"
_NOTIFIED = "outbox_notified_transaction"
#: Set when a transaction that enqueued events commits in this process.
committed = threading.Event()


def mark_enqueued(session: Session, kind: str) -> None:
    """Called by ``enqueue_event`` for a new event: wake deliverers once this transaction commits."""
    session.info[_MARK] = True
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if session.info.get(_NOTIFIED) is not transaction:  # one NOTIFY per transaction is enough
        session.execute(text("SELECT pg_notify(:channel, :kind)"), {"channel": CHANNEL, "kind": kind})
        session.info[_NOTIFIED] = transaction


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    if session.info.pop(_MARK, False):
        committed.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    session.info.pop(_MARK, None)
