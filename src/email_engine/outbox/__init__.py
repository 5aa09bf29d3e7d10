"""Durable transactional outbox: events written with the caller's data, delivered by a worker.

``enqueue_event`` writes an event in the caller's transaction; the ``outbox`` job (or
``email-engine outbox drain``) claims due events and hands them by ``kind`` to the senders that
domains declare in ``<domain>/senders.py``.
"""

from email_engine.outbox.contract import Sender, SendResult
from email_engine.outbox.service import backlog, enqueue_event

__all__ = ["SendResult", "Sender", "backlog", "enqueue_event"]
