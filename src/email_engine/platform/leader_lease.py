"""The leader lease: which process runs the periodic jobs.

Two backends, same contract (:class:`Lease`): ``acquire_or_renew()`` returns True while this
process holds the lease. The holder renews it every ``SCHEDULER_RENEW_SECONDS``; if it dies, the
lease expires after ``SCHEDULER_LEASE_SECONDS`` and the next worker to try takes it.

- :class:`DatabaseLease`: a row in ``scheduler_lease`` taken with ``platform.lease.take_lease`` (one
  conditional ``UPDATE``: ``holder = me OR expires_at < now``, or an ``INSERT … ON CONFLICT DO
  NOTHING``). On PostgreSQL the database clock decides expiry, so app hosts need not agree on the
  time. On SQLite the row lives in the SQLite file, which only processes on one machine share.
- :class:`RedisLease`: ``SET key value NX PX ttl``; renewal and release are Lua scripts that act
  only if the stored value is still ours (a token check), so a late renewal never steals the lease.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import redis
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.platform.lease import take_lease
from email_engine.platform.models import SchedulerLease

__all__ = [
    "SCHEDULER_KEY",
    "DatabaseLease",
    "Leadership",
    "Lease",
    "LeaseHolder",
    "RedisLease",
    "process_identity",
    "running_leadership",
]

LEASE_NAME = "scheduler"
#: Where the scheduler an HTTP process runs sits in ``AppContext.extras`` (ops puts it there).
SCHEDULER_KEY = "scheduler"


@runtime_checkable
class Leadership(Protocol):
    """Whether this process holds the leader lease right now."""

    @property
    def is_leader(self) -> bool: ...


def running_leadership(ctx: AppContext) -> Leadership | None:
    """The leadership of the scheduler this process runs, None when it runs none (the outbox waker
    follows it without knowing the scheduler)."""
    scheduler = ctx.extras.get(SCHEDULER_KEY)
    return scheduler if isinstance(scheduler, Leadership) else None


def process_identity() -> str:
    """host:pid:random, unique per process start (a restarted pid is a new holder)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    holder: str
    backend: str
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None
    live: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "backend": self.backend,
            "acquired_at": self.acquired_at.isoformat() if self.acquired_at else None,
            "renewed_at": self.renewed_at.isoformat() if self.renewed_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "live": self.live,
        }


class Lease(Protocol):
    backend: str
    identity: str

    def acquire_or_renew(self) -> bool: ...

    def release(self) -> None: ...

    def current(self) -> LeaseHolder | None: ...


class DatabaseLease:
    backend = "database"

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        identity: str,
        ttl_seconds: float,
        name: str = LEASE_NAME,
    ) -> None:
        self._factory = session_factory
        self.identity = identity
        self._ttl = timedelta(seconds=ttl_seconds)
        self._name = name

    @staticmethod
    def _now(session: Session) -> datetime:
        if session.get_bind().dialect.name == "postgresql":
            value = session.scalar(select(func.clock_timestamp()))
            if isinstance(value, datetime):
                return value.astimezone(UTC)
        return utcnow()

    def acquire_or_renew(self) -> bool:
        with self._factory() as session, session.begin():
            now = self._now(session)
            table = SchedulerLease
            times = {"renewed_at": now, "expires_at": now + self._ttl}
            return take_lease(
                session,
                key=table.name,
                name=self._name,
                holder=table.holder,
                identity=self.identity,
                expires=table.expires_at,
                now=now,
                renew={
                    "acquired_at": case((table.holder == self.identity, table.acquired_at), else_=now),
                    **times,
                },
                create={"acquired_at": now, **times},
            )

    def release(self) -> None:
        with self._factory() as session, session.begin():
            session.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == self._name, SchedulerLease.holder == self.identity
                )
            )

    def current(self) -> LeaseHolder | None:
        with self._factory() as session:
            row = session.get(SchedulerLease, self._name)
            if row is None:
                return None
            now = self._now(session)
            return LeaseHolder(
                holder=row.holder,
                backend=self.backend,
                acquired_at=row.acquired_at,
                renewed_at=row.renewed_at,
                expires_at=row.expires_at,
                live=row.expires_at > now,
            )


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLease:
    backend = "redis"

    def __init__(self, client: redis.Redis, *, key: str, identity: str, ttl_seconds: float) -> None:
        self._client = client
        self._key = key
        self.identity = identity
        self._ttl_ms = int(ttl_seconds * 1000)
        self._value: str | None = None

    def acquire_or_renew(self) -> bool:
        if self._value is not None and self._client.eval(_RENEW, 1, self._key, self._value, self._ttl_ms):
            return True
        value = json.dumps(
            {"holder": self.identity, "token": uuid.uuid4().hex, "acquired_at": utcnow().isoformat()}
        )
        if self._client.set(self._key, value, nx=True, px=self._ttl_ms):
            self._value = value
            return True
        self._value = None
        return False

    def release(self) -> None:
        if self._value is not None:
            self._client.eval(_RELEASE, 1, self._key, self._value)
            self._value = None

    def current(self) -> LeaseHolder | None:
        raw = self._client.get(self._key)
        ttl_ms = self._client.pttl(self._key)
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            data = json.loads(text)
            holder = str(data["holder"])
            acquired = datetime.fromisoformat(data["acquired_at"])
        except (ValueError, KeyError, TypeError):
            holder, acquired = text[:128], None
        now = utcnow()
        expires = now + timedelta(milliseconds=ttl_ms) if isinstance(ttl_ms, int) and ttl_ms > 0 else None
        renewed = expires - timedelta(milliseconds=self._ttl_ms) if expires else None
        return LeaseHolder(
            holder=holder,
            backend=self.backend,
            acquired_at=acquired,
            renewed_at=renewed,
            expires_at=expires,
            live=True,
        )
