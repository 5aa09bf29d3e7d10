"""``email-engine outbox drain|status|retry``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_context, cli_session
from email_engine.clock import utcnow
from email_engine.db import session_scope
from email_engine.outbox import service
from email_engine.outbox.delivery import drain
from email_engine.outbox.destinations import named_destination
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
    with cli_context() as ctx:
        report = drain(
            ctx, settings=ctx.settings.section(OutboxSettings), clock=utcnow, budget_seconds=budget
        )
        with session_scope(ctx.session_factory) as session:
            remaining = service.backlog(session)
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
    with cli_session() as (_ctx, session):
        counts = service.status_counts(session)
        dead = [OutboxEventPublic.model_validate(e) for e in service.recent_dead(session, limit=20)]
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
def retry_command(
    event_id: Annotated[int | None, typer.Argument(min=1, max=2**63 - 1, help="Outbox event id.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every dead event (of --destination).")] = False,
    destination: Annotated[
        str | None, typer.Option(help="Only this destination (scraper-pro, alerts) or event kind.")
    ] = None,
    state: Annotated[
        str, typer.Option(help="dead (default), or pending to send waiting events now.")
    ] = "dead",
    as_json: JsonOption = False,
) -> None:
    """Queue one event (ID) or all dead events (--all) for an immediate new attempt.

    Revived events keep their idempotency keys and go out oldest first at the next outbox run.
    """
    if (event_id is None) == (not every):
        raise typer.BadParameter("give an event ID or --all (not both)")
    with cli_session() as (_ctx, session):
        if event_id is not None:
            event = service.retry_event(session, event_id=event_id, now=utcnow())
            result: dict[str, object] = {"requeued": 1, "event_id": event.id, "kind": event.kind}
            message = f"event {event.id} ({event.kind}) queued again"
        else:
            kinds = named_destination(destination).kinds if destination else None
            count = service.requeue(session, kinds=kinds, state=state, now=utcnow())
            result = {"requeued": count, "destination": destination, "state": state}
            message = f"{count} {state} events queued again" + (f" for {destination}" if destination else "")
    typer.echo(json.dumps(result) if as_json else message)


def register(root: typer.Typer) -> None:
    root.add_typer(outbox_app, name="outbox")
