"""``email-engine alerts test|active``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from email_engine.cli_support import JsonOption, cli_context, cli_session
from email_engine.clock import utcnow
from email_engine.db import session_scope
from email_engine.integrations.alerts.senders import send_alerts
from email_engine.integrations.alerts.service import ALERT_KIND, active_alerts, enqueue_test_message
from email_engine.outbox.delivery import drain
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.settings import OutboxSettings

alerts_app = typer.Typer(help="Operator alerts (Telegram, Apprise URLs).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@alerts_app.command("test")
def test_command(
    message: Annotated[str, typer.Option(help="Text of the test message (up to 1000 characters).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Send a test message to every configured destination now (through the outbox) and report.

    Exits 1 when it did not get through; the event then stays in the outbox (retried, or dead when
    no destination is configured) so `email-engine outbox status` shows it.
    """
    if len(message) > 1000:
        raise typer.BadParameter("The test message is limited to 1000 characters.")
    with cli_context() as ctx:
        with session_scope(ctx.session_factory) as session:
            key = enqueue_test_message(session, now=utcnow(), note=message)
        drain(
            ctx,
            settings=ctx.settings.section(OutboxSettings),
            clock=utcnow,
            senders={ALERT_KIND: send_alerts},
            budget_seconds=30,
        )
        with session_scope(ctx.session_factory) as session:
            event = session.scalars(select(OutboxEvent).where(OutboxEvent.idempotency_key == key)).one()
            outcome = {"event_id": event.id, "status": event.status, "error": event.last_error}
    ok = outcome["status"] == "sent"
    if as_json:
        typer.echo(json.dumps({"ok": ok, **outcome}))
    elif ok:
        typer.echo("test alert delivered to every configured destination")
    else:
        err.print(f"test alert not delivered ({outcome['status']}): {outcome['error']}")
    if not ok:
        raise typer.Exit(1)


@alerts_app.command("active")
def active_command(as_json: JsonOption = False) -> None:
    """Alert conditions that are firing now."""
    with cli_session() as (_ctx, session):
        rows = [
            {
                "key": state.key,
                "severity": state.severity,
                "title": state.title,
                "since": state.first_raised_at.isoformat(),
                "notifications": state.notifications,
            }
            for state in active_alerts(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no active alerts")
    for row in rows:
        console.print(f"[{row['severity']}] {row['key']}: {row['title']} (since {row['since']})")


def register(root: typer.Typer) -> None:
    root.add_typer(alerts_app, name="alerts")
