"""``email-engine outbox drain|status|retry``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_context
from email_engine.clock import utcnow
from email_engine.db import session_scope
from email_engine.ops.domain_settings import domain_settings
from email_engine.outbox import service
from email_engine.outbox.delivery import drain
from email_engine.outbox.schemas import OutboxEventPublic
from email_engine.outbox.settings import OutboxSettings

outbox_app = typer.Typer(
    help="The durable outbox of events for peers (alerts, scraper-pro).", no_args_is_help=True
)
console = Console()


@outbox_app.command("drain")
def drain_command(
    budget: Annotated[
        float, typer.Option(min=0.1, help="Stop starting new batches after this many seconds.")
    ] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Deliver every due event now (the scheduler's `outbox` job does this every few seconds).

    Exits 1 when some events failed (they stay queued with backoff, or are dead after the limit).
    """
    ctx = cli_context()
    try:
        report = drain(
            ctx, settings=domain_settings(ctx, OutboxSettings), clock=utcnow, budget_seconds=budget
        )
        with session_scope(ctx.session_factory) as session:
            remaining = service.backlog(session)
    finally:
        ctx.close()
    result = {**report.as_dict(), "backlog": remaining}
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"sent {report.sent}, retry later {report.retried}, dead {report.dead}; "
            f"still queued: {sum(remaining.values())}"
        )
    if report.retried or report.dead:
        raise typer.Exit(1)


@outbox_app.command("status")
def status_command(as_json: JsonOption = False) -> None:
    """Counts by kind and status, and the most recent dead events."""
    ctx = cli_context()
    try:
        with session_scope(ctx.session_factory) as session:
            counts = service.status_counts(session)
            dead = [OutboxEventPublic.model_validate(e) for e in service.recent_dead(session, limit=20)]
    finally:
        ctx.close()
    if as_json:
        typer.echo(json.dumps({"counts": counts, "dead": [d.model_dump(mode="json") for d in dead]}))
        return
    table = Table("kind", "pending", "sending", "sent", "dead")
    for kind, by_status in sorted(counts.items()):
        table.add_row(kind, *(str(by_status[s]) for s in ("pending", "sending", "sent", "dead")))
    console.print(table)
    for event in dead:
        console.print(f"dead #{event.id} {event.kind} after {event.attempts} attempts: {event.last_error}")


@outbox_app.command("retry")
def retry_command(event_id: Annotated[int, typer.Argument(min=1, help="Outbox event id.")]) -> None:
    """Queue a dead or failing event for an immediate new attempt."""
    ctx = cli_context()
    try:
        with session_scope(ctx.session_factory) as session:
            event = service.retry_event(session, event_id=event_id, now=utcnow())
            typer.echo(f"event {event.id} ({event.kind}) queued again")
    finally:
        ctx.close()


def register(root: typer.Typer) -> None:
    root.add_typer(outbox_app, name="outbox")
