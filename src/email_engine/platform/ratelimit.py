"""Per-client request budgets, shared through Redis when configured, in process otherwise."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from email_engine.config import Settings
from email_engine.errors import ConfigurationError

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


_REDIS_TIMEOUT_SECONDS = 0.5


class RateLimiter:
    """Named request budgets (``default``, ``webhook``, ``validation``) keyed by client.

    Login attempts have their own counters (``email_engine.auth.login_guard``)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        try:
            self._items: dict[str, RateLimitItem] = {
                "default": parse(settings.rate_limit_default),
                "webhook": parse(settings.rate_limit_webhook),
                "validation": parse(settings.rate_limit_validation),
            }
        except ValueError as exc:
            raise ConfigurationError(f"A RATE_LIMIT_* setting is not a rate like '60/minute': {exc}") from exc
        self.storage: Storage
        #: True when a hit is a network round trip (callers on an event loop run it in a thread).
        self.remote = bool(settings.redis_url)
        if settings.redis_url:
            # Without timeouts a Redis that accepts connections but never answers would hold every request.
            self.storage = RedisStorage(
                settings.redis_url,
                key_prefix=f"{settings.redis_key_prefix}ratelimit",
                wrap_exceptions=True,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
        else:
            self.storage = MemoryStorage()
        self._strategy = MovingWindowRateLimiter(self.storage)

    def hit(self, budget: str, client: str) -> Decision:
        item = self._items[budget]
        if not self.enabled:
            return Decision(True, item.amount, item.amount, 0)
        allowed = self._strategy.hit(item, budget, client)
        stats = self._strategy.get_window_stats(item, budget, client)
        retry_after = max(1, math.ceil(stats.reset_time - time.time())) if not allowed else 0
        return Decision(allowed, item.amount, stats.remaining, retry_after)
