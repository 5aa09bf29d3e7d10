"""``email-engine snds fetch|show``: Microsoft SNDS data per IP and day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console

from email_engine.cli_support import JsonOption, cli_session, whole_table
from email_engine.clock import utcnow
from email_engine.integrations.snds import service
from email_engine.integrations.snds.settings import SndsSettings

app = typer.Typer(
    help="Microsoft SNDS: per-IP filter results, complaint rates, trap hits and blocks.", no_args_is_help=True
)
console = Console()


@app.command("fetch")
def fetch(
    day: Annotated[
        str | None, typer.Option("--date", help="Only this day (YYYY-MM-DD); default: latest plus backfill.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the feeds now (the snds job does it every SNDS_INTERVAL)."""
    try:
        asked = date.fromisoformat(day) if day else None
    except ValueError:
        raise typer.BadParameter("--date is YYYY-MM-DD.") from None
    with cli_session() as (ctx, session):
        summary = service.fetch_and_store(
            session, ctx.settings.section(SndsSettings), now=utcnow(), day=asked
        )
    typer.echo(json.dumps(summary, indent=None if as_json else 2))


@app.command("show")
def show(
    ip: Annotated[list[str] | None, typer.Argument(help="IPs; default: every IP in the stored data.")] = None,
    days: Annotated[int, typer.Option(min=1, max=365)] = 14,
    as_json: JsonOption = False,
) -> None:
    """Stored SNDS days, newest last."""
    until = utcnow().date()
    with cli_session() as (_ctx, session):
        ips = ip or service.stored_ips(session)
        rows = [
            {
                "ip": row.ip,
                "day": row.day.isoformat(),
                "filter": row.filter_result,
                "complaints": row.complaint_text,
                "trap_hits": row.trap_hits,
                "recipients": row.message_recipients,
            }
            for row in service.ip_days(session, ips=ips, since=until - timedelta(days=days), until=until)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = whole_table("day", "ip", "filter", "complaints", "trap hits", "recipients", whole=("day", "ip"))
    for row in rows:
        table.add_row(
            *(
                str(row[key] if row[key] is not None else "-")
                for key in ("day", "ip", "filter", "complaints", "trap_hits", "recipients")
            )
        )
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="snds")
