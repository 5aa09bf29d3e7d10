"""``email-engine users …`` and ``email-engine keys …``."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from email_engine.auth import service
from email_engine.auth.models import User
from email_engine.auth.roles import Role
from email_engine.auth.schemas import ApiKeyPublic, UserPublic
from email_engine.cli_support import JsonOption, cli_session
from email_engine.clock import utcnow
from email_engine.errors import Conflict, InvalidInput

users_app = typer.Typer(help="Manage users who log in to the API.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage named API keys (stored only as hashes).", no_args_is_help=True)
console = Console()


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="Login email of the admin.")],
    username: Annotated[str, typer.Option(help="Short name shown in the audit log.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters; prompted when omitted.",
        ),
    ],
) -> None:
    """Create a user with the admin role."""
    from email_engine.auth.schemas import UserCreate

    try:
        data = UserCreate(email=email, username=username, password=password, role=Role.ADMIN)
    except ValueError as exc:
        raise InvalidInput(f"Invalid admin details: {exc}") from exc
    with cli_session() as (_ctx, session):
        _refuse_existing(session, data.email, data.username)
        user = service.create_user(
            session,
            email=data.email,
            username=data.username,
            password=data.password,
            role=Role.ADMIN,
            now=utcnow(),
        )
        typer.echo(f"created admin {user.username} (id {user.id})")


def _refuse_existing(session: Session, email: str, username: str) -> None:
    """Name the user that is in the way, and what to do (``init`` creates ``admin`` on a first run)."""
    clash = session.scalar(select(User).where(or_(User.email == email.lower(), User.username == username)))
    if clash is None:
        return
    what = "email" if clash.email == email.lower() else "username"
    made_by_init = " (`email-engine init`, run by scripts/serve.sh, creates it on a first run)"
    hint = made_by_init if clash.username == "admin" else ""
    raise Conflict(
        f"A user with this {what} exists already: {clash.username} (id {clash.id}, role {clash.role}){hint}. "
        f"Choose another {what}, or set that user's password: email-engine users set-password {clash.username}"
    )


@users_app.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """List users."""
    with cli_session() as (_ctx, session):
        users = [UserPublic.model_validate(user) for user in service.list_users(session)]
    if as_json:
        typer.echo(json.dumps([user.model_dump(mode="json") for user in users], indent=2))
        return
    table = Table("id", "username", "email", "role", "active", "last login")
    for user in users:
        table.add_row(
            str(user.id),
            user.username,
            user.email,
            user.role.value,
            str(user.is_active),
            user.last_login_at.isoformat() if user.last_login_at else "-",
        )
    console.print(table)


UserRef = Annotated[str, typer.Argument(metavar="USER", help="Id, email or username.")]


def _cli_principal() -> service.Principal:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container, a cron job)
        who = "unknown"
    return service.Principal(kind="cli", name=f"cli:{who}"[:128], role=Role.ADMIN)


def _audited(session: Session, *, action: str, user: User, details: dict[str, object]) -> None:
    service.record_audit(
        session,
        principal=_cli_principal(),
        action=action,
        target=f"/api/v1/users/{user.id}",
        status_code=200,
        client_address=None,
        now=utcnow(),
        details={"user_id": user.id, **details},
    )


def _report(user: User, message: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(UserPublic.model_validate(user).model_dump(mode="json")))
    else:
        typer.echo(message)


def _set_disabled(user: str, *, disabled: bool, as_json: bool) -> None:
    with cli_session() as (_ctx, session):
        found = service.find_user(session, user)
        record, changes = service.update_user(session, user_id=found.id, disabled=disabled, now=utcnow())
        _audited(
            session, action="disable" if disabled else "enable", user=record, details={"changes": changes}
        )
        what = "disabled" if disabled else "enabled"
        note = "; its tokens are revoked" if disabled else ""
        _report(record, f"{what} {record.username} (id {record.id}){note}", as_json)


@users_app.command("disable")
def disable_user(user: UserRef, as_json: JsonOption = False) -> None:
    """Close an account: its tokens stop working at once and it cannot log in (audited)."""
    _set_disabled(user, disabled=True, as_json=as_json)


@users_app.command("enable")
def enable_user(user: UserRef, as_json: JsonOption = False) -> None:
    """Open a disabled account again (it logs in anew; old tokens stay revoked)."""
    _set_disabled(user, disabled=False, as_json=as_json)


@users_app.command("set-password")
def set_password(
    user: UserRef,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters; prompted when omitted.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Reset a user's password; every token the user holds stops working (audited)."""
    with cli_session() as (_ctx, session):
        found = service.find_user(session, user)
        record = service.set_password(session, user_id=found.id, password=password, now=utcnow())
        _audited(session, action="set-password", user=record, details={"event": "password_reset"})
        _report(
            record, f"password of {record.username} (id {record.id}) set; its tokens are revoked", as_json
        )


@users_app.command("revoke-tokens")
def revoke_tokens(user: UserRef, as_json: JsonOption = False) -> None:
    """Sign a user out everywhere: access and refresh tokens stop working at once (audited)."""
    with cli_session() as (_ctx, session):
        found = service.find_user(session, user)
        record = service.revoke_tokens(session, user_id=found.id, now=utcnow())
        _audited(session, action="revoke-tokens", user=record, details={"event": "tokens_revoked"})
        _report(record, f"tokens of {record.username} (id {record.id}) revoked", as_json)


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. pmta-pipe.")],
    role: Annotated[Role, typer.Option(help="viewer, ingest (pipe only), operator or admin.")] = Role.VIEWER,
    expires: Annotated[datetime | None, typer.Option(help="Expiry (ISO date/time, UTC).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it once."""
    from email_engine.auth.schemas import ApiKeyCreate

    expires_at = expires.replace(tzinfo=expires.tzinfo or UTC) if expires else None
    try:
        data = ApiKeyCreate(name=name, role=role, expires_at=expires_at)
    except ValueError as exc:
        raise InvalidInput(f"Invalid key details: {exc}") from exc
    with cli_session() as (_ctx, session):
        record, key = service.create_api_key(
            session, name=data.name, role=data.role, expires_at=data.expires_at, now=utcnow()
        )
        public = ApiKeyPublic.model_validate(record)
    if as_json:
        typer.echo(json.dumps({**public.model_dump(mode="json"), "key": key}))
    else:
        typer.echo(
            f"API key {public.name} ({public.role.value}); store it now, it is not shown again:\n{key}"
        )


@keys_app.command("list")
def list_keys(as_json: JsonOption = False) -> None:
    """List API keys (never the keys themselves)."""
    with cli_session() as (_ctx, session):
        keys = [ApiKeyPublic.model_validate(key) for key in service.list_api_keys(session)]
    if as_json:
        typer.echo(json.dumps([key.model_dump(mode="json") for key in keys], indent=2))
        return
    table = Table("name", "prefix", "role", "created", "expires", "revoked")
    for key in keys:
        table.add_row(
            key.name,
            key.prefix,
            key.role.value,
            key.created_at.isoformat(),
            key.expires_at.isoformat() if key.expires_at else "-",
            key.revoked_at.isoformat() if key.revoked_at else "-",
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(name: Annotated[str, typer.Argument(help="Name of the key to revoke.")]) -> None:
    """Revoke an API key; requests using it get 401 from then on."""
    with cli_session() as (_ctx, session):
        service.revoke_api_key(session, name=name, now=utcnow())
    typer.echo(f"revoked {name}")


def register(root: typer.Typer) -> None:
    root.add_typer(users_app, name="users")
    root.add_typer(keys_app, name="keys")
