"""What a sender receives and returns. Domains declare senders in ``<domain>/senders.py``::

    SENDERS: dict[str, Sender] = {"alert": send_alerts}
    ON_DEAD_EVENTS: DeadEventsWatcher = alert_dead_events   # optional

A sender gets a batch of events of one kind and returns one :class:`SendResult` per event. An event
missing from the results, or a sender that raises, counts as a retryable failure for the batch.
After each ``outbox`` run, every ``ON_DEAD_EVENTS`` is told how many events are dead per destination
(every known destination, 0 when none), in the run's transaction: the outbox knows no reader of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from email_engine.context import AppContext
    from email_engine.outbox.models import OutboxEvent

__all__ = ["DeadEventsWatcher", "SendResult", "Sender"]


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of delivering one event.

    ``retryable=False`` with ``ok=False`` dead-letters the event at once (the peer refused it for
    good, e.g. HTTP 400); retryable failures back off and try again until the attempt limit.
    """

    event_id: int
    ok: bool
    error: str | None = None
    retryable: bool = True


Sender = Callable[["AppContext", "Sequence[OutboxEvent]"], Sequence[SendResult]]
#: ``watch(session, dead_by_destination, now)``.
DeadEventsWatcher = Callable[["Session", Mapping[str, int], datetime], None]
