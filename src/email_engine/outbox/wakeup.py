"""Deliver outbox events seconds after they are committed, not at the next poll.

- **Signal** (``outbox/notify.py``). ``enqueue_event`` marks its session; when that transaction commits, a process-local event
  is set. On PostgreSQL it also runs ``pg_notify('email_engine_outbox', kind)``, which PostgreSQL
  delivers to listeners only when (and if) the transaction commits — so other processes (the
  ``email-engine pipe`` beside the API workers) wake the deliverer too.
- **Listener.** :class:`OutboxWaker` runs in each API worker (``outbox/lifespan.py``). On PostgreSQL it
  ``LISTEN``s on a connection of its own; on SQLite it waits for the local event (a separate pipe
  process on SQLite is picked up by the poll). When woken, and only while this process holds the
  scheduler lease, it drains the outbox at once.
- **Fallback.** The ``outbox`` job still runs every ``OUTBOX_INTERVAL_SECONDS``: a lost notification
  (the listener reconnecting, a worker restart) delays an event by one poll, never loses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from sqlalchemy.engine import make_url

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.outbox.delivery import drain
from email_engine.outbox.metrics import OUTBOX_WAKEUPS
from email_engine.outbox.notify import CHANNEL, committed
from email_engine.outbox.settings import OutboxSettings

__all__ = ["OutboxWaker"]

log = structlog.get_logger("email_engine.outbox")


class OutboxWaker:
    """A thread that drains the outbox when events are committed (see the module docstring)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        settings: OutboxSettings,
        is_leader: Callable[[], bool],
        poll_seconds: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.is_leader = is_leader
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-waker", daemon=True)
        self._postgres = ctx.engine.dialect.name == "postgresql"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        committed.set()  # let a local wait return
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._postgres:
                    self._listen()
                else:
                    self._wait_locally()
            except Exception as exc:  # a dropped connection: the poll covers the gap, then listen again
                log.warning("outbox_waker_error", error=type(exc).__name__)
                self._stop.wait(min(5.0, self.poll_seconds * 5))

    def _listen(self) -> None:
        url = make_url(self.ctx.settings.database_url).set(drivername="postgresql")
        with psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                woken = committed.is_set()
                for _notice in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                    woken = True
                if woken:
                    self._deliver()

    def _wait_locally(self) -> None:
        while not self._stop.is_set():
            if committed.wait(self.poll_seconds):
                self._deliver()

    def _deliver(self) -> None:
        committed.clear()
        if self._stop.is_set() or not self.is_leader():
            return
        OUTBOX_WAKEUPS.inc()
        report: Any = drain(self.ctx, settings=self.settings, clock=utcnow)
        if report.claimed:
            log.debug("outbox_woken", **report.as_dict())
