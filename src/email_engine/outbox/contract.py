"""What a sender receives and returns. Domains declare senders in ``<domain>/senders.py``::

    SENDERS: dict[str, Sender] = {"alert": send_alerts}

A sender gets a batch of events of one kind and returns one :class:`SendResult` per event. An event
missing from the results, or a sender that raises, counts as a retryable failure for the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email_engine.context import AppContext
    from email_engine.outbox.models import OutboxEvent

__all__ = ["SendResult", "Sender"]


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
