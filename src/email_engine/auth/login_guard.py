"""Login protection: claim every attempt before the password is checked (policy in ``auth.throttle``).

Counters live in Redis when ``REDIS_URL`` is set (a ``WATCH``/``MULTI`` transaction per claim, so
workers share them) and in the database otherwise (``login_throttle``: the row is written first, which
locks it — ``SELECT … FOR UPDATE`` on PostgreSQL, the single writer on SQLite — then read, decided and
written back in the same transaction). If Redis fails, the database takes over: login protection never
fails open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import redis
import structlog
from limits import parse
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from email_engine.auth.models import LoginThrottle
from email_engine.auth.settings import AuthSettings
from email_engine.auth.throttle import Claim, Policy, Throttle, claim, refund
from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, RateLimited
from email_engine.platform.upsert import insert_for

__all__ = ["Admission", "DatabaseThrottleStore", "LoginGuard", "RedisThrottleStore", "login_guard"]

log = structlog.get_logger("email_engine.auth")

T = TypeVar("T")
Change = Callable[[Throttle], tuple[T, Throttle]]
_WATCH_ROUNDS = 200


class ThrottleStore(Protocol):
    def update(self, key: str, change: Change[T], *, now_ms: int, ttl_ms: int) -> T: ...


def _expiry(now_ms: int, ttl_ms: int) -> datetime:
    return datetime.fromtimestamp((now_ms + ttl_ms) / 1000, tz=UTC)


class DatabaseThrottleStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def update(self, key: str, change: Change[T], *, now_ms: int, ttl_ms: int) -> T:
        with self.session_factory() as session, session.begin():
            # Writing first takes the lock: concurrent claims on this key queue up behind it.
            session.execute(
                insert_for(session, LoginThrottle)
                .values(
                    key=key,
                    count=0,
                    window_started_ms=0,
                    blocked_until_ms=0,
                    expires_at=_expiry(now_ms, ttl_ms),
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            count, started, blocked = session.execute(
                select(LoginThrottle.count, LoginThrottle.window_started_ms, LoginThrottle.blocked_until_ms)
                .where(LoginThrottle.key == key)
                .with_for_update()
            ).one()
            result, new = change(Throttle(count, started, blocked))
            if new.empty:
                session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
            else:
                session.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key)
                    .values(
                        count=new.count,
                        window_started_ms=new.window_started_ms,
                        blocked_until_ms=new.blocked_until_ms,
                        expires_at=_expiry(now_ms, ttl_ms),
                    )
                )
            return result


class RedisThrottleStore:
    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def update(self, key: str, change: Change[T], *, now_ms: int, ttl_ms: int) -> T:
        name = f"{self.prefix}login:{key}"
        with self.client.pipeline() as pipe:
            for _ in range(_WATCH_ROUNDS):
                try:
                    pipe.watch(name)  # type: ignore[no-untyped-call]
                    raw = pipe.hgetall(name)
                    state = Throttle(*(int(raw.get(field, 0)) for field in (b"c", b"w", b"b")))
                    result, new = change(state)
                    pipe.multi()
                    if new.empty:
                        pipe.delete(name)
                    else:
                        pipe.hset(
                            name,
                            mapping={"c": new.count, "w": new.window_started_ms, "b": new.blocked_until_ms},
                        )
                        pipe.pexpire(name, ttl_ms)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise redis.RedisError(f"the login counter {key!r} changed {_WATCH_ROUNDS} times in a row")


@dataclass(frozen=True, slots=True)
class Admission:
    """The counters an admitted attempt claimed (given back with :meth:`LoginGuard.succeeded`)."""

    claimed: tuple[tuple[str, Policy], ...]


class LoginGuard:
    def __init__(
        self,
        *,
        policies: tuple[Policy, Policy, Policy],
        store: ThrottleStore,
        fallback: ThrottleStore | None = None,
        enabled: bool = True,
    ) -> None:
        self.client_policy, self.pair_policy, self.account_policy = policies
        self.store = store
        self.fallback = fallback
        self.enabled = enabled

    def admit(self, *, client: str, account: str, now_ms: int) -> Admission:
        """Claim the three counters in turn; raise RateLimited at the first that refuses."""
        if not self.enabled:
            return Admission(())
        who = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]
        counters = (
            (f"client:{client}", self.client_policy, "from this address"),
            (f"pair:{who}:{client}", self.pair_policy, "for this account from this address"),
            (f"account:{who}", self.account_policy, "for this account"),
        )
        claimed: list[tuple[str, Policy]] = []
        for key, policy, scope in counters:
            outcome = self._update(key, policy, _claiming(policy, now_ms), now_ms)
            if not outcome.allowed:
                seconds = max(1, -(-outcome.retry_after_ms // 1000))
                log.info("login_throttled", policy=policy.name, retry_after=seconds)
                raise RateLimited(
                    f"Too many login attempts {scope}; try again in {seconds} s.", retry_after=seconds
                )
            claimed.append((key, policy))
        return Admission(tuple(claimed))

    def succeeded(self, admission: Admission, *, now_ms: int) -> None:
        """A correct password: give the claims back (the pair's backoff starts afresh)."""
        for key, policy in admission.claimed:
            self._update(key, policy, _refunding(policy), now_ms)

    def _update(self, key: str, policy: Policy, change: Change[T], now_ms: int) -> T:
        ttl_ms = policy.window_ms + (policy.backoff_ms[-1] if policy.backoff_ms else 0)
        try:
            return self.store.update(key, change, now_ms=now_ms, ttl_ms=ttl_ms)
        except redis.RedisError as exc:
            if self.fallback is None:
                raise
            log.warning("login_throttle_redis_unavailable", error=type(exc).__name__)
            return self.fallback.update(key, change, now_ms=now_ms, ttl_ms=ttl_ms)


def _claiming(policy: Policy, now_ms: int) -> Change[Claim]:
    def change(state: Throttle) -> tuple[Claim, Throttle]:
        return claim(state, policy, now_ms)

    return change


def _refunding(policy: Policy) -> Change[None]:
    def change(state: Throttle) -> tuple[None, Throttle]:
        return None, refund(state, policy)

    return change


def _rate(name: str, text: str, setting: str) -> Policy:
    try:
        item = parse(text)
    except ValueError as exc:
        raise ConfigurationError(f"{setting} is not a rate like '10/minute': {exc}") from exc
    return Policy.rate(name, amount=item.amount, window_seconds=item.get_expiry())


def login_guard(ctx: AppContext) -> LoginGuard:
    options = ctx.settings.section(AuthSettings)
    policies = (
        _rate("client", ctx.settings.rate_limit_login, "RATE_LIMIT_LOGIN"),
        Policy.backoff(
            "pair",
            free=options.backoff_free_attempts,
            base_seconds=options.backoff_base_seconds,
            max_seconds=options.backoff_max_seconds,
            window_seconds=options.backoff_window_seconds,
        ),
        _rate("account", options.account_limit, "LOGIN_ACCOUNT_LIMIT"),
    )
    database = DatabaseThrottleStore(ctx.session_factory)
    store: ThrottleStore = (
        RedisThrottleStore(ctx.redis, prefix=ctx.settings.redis_key_prefix)
        if ctx.redis is not None
        else database
    )
    return LoginGuard(
        policies=policies,
        store=store,
        fallback=database if ctx.redis is not None else None,
        enabled=ctx.settings.rate_limit_enabled,
    )
