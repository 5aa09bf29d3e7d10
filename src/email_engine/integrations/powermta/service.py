"""PowerMTA service: snapshot the inventory, load the tables, render, lint (routers and CLI call this).

Pure rendering lives in :mod:`renderer`; this module does the database reads and maps the models
into the renderer's plain snapshot. Services flush; the caller commits.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.errors import ConfigurationError, Conflict, DependencyUnavailable, InvalidInput, NotFound
from email_engine.integrations.powermta import deploy as deploy_module
from email_engine.integrations.powermta.bounce_patterns import RuleLike
from email_engine.integrations.powermta.dns_records import SendingHost
from email_engine.integrations.powermta.inventory import (
    Inventory,
    IpEntry,
    PoolEntry,
    RenderSettings,
    SendingDomainEntry,
    VolumeCap,
)
from email_engine.integrations.powermta.lint_findings import LintReport
from email_engine.integrations.powermta.linter import lint_files
from email_engine.integrations.powermta.models import PmtaThrottleTable, SendingDomainPool
from email_engine.integrations.powermta.renderer import CONFIG_FILE, RenderedConfig, render_config
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.integrations.powermta.tables import ThrottleTables, default_tables, parse_tables

__all__ = [
    "DomainSenders",
    "StoredTables",
    "deploy_rendered",
    "domain_senders",
    "load_bounce_rules",
    "load_tables",
    "redacted_diff",
    "render_from_db",
    "render_settings",
    "reset_tables",
    "save_tables",
    "set_domain_pools",
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
            f"Set {', '.join(missing)} before rendering the PowerMTA configuration (see docs/powermta.md).",
            missing=missing,
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


@dataclass(frozen=True)
class DomainSenders:
    """What sends mail for one sending domain: its pools and their (non-retired) IPs."""

    domain: str
    dkim_selector: str | None
    bounce_domain: str | None
    pools: tuple[str, ...]
    hosts: tuple[SendingHost, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "pools": list(self.pools),
            "ips": [{"address": host.address, "hostname": host.hostname} for host in self.hosts],
        }


def redacted_diff(rendered: RenderedConfig, target_dir: Path) -> dict[str, str]:
    """What a deploy would change in ``target_dir``: a unified diff per file, secrets redacted."""
    output: dict[str, str] = {}
    for name, text in deploy_module.diff_files(rendered.files, target_dir).items():
        shown = text
        for secret in rendered.secrets:
            shown = shown.replace(secret, "[redacted]")
        output[name] = shown
    return output


def deploy_rendered(
    rendered: RenderedConfig,
    report: LintReport,
    settings: PowerMtaSettings,
    *,
    now: datetime,
    force: bool = False,
) -> deploy_module.DeployResult:
    """Lint-gated deploy (the CLI's and the console's): refuse on lint errors, then back up, write
    atomically and reload; a failed reload restores the previous files (``ReloadFailed``)."""
    if not report.ok():
        raise Conflict(
            f"Refusing to deploy: {len(report.errors)} lint error(s) in the rendered configuration; "
            "fix them first (they are listed with their file and line)."
        )
    return deploy_module.deploy_files(
        rendered.files,
        Path(settings.config_dir),
        reload_command=settings.reload_command,
        stamp=now.strftime("%Y%m%dT%H%M%S%fZ"),
        timeout=settings.reload_timeout,
        keep=settings.backup_keep,
        force=force,
    )


def _domain_row(session: Session, name: str) -> Any:
    from email_engine.ips.models import SendingDomain

    wanted = name.strip().lower().rstrip(".")
    row = session.scalar(select(SendingDomain).where(SendingDomain.name == wanted))
    if row is None:
        raise NotFound(
            f"{wanted} is not a sending domain in the inventory; add it first (email-engine domains add)."
        )
    return row


def _pools_by_name(session: Session, names: Sequence[str]) -> dict[str, int]:
    from email_engine.ips.models import Pool

    wanted = list(dict.fromkeys(names))
    found = {pool.name: pool.id for pool in session.scalars(select(Pool).where(Pool.name.in_(wanted)))}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise NotFound(f"No pool named {', '.join(missing)}; see `email-engine pools list`.")
    return found


def domain_senders(session: Session, name: str, *, pools: Sequence[str] | None = None) -> DomainSenders:
    """The domain's pools (stored with :func:`set_domain_pools`, or ``pools`` for this call only) and
    the IPs in them. An IP that warms or waits on standby in those pools is included: it will send
    for the domain and must pass SPF when it does. Retired IPs are not."""
    from email_engine.ips.lifecycle import IpState
    from email_engine.ips.models import Pool, SendingIp

    domain = _domain_row(session, name)
    if pools is None:
        pool_ids = list(
            session.scalars(select(SendingDomainPool.pool_id).where(SendingDomainPool.domain_id == domain.id))
        )
    else:
        pool_ids = list(_pools_by_name(session, pools).values())
    names = tuple(session.scalars(select(Pool.name).where(Pool.id.in_(pool_ids)).order_by(Pool.name)))
    ips = session.scalars(
        select(SendingIp)
        .where(SendingIp.pool_id.in_(pool_ids), SendingIp.state != IpState.RETIRED)
        .order_by(SendingIp.id)
    )
    return DomainSenders(
        domain=domain.name,
        dkim_selector=domain.dkim_selector,
        bounce_domain=domain.bounce_domain,
        pools=names,
        hosts=tuple(SendingHost(ip.address, ip.hostname) for ip in ips),
    )


def set_domain_pools(session: Session, name: str, pools: Sequence[str], *, now: datetime) -> DomainSenders:
    """Store which pools send for the domain (replaces the previous list; empty clears it). Flushes."""
    domain = _domain_row(session, name)
    wanted = _pools_by_name(session, pools)
    existing = {
        row.pool_id: row
        for row in session.scalars(select(SendingDomainPool).where(SendingDomainPool.domain_id == domain.id))
    }
    for pool_id, row in existing.items():
        if pool_id not in wanted.values():
            session.delete(row)
    for pool_id in wanted.values():
        if pool_id not in existing:
            session.add(SendingDomainPool(domain_id=domain.id, pool_id=pool_id, created_at=now))
    session.flush()
    return domain_senders(session, domain.name)
