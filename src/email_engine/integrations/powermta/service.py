"""PowerMTA service: snapshot the inventory, load the tables, render, lint (routers and CLI call this).

Pure rendering lives in :mod:`renderer`; this module does the database reads and maps the models
into the renderer's plain snapshot. Services flush; the caller commits.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.powermta.bounce_patterns import RuleLike
from email_engine.integrations.powermta.inventory import (
    Inventory,
    IpEntry,
    PoolEntry,
    RenderSettings,
    SendingDomainEntry,
    VolumeCap,
)
from email_engine.integrations.powermta.linter import LintReport, lint_files
from email_engine.integrations.powermta.models import PmtaThrottleTable
from email_engine.integrations.powermta.renderer import CONFIG_FILE, RenderedConfig, render_config
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.integrations.powermta.tables import ThrottleTables, default_tables, parse_tables

__all__ = [
    "StoredTables",
    "load_bounce_rules",
    "load_tables",
    "render_from_db",
    "render_settings",
    "reset_tables",
    "save_tables",
    "snapshot_inventory",
]

TABLE_NAME = "throttles"
_PLACEHOLDER_MARKERS = ("change", "your", "example", "placeholder", "password", "secret", "xxxx")


@dataclass(frozen=True)
class StoredTables:
    tables: ThrottleTables
    source: str  # "default" or "database"
    updated_at: datetime | None = None
    updated_by: str | None = None


def snapshot_inventory(session: Session, *, now: datetime) -> Inventory:
    """The inventory as plain values, with today's warmup limits."""
    from email_engine.ips.models import Pool, SendingDomain, SendingIp

    pools = {pool.id: pool for pool in session.scalars(select(Pool).order_by(Pool.name))}
    ips = tuple(
        IpEntry(
            id=ip.id,
            address=ip.address,
            hostname=ip.hostname,
            vmta_name=ip.vmta_name,
            purpose=ip.purpose,
            state=ip.state,
            pool=pools[ip.pool_id].name if ip.pool_id in pools else None,
        )
        for ip in session.scalars(select(SendingIp).order_by(SendingIp.vmta_name))
    )
    domains = tuple(
        SendingDomainEntry(
            name=domain.name,
            dkim_selector=domain.dkim_selector,
            bounce_domain=domain.bounce_domain,
            tracking_domain=domain.tracking_domain,
        )
        for domain in session.scalars(select(SendingDomain).order_by(SendingDomain.name))
    )
    return Inventory(
        ips=ips,
        pools=tuple(PoolEntry(name=pool.name, purpose=pool.purpose) for pool in pools.values()),
        domains=domains,
        limits=_warmup_limits(session, now=now),
    )


def _warmup_limits(session: Session, *, now: datetime) -> dict[int, VolumeCap]:
    from email_engine.warmup.service import current_limits

    return {
        ip_id: VolumeCap(daily=limit.daily, hourly=limit.hourly, providers=dict(limit.providers))
        for ip_id, limit in current_limits(session, now=now).items()
    }


def load_bounce_rules() -> Sequence[RuleLike]:
    """The classifier's ordered rules; rendering stops if the classifier is missing (no silent gap)."""
    try:
        module: Any = importlib.import_module("email_engine.feedback.bounce")
    except ModuleNotFoundError as exc:
        raise DependencyUnavailable(
            "The bounce classifier (email_engine.feedback.bounce) is not installed; bounce categories "
            "cannot be rendered."
        ) from exc
    rules: Sequence[RuleLike] = module.load_rules()
    return rules


def load_tables(session: Session) -> StoredTables:
    row = session.scalar(select(PmtaThrottleTable).where(PmtaThrottleTable.name == TABLE_NAME))
    if row is None:
        return StoredTables(tables=default_tables(), source="default")
    try:
        tables = parse_tables(row.document)
    except InvalidInput as exc:
        raise ConfigurationError(
            f"The stored throttle tables are no longer valid ({exc.detail}) Fix them with PUT "
            "/api/v1/pmta/throttles or go back to the defaults with DELETE."
        ) from exc
    return StoredTables(
        tables=tables, source="database", updated_at=row.updated_at, updated_by=row.updated_by
    )


def save_tables(session: Session, *, document: Any, actor: str, now: datetime) -> StoredTables:
    """Validate and store an edited document (replaces the previous edit as a whole)."""
    tables = parse_tables(document)
    row = session.scalar(select(PmtaThrottleTable).where(PmtaThrottleTable.name == TABLE_NAME))
    stored = tables.model_dump(mode="json")
    if row is None:
        row = PmtaThrottleTable(name=TABLE_NAME, document=stored, updated_at=now, updated_by=actor[:128])
        session.add(row)
    else:
        row.document = stored
        row.updated_at = now
        row.updated_by = actor[:128]
    session.flush()
    return StoredTables(tables=tables, source="database", updated_at=now, updated_by=actor[:128])


def reset_tables(session: Session) -> StoredTables:
    row = session.scalar(select(PmtaThrottleTable).where(PmtaThrottleTable.name == TABLE_NAME))
    if row is not None:
        session.delete(row)
        session.flush()
    return StoredTables(tables=default_tables(), source="default")


def render_settings(settings: PowerMtaSettings) -> RenderSettings:
    """Renderer settings from the environment; names every missing variable at once."""
    missing = [
        name
        for name, value in (
            ("PMTA_POSTMASTER", settings.postmaster),
            (
                "PMTA_SMTP_PASSWORD",
                settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            ),
            ("MAILWIZZ_IPS", settings.mailwizz_ips),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            f"Set {', '.join(missing)} before rendering the PowerMTA configuration (see docs/powermta.md)."
        )
    assert settings.postmaster is not None and settings.smtp_password is not None
    password = settings.smtp_password.get_secret_value()
    if len(password) < 16:
        raise ConfigurationError("PMTA_SMTP_PASSWORD is shorter than 16 characters; use a random secret.")
    if any(marker in password.lower() for marker in _PLACEHOLDER_MARKERS):
        raise ConfigurationError(
            "PMTA_SMTP_PASSWORD looks like a placeholder, not a random secret; generate one "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`)."
        )
    return RenderSettings(
        postmaster=settings.postmaster,
        smtp_password=password,
        mailwizz_ips=tuple(settings.mailwizz_ips),
        smtp_user=settings.smtp_user,
        listener_port=settings.listener_port,
        listener_address=settings.listener_address,
        http_mgmt_port=settings.http_mgmt_port,
        config_dir=settings.config_dir,
        dkim_key_dir=settings.dkim_key_dir,
        spool_dir=settings.spool_dir,
        log_file=settings.log_file,
        bounce_pipe=settings.bounce_pipe,
        delivery_pipe=settings.delivery_pipe,
        host_name=settings.host_name,
        inbound_listener=settings.inbound_listener or None,
        fbl_addresses=tuple(settings.fbl_addresses),
    )


def render_from_db(
    session: Session,
    settings: PowerMtaSettings,
    *,
    now: datetime,
    bounce_rules: Sequence[RuleLike] | None = None,
) -> tuple[RenderedConfig, LintReport]:
    """Render from the database and lint the result (the caller refuses to deploy on errors)."""
    inventory = snapshot_inventory(session, now=now)
    tables = load_tables(session).tables
    rules = load_bounce_rules() if bounce_rules is None else bounce_rules
    rendered = render_config(inventory, render_settings(settings), tables, rules)
    report = lint_files(
        rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips, vmtas=rendered.vmtas
    )
    return rendered, report
