"""``email-engine postmaster fetch|show``: Gmail's view of the sending domains (Postmaster Tools API v2)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_session
from email_engine.clock import utcnow
from email_engine.integrations.postmaster import service
from email_engine.integrations.postmaster.settings import PostmasterSettings

app = typer.Typer(
    help="Google Postmaster Tools API v2: spam rate, authentication and delivery errors per domain and day, and "
    "the compliance status. (v2 has no IP or domain reputation: Google retired both.)",
    no_args_is_help=True,
)
console = Console()


@app.command("fetch")
def fetch(as_json: JsonOption = False) -> None:
    """Fetch now (the postmaster job does it every POSTMASTER_INTERVAL)."""
    with cli_session() as (ctx, session):
        summary = service.fetch_and_store(session, ctx.settings.section(PostmasterSettings), now=utcnow())
    typer.echo(json.dumps(summary, indent=None if as_json else 2))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


@app.command("show")
def show(
    domain: Annotated[list[str] | None, typer.Argument(help="Domains; default: all stored.")] = None,
    days: Annotated[int, typer.Option(min=1, max=365)] = 14,
    as_json: JsonOption = False,
) -> None:
    """Stored days (spam rate, DKIM/SPF/DMARC success, delivery errors) and the compliance status."""
    until = utcnow().date()
    with cli_session() as (_ctx, session):
        names = domain or service.stored_domains(session)
        rows = service.domain_days(session, domains=names, since=until - timedelta(days=days), until=until)
        items = [
            {
                "domain": r.domain,
                "day": r.day.isoformat(),
                "spam_rate": r.spam_rate,
                "dkim": r.dkim_success_rate,
                "spf": r.spf_success_rate,
                "dmarc": r.dmarc_success_rate,
                "delivery_errors": r.delivery_error_rate,
            }
            for r in rows
        ]
        compliance = {
            row.domain: {"compliant": row.compliant, "requirements": row.requirements}
            for row in service.latest_compliance(session)
        }
    if as_json:
        typer.echo(json.dumps({"days": items, "compliance": compliance}, indent=2))
        return
    table = Table("day", "domain", "spam rate", "DKIM", "SPF", "DMARC", "delivery errors")
    for item in items:
        table.add_row(
            str(item["day"]),
            str(item["domain"]),
            *(_pct(item[key]) for key in ("spam_rate", "dkim", "spf", "dmarc", "delivery_errors")),  # type: ignore[arg-type]
        )
    console.print(table)
    for name, state in compliance.items():
        console.print(f"{name}: compliant={state['compliant']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="postmaster")
