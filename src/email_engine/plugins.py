"""How domain packages plug into the app, the CLI, the scheduler and /health.

Each domain package may provide any of these modules; whatever exists is picked up, so adding a
capability never means editing ``main.py`` or ``cli.py``:

- ``router.py``: ``router`` (an ``APIRouter``; every route requires authentication and refuses
  ingest-only keys) and/or ``public_router`` (routes that authenticate themselves, e.g. login or
  HMAC-signed webhooks); optional ``BODY_LIMITS = {"/api/v1/prefix": max_bytes}`` (or a function of the settings giving
  them, when the limit is a setting).
- ``cli.py``: ``register(root: typer.Typer) -> None``, adding sub-apps or commands.
- ``models.py``: SQLAlchemy models (imported so Alembic and the app see every table).
- ``jobs.py``: ``JOBS: list[JobSpec]`` for the scheduler (``email_engine.platform.jobspec``), or
  ``job_specs(settings) -> list[JobSpec]`` when an interval is a setting; optional
  ``ON_LISTED(ctx, now) -> dict``, run by the blacklists job when it finds a listed IP.
- ``settings.py``: the domain's settings sections (``BaseSettings`` classes), read through
  ``ctx.settings.section(Cls)``; their ``SecretStr`` fields are redacted from reports.
- ``health.py``: ``CHECKS: list[HealthCheck]`` for ``/health`` (``email_engine.platform.healthcheck``; run
  together by ``email_engine.ops.service.run_checks``).
- ``preflight.py``: ``CHECKS: list[PreflightCheck]`` for ``email-engine preflight``
  (``email_engine.platform.preflight``; run by ``email_engine.preflight.runner`` in their ``order``).
- ``lifespan.py``: ``async def startup(ctx)`` / ``async def shutdown(ctx)`` for the HTTP app.
- ``senders.py``: ``SENDERS`` (outbox kinds to senders), optional ``DESTINATIONS``/``PROBES`` and
  ``ON_DEAD_EVENTS`` (``email_engine.outbox.contract``).
- ``gauges.py``: ``GAUGES``, functions ``(ctx, session, now)`` yielding Prometheus metric families for
  ``/metrics`` (``email_engine.ops.collector``); optional ``DISK_PATHS``, functions ``(ctx) -> Path`` of
  directories whose free space ``email_engine_disk_free_ratio`` shows.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType

DOMAINS = (
    "auth",
    "ops",
    "outbox",
    "ips",
    "warmup",
    "reputation",
    "validation",
    "feedback",
    "integrations.powermta",
    "integrations.mailwizz",
    "integrations.scraper_pro",
    "integrations.alerts",
    "preflight",
    "dmarc",
    "integrations.snds",
    "integrations.postmaster",
    "reputation_signals",
    "console",
    "privacy",
)


def domain_modules(kind: str) -> Iterator[ModuleType]:
    """Import ``email_engine.<domain>.<kind>`` for every domain that has one.

    Only a missing module is skipped; an import error inside an existing module propagates.
    """
    for domain in DOMAINS:
        name = f"email_engine.{domain}.{kind}"
        if importlib.util.find_spec(name) is not None:
            yield importlib.import_module(name)


def import_all_models() -> None:
    """Every table: the platform's own (job runs, locks, the leader lease), then each domain's."""
    importlib.import_module("email_engine.platform.models")
    for _ in domain_modules("models"):
        pass
