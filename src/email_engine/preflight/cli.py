"""``email-engine preflight``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import cli_context
from email_engine.clock import utcnow
from email_engine.platform.preflight import PreflightSettings
from email_engine.preflight.report import summary
from email_engine.preflight.runner import run_preflight

STYLE = {"pass": "green", "fail": "red", "skip": "yellow"}


def preflight(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The GO/NO-GO checklist before sending: DNS records, blacklists, PowerMTA, MailWizz, scraper-pro,
    monitoring, Telegram, nginx/TLS, log rotation, backups, warmup plans, rate limiting.

    Each item is pass, fail (with the fix) or skip (not configured). Exit code 0 only on GO.
    """
    # A spinner on stderr while peers answer (up to PREFLIGHT_TIMEOUT each); stdout stays clean.
    with (
        cli_context() as ctx,
        Console(stderr=True).status("running the preflight checklist…", spinner="dots"),
    ):
        items = run_preflight(ctx, ctx.settings.section(PreflightSettings), utcnow())
    result = summary(items)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        table = Table("item", "status", "detail", "fix", title="Email Engine preflight")
        for item in items:
            table.add_row(item.name, f"[{STYLE[item.status]}]{item.status}[/]", item.detail, item.fix)
        console = Console()
        console.print(table)
        counts = result["counts"]
        verdict = "[bold green]GO[/]" if result["go"] else "[bold red]NO-GO[/]"
        console.print(f"{verdict}: {counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skip")
    raise typer.Exit(0 if result["go"] else 1)


def register(root: typer.Typer) -> None:
    root.command("preflight")(preflight)
