"""``email-engine ips …``, ``email-engine domains …``, ``email-engine pools …``.

The same service functions as the API, with the same checks. Whoever runs the CLI on the server
holds the database credentials, so the CLI acts with admin rights (``--force`` is allowed) and
records ``cli:<os user>`` as the actor.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from email_engine.cli_support import JsonOption, cli_session, whole_table
from email_engine.clock import utcnow
from email_engine.errors import InvalidInput
from email_engine.ips import service
from email_engine.ips.schemas import (
    ActuationPublic,
    DomainCreate,
    DomainPublic,
    IpCreate,
    IpPublic,
    IpUpdate,
    PoolCreate,
    PoolPublic,
    TransitionPublic,
    TransitionRequest,
)

ips_app = typer.Typer(help="Sending IPs: inventory and lifecycle.", no_args_is_help=True)
domains_app = typer.Typer(
    help="Sending domains (DKIM selector, bounce and tracking domains).", no_args_is_help=True
)
pools_app = typer.Typer(help="IP pools (PowerMTA virtual-MTA pools).", no_args_is_help=True)
console = Console()

LimitOption = Annotated[int, typer.Option(min=1, max=service.MAX_PAGE, help="Rows per page.")]
OffsetOption = Annotated[int, typer.Option(min=0, help="Rows to skip.")]
M = TypeVar("M", bound=BaseModel)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _validated(model: type[M], **data: Any) -> M:
    """Check CLI input with the API's own schema; report problems as one clear line."""
    try:
        return model(**{key: value for key, value in data.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise InvalidInput(f"Invalid input. {problems}") from None


def _emit(
    rows: Sequence[BaseModel], columns: Sequence[str], *, as_json: bool, total: int | None = None
) -> None:
    if as_json:
        items = [row.model_dump(mode="json") for row in rows]
        typer.echo(json.dumps(items if total is None else {"items": items, "total": total}, indent=2))
        return
    table = whole_table(*columns, whole=("id", "address"))
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*("-" if data[c] is None else str(data[c]) for c in columns))
    console.print(table)
    if total is not None and total > len(rows):
        console.print(f"{len(rows)} of {total} shown; use --limit/--offset for more.")


def _emit_one(row: BaseModel, *, as_json: bool) -> None:
    data = row.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {'-' if value is None else value}")


IP_COLUMNS = ("id", "address", "hostname", "purpose", "state", "vmta_name", "pool_id", "mailwizz_server_id")

# --- ips -------------------------------------------------------------------------------------


@ips_app.command("list")
def list_ips(
    *,
    state: Annotated[str | None, typer.Option(help="Only IPs in this state.")] = None,
    purpose: Annotated[str | None, typer.Option(help="transactional, marketing or cold.")] = None,
    pool_id: Annotated[int | None, typer.Option(help="Only IPs of this pool.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List sending IPs."""
    with cli_session() as (_ctx, session):
        total, rows = service.list_ips(
            session, state=state, purpose=purpose, pool_id=pool_id, limit=limit, offset=offset
        )
        items = [IpPublic.model_validate(row) for row in rows]
    _emit(items, IP_COLUMNS, as_json=as_json, total=total)


@ips_app.command("add")
def add_ip(
    address: Annotated[str, typer.Argument(help="IPv4 or IPv6 address, e.g. 192.0.2.10.")],
    *,
    hostname: Annotated[str, typer.Option(help="Its PTR/HELO name, e.g. mta1.example.com.")],
    purpose: Annotated[
        str | None,
        typer.Option(
            help="transactional, marketing or cold; omitted: the pool's purpose, or cold without a pool."
        ),
    ] = None,
    vmta: Annotated[
        str | None,
        typer.Option(
            help="PowerMTA virtual-MTA name (\\[a-z0-9-]); omitted: derived from the hostname "
            "(mta1.example.com gives vmta-mta1-example-com)."
        ),
    ] = None,
    pool_id: Annotated[int | None, typer.Option(help="Pool id (same purpose).")] = None,
    mailwizz_server_id: Annotated[
        int | None, typer.Option(help="MailWizz delivery-server server_id.")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an IP; it starts in standby (cold) until a warmup plan moves it."""
    data = _validated(
        IpCreate,
        address=address,
        hostname=hostname,
        purpose=purpose,
        vmta_name=vmta,
        pool_id=pool_id,
        mailwizz_server_id=mailwizz_server_id,
        notes=notes,
    )
    with cli_session() as (_ctx, session):
        ip = service.create_ip(
            session,
            address=data.address,
            hostname=data.hostname,
            purpose=data.purpose.value if data.purpose is not None else None,
            vmta_name=data.vmta_name,
            pool_id=data.pool_id,
            mailwizz_server_id=data.mailwizz_server_id,
            notes=data.notes,
            actor=_actor(),
            now=utcnow(),
        )
        public = IpPublic.model_validate(ip)
    _emit_one(public, as_json=as_json)


@ips_app.command("show")
def show_ip(ip_id: Annotated[int, typer.Argument(help="IP id.")], as_json: JsonOption = False) -> None:
    """Show one IP."""
    with cli_session() as (_ctx, session):
        public = IpPublic.model_validate(service.get_ip(session, ip_id))
    _emit_one(public, as_json=as_json)


@ips_app.command("update")
def update_ip(
    ip_id: Annotated[int, typer.Argument(help="IP id.")],
    *,
    hostname: Annotated[str | None, typer.Option(help="New PTR/HELO name.")] = None,
    purpose: Annotated[str | None, typer.Option(help="transactional, marketing or cold.")] = None,
    vmta: Annotated[str | None, typer.Option(help="New virtual-MTA name.")] = None,
    pool_id: Annotated[int | None, typer.Option(help="Move to this pool.")] = None,
    no_pool: Annotated[bool, typer.Option("--no-pool", help="Take the IP out of its pool.")] = False,
    mailwizz_server_id: Annotated[int | None, typer.Option(help="Link to this MailWizz server_id.")] = None,
    no_mailwizz: Annotated[bool, typer.Option("--no-mailwizz", help="Unlink the MailWizz server.")] = False,
    notes: Annotated[str | None, typer.Option(help="Replace the notes.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an IP's details (not its state: use transition)."""
    given = {
        "hostname": hostname,
        "purpose": purpose,
        "vmta_name": vmta,
        "pool_id": pool_id,
        "mailwizz_server_id": mailwizz_server_id,
        "notes": notes,
    }
    data = _validated(IpUpdate, **given)
    changes = data.model_dump(include=data.model_fields_set, mode="json")
    if no_pool:
        changes["pool_id"] = None
    if no_mailwizz:
        changes["mailwizz_server_id"] = None
    if not changes:
        raise InvalidInput("Nothing to change; give at least one option (see --help).")
    with cli_session() as (_ctx, session):
        public = IpPublic.model_validate(service.update_ip(session, ip_id, changes, now=utcnow()))
    _emit_one(public, as_json=as_json)


@ips_app.command("transition")
def transition(
    ip_id: Annotated[int, typer.Argument(help="IP id.")],
    to: Annotated[str, typer.Argument(help="warming, active, standby, resting, quarantined or retired.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the IP's history.")],
    force: Annotated[
        bool, typer.Option("--force", help="Skip the transition table (admin; needs a reason).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Move an IP to another lifecycle state (checked against the transition table)."""
    data = _validated(TransitionRequest, to=to, reason=reason, force=force)
    with cli_session() as (_ctx, session):
        record = service.transition_ip(
            session,
            ip_id=ip_id,
            to_state=data.state,
            reason=data.reason,
            actor=_actor(),
            now=utcnow(),
            force=force,
        )
        public = TransitionPublic.model_validate(record)
    _emit_one(public, as_json=as_json)


@ips_app.command("history")
def history(
    ip_id: Annotated[int, typer.Argument(help="IP id.")],
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """An IP's lifecycle transitions, newest first."""
    with cli_session() as (_ctx, session):
        total, rows = service.list_history(session, ip_id, limit=limit, offset=offset)
        items = [TransitionPublic.model_validate(row) for row in rows]
    _emit(items, ("at", "from_state", "to_state", "forced", "actor", "reason"), as_json=as_json, total=total)


@ips_app.command("actuation")
def actuation(
    ip_id: Annotated[int, typer.Argument(help="IP id.")],
    limit: LimitOption = 20,
    as_json: JsonOption = False,
) -> None:
    """Pushes of the IP's limits to MailWizz/PowerMTA, newest first (failed ones show why)."""
    with cli_session() as (_ctx, session):
        service.get_ip(session, ip_id)
        total, rows = service.list_actuations(session, ip_id, limit=limit)
        items = [ActuationPublic.model_validate(row) for row in rows]
    _emit(
        items,
        ("id", "target", "status", "attempts", "desired", "last_error", "applied_at"),
        as_json=as_json,
        total=total,
    )


# --- domains ---------------------------------------------------------------------------------

DOMAIN_COLUMNS = ("id", "name", "dkim_selector", "bounce_domain", "tracking_domain")


@domains_app.command("list")
def list_domains(limit: LimitOption = 50, offset: OffsetOption = 0, as_json: JsonOption = False) -> None:
    """List sending domains."""
    with cli_session() as (_ctx, session):
        total, rows = service.list_domains(session, limit=limit, offset=offset)
        items = [DomainPublic.model_validate(row) for row in rows]
    _emit(items, DOMAIN_COLUMNS, as_json=as_json, total=total)


@domains_app.command("add")
def add_domain(
    name: Annotated[str, typer.Argument(help="The sending domain, e.g. mail.example.com.")],
    *,
    dkim_selector: Annotated[str | None, typer.Option(help="DKIM selector, e.g. s2026.")] = None,
    bounce_domain: Annotated[str | None, typer.Option(help="Return-path domain.")] = None,
    tracking_domain: Annotated[str | None, typer.Option(help="Click/open tracking domain.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a sending domain."""
    data = _validated(
        DomainCreate,
        name=name,
        dkim_selector=dkim_selector,
        bounce_domain=bounce_domain,
        tracking_domain=tracking_domain,
        notes=notes,
    )
    with cli_session() as (_ctx, session):
        domain = service.create_domain(session, **data.model_dump(), now=utcnow())
        public = DomainPublic.model_validate(domain)
    _emit_one(public, as_json=as_json)


@domains_app.command("show")
def show_domain(
    domain_id: Annotated[int, typer.Argument(help="Domain id.")], as_json: JsonOption = False
) -> None:
    """Show one sending domain."""
    with cli_session() as (_ctx, session):
        public = DomainPublic.model_validate(service.get_domain(session, domain_id))
    _emit_one(public, as_json=as_json)


@domains_app.command("delete")
def delete_domain(domain_id: Annotated[int, typer.Argument(help="Domain id.")]) -> None:
    """Delete a sending domain."""
    with cli_session() as (_ctx, session):
        service.delete_domain(session, domain_id)
    typer.echo(f"deleted domain {domain_id}")


# --- pools -----------------------------------------------------------------------------------


@pools_app.command("list")
def list_pools(
    purpose: Annotated[str | None, typer.Option(help="transactional, marketing or cold.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List pools."""
    with cli_session() as (_ctx, session):
        total, rows = service.list_pools(session, purpose=purpose, limit=limit, offset=offset)
        items = [PoolPublic.model_validate(row) for row in rows]
    _emit(items, ("id", "name", "purpose", "notes"), as_json=as_json, total=total)


@pools_app.command("add")
def add_pool(
    name: Annotated[str, typer.Argument(help="Pool name (\\[a-z0-9-]), e.g. cold-1.")],
    purpose: Annotated[str, typer.Option(help="transactional, marketing or cold.")],
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a pool."""
    data = _validated(PoolCreate, name=name, purpose=purpose, notes=notes)
    with cli_session() as (_ctx, session):
        pool = service.create_pool(
            session, name=data.name, purpose=data.purpose.value, notes=data.notes, now=utcnow()
        )
        public = PoolPublic.model_validate(pool)
    _emit_one(public, as_json=as_json)


@pools_app.command("show")
def show_pool(pool_id: Annotated[int, typer.Argument(help="Pool id.")], as_json: JsonOption = False) -> None:
    """Show one pool."""
    with cli_session() as (_ctx, session):
        public = PoolPublic.model_validate(service.get_pool(session, pool_id))
    _emit_one(public, as_json=as_json)


@pools_app.command("delete")
def delete_pool(pool_id: Annotated[int, typer.Argument(help="Pool id.")]) -> None:
    """Delete an empty pool."""
    with cli_session() as (_ctx, session):
        service.delete_pool(session, pool_id)
    typer.echo(f"deleted pool {pool_id}")


def register(root: typer.Typer) -> None:
    root.add_typer(ips_app, name="ips")
    root.add_typer(domains_app, name="domains")
    root.add_typer(pools_app, name="pools")
