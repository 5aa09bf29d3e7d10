"""``email-engine mailwizz …``: look at a delivery server, check the database connection and grants."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from email_engine.config import get_settings
from email_engine.errors import ConfigurationError, DependencyUnavailable
from email_engine.integrations.mailwizz.database import MailwizzDatabase
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.logging import configure_logging

app = typer.Typer(help="MailWizz delivery servers as the engine sees them.", no_args_is_help=True)
console = Console()


def _database() -> MailwizzDatabase:
    settings = get_settings()
    configure_logging(settings)
    return MailwizzDatabase.from_settings(settings.section(MailwizzSettings))


@app.command("check")
def check() -> None:
    """Connect with MAILWIZZ_DB_* and read the delivery-server table (exit 2 with the reason if not)."""
    database = _database()
    database.ping()
    typer.echo(f"ok: {database.table} readable at {database.where}")
    try:
        database.campaigns_sending_through(0, datetime.now(UTC))
    except (ConfigurationError, DependencyUnavailable) as exc:
        # Not fatal: the failover job still stops IPs; it only cannot name the campaigns to pause.
        typer.echo(f"warning: {exc.detail}")
    else:
        typer.echo("ok: campaign and campaign_delivery_log readable (campaigns to pause can be found)")


@app.command("server")
def server(
    server_id: Annotated[int, typer.Argument(min=1, help="MailWizz delivery-server server_id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show a delivery server's status and quotas (what the engine reads and writes)."""
    data = _database().read_server(server_id).as_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {'-' if value is None else value}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mailwizz")
