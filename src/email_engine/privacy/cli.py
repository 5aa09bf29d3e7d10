"""``email-engine privacy forget ADDRESS``: the right to be forgotten from the command line (audited)."""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from email_engine.auth.roles import Role
from email_engine.auth.service import Principal, record_audit
from email_engine.cli_support import JsonOption, cli_context
from email_engine.clock import utcnow
from email_engine.db import session_scope
from email_engine.errors import EmailEngineError
from email_engine.feedback.pseudonym import pseudonym_key
from email_engine.privacy.service import forget_address, require_key
from email_engine.validation.settings import ValidationSettings

__all__ = ["register"]

app = typer.Typer(
    help="Privacy: erase a recipient address (the right to be forgotten).", no_args_is_help=True
)


def _principal() -> Principal:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container, a cron job)
        who = "unknown"
    return Principal(kind="cli", name=f"cli:{who}"[:128], role=Role.ADMIN)


@app.command("forget")
def forget(
    address: Annotated[str, typer.Argument(help="The address to erase (local@domain).")],
    as_json: JsonOption = False,
) -> None:
    """Replace ADDRESS with its keyed pseudonym everywhere it is stored and keep it suppressed.

    Accounting records, stored diagnostics, dead letters, outbox payloads, audit entries and
    validation job files; the suppression list keeps the pseudonym. Needs PRIVACY_HASH_KEY.
    The audit entry names the pseudonym, not the address.
    """
    with cli_context() as ctx:
        try:
            with session_scope(ctx.session_factory) as session:
                now = utcnow()
                report = forget_address(
                    session,
                    address=address,
                    key=require_key(pseudonym_key(ctx.settings)),
                    validation_dir=ctx.settings.section(ValidationSettings).jobs_dir,
                    now=now,
                )
                counts = report.as_dict()
                record_audit(
                    session,
                    principal=_principal(),
                    action="DELETE",
                    target=f"/api/v1/privacy/addresses/{report.pseudonym}",
                    status_code=200,
                    client_address=None,
                    now=now,
                    details={"event": "address_forgotten", **counts},
                )
        except EmailEngineError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(" ".join(f"{name}={value}" for name, value in counts.items()))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="privacy")
