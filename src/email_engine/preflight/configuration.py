"""The preflight items of the engine's own configuration: strong secrets, a production database, an
applied schema and active rate limits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError

from email_engine.config import WEAK_SECRET, as_production
from email_engine.context import AppContext
from email_engine.migrate import alembic_config
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = [
    "CHECKS",
    "check_database_backend",
    "check_migrations",
    "check_rate_limits",
    "check_secrets_strength",
]


def check_secrets_strength(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    try:
        as_production(ctx.settings)
    except ValidationError as exc:
        refused = [error.get("ctx", {}) for error in exc.errors() if error["type"] == WEAK_SECRET]
        if not refused:
            raise
        problems = "; ".join(str(found["problem"]) for found in refused)
        yield Item("secrets", "fail", f"production refuses: {problems}", str(refused[0]["fix"]))
        return
    yield Item("secrets", "pass", "API_KEY and JWT_SECRET_KEY are set and strong")


def check_database_backend(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """Production on SQLite is NO-GO: one writer at a time on one machine (the guide runs PostgreSQL)."""
    settings = ctx.settings
    if settings.environment == "production" and settings.is_sqlite:
        yield Item(
            "database",
            "fail",
            "ENVIRONMENT=production on SQLite (the embedded default: one writer at a time, one machine)",
            "Set DATABASE_URL=postgresql://… in .env (or run deploy/install.sh with DATABASE_URL=…), "
            "then `email-engine db upgrade`; keep SQLite for trials with ENVIRONMENT=development.",
        )
        return
    yield Item("database", "pass", f"{ctx.engine.dialect.name} ({settings.environment})")


def check_migrations(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    script = ScriptDirectory.from_config(alembic_config(ctx.settings.database_url))
    with ctx.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    # alembic_version keeps only the tips: a branch another depends on (ips_0001) is applied when
    # it is an ancestor of a recorded tip, so compare against everything below the tips.
    applied = {revision.revision for revision in script.iterate_revisions(tuple(current), "base")}
    missing = set(script.get_heads()) - applied
    if missing:
        yield Item(
            "database schema",
            "fail",
            f"not applied: {', '.join(sorted(missing))}",
            "Run `email-engine db upgrade`.",
        )
    else:
        yield Item("database schema", "pass", f"up to date ({ctx.engine.dialect.name})")


def check_rate_limits(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    if not ctx.settings.rate_limit_enabled:
        yield Item("rate limiting", "fail", "RATE_LIMIT_ENABLED is false", "Set RATE_LIMIT_ENABLED=true.")
    elif ctx.settings.redis_url is None:
        yield Item(
            "rate limiting", "pass", "active, per process (set REDIS_URL when running several workers)"
        )
    else:
        yield Item("rate limiting", "pass", "active, shared through Redis")


CHECKS = [
    PreflightCheck("secrets", check_secrets_strength, order=10),
    PreflightCheck("database", check_database_backend, order=20),
    PreflightCheck("database schema", check_migrations, order=30),
    PreflightCheck("rate limiting", check_rate_limits, order=170),
]
