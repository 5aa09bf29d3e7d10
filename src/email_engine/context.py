"""The long-lived resources a process holds: settings, database engine, Redis, rate limiter.

The HTTP app keeps one in ``app.state.ctx``; the CLI, the pipe and jobs build their own with
:func:`build_context`. Services receive the parts they need, never the context itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from email_engine.config import Settings
from email_engine.db import make_engine, make_session_factory
from email_engine.platform.ratelimit import RateLimiter
from email_engine.platform.settings import SESSION_SETTINGS

__all__ = ["AppContext", "build_context"]


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    limiter: RateLimiter
    redis: redis.Redis | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
        self.engine.dispose()


def build_context(settings: Settings) -> AppContext:
    engine = make_engine(settings.database_url)
    client = (
        redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        if settings.redis_url
        else None
    )
    return AppContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine, info={SESSION_SETTINGS: settings}),
        limiter=RateLimiter(settings),
        redis=client,
    )
