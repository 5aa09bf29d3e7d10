"""``email-engine jobs list|run|history`` and ``email-engine scheduler run|status``."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_context, cli_session
from email_engine.clock import utcnow
from email_engine.ops.job_status import job_overview, run_history
from email_engine.ops.registry import all_jobs, find_job
from email_engine.ops.scheduler import ClusterScheduler, make_lease
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.job_runner import run_job
from email_engine.platform.leader_lease import process_identity
from email_engine.platform.models import JobStatus

jobs_app = typer.Typer(help="Periodic jobs: list them, run one by hand.", no_args_is_help=True)
scheduler_app = typer.Typer(help="The cluster scheduler (one leader runs the jobs).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@jobs_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every job with its interval, last run (status, duration, error) and next run."""
    with cli_session() as (ctx, session):
        settings = ctx.settings.section(SchedulerSettings)
        jobs = all_jobs(ctx.settings, include_disabled=True)
        entries = job_overview(
            session, jobs, now=utcnow(), disabled=[j.name for j in jobs if settings.is_disabled(j.name)]
        )
        holder = make_lease(ctx, settings, "observer").current()
    if as_json:
        typer.echo(json.dumps({"leader": holder.as_dict() if holder else None, "jobs": entries}))
        return
    table = Table("job", "every", "last run", "status", "duration", "next run", "error")
    for entry in entries:
        last = entry["last_run"] or {}
        duration = last.get("duration_seconds")
        table.add_row(
            entry["name"],
            f"{entry['interval_seconds']} s",
            (last.get("started_at") or "never")[:19],
            last.get("status", "-"),
            f"{duration:.2f} s" if duration is not None else "-",
            (entry["next_run_at"] or "disabled")[:19],
            (last.get("error") or "")[:60],
        )
    console.print(table)
    if holder is None:
        console.print("leader: nobody holds the scheduler lease")
    else:
        state = "live" if holder.live else "EXPIRED"
        console.print(f"leader: {holder.holder} ({holder.backend}, {state}, renewed {holder.renewed_at})")


@jobs_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="Job name (see `email-engine jobs list`).")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Evaluate the job as of this ISO 8601 time (2026-03-02T06:00:00Z), for replays and "
            "simulated days; the run is recorded with trigger as_of. Refused in production for jobs "
            "that change state unless --force.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Allow --at for a state-changing job in production.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a job now in this process and record the run. Exits 1 if the job failed or was already running."""
    from email_engine.errors import EmailEngineError
    from email_engine.platform.job_runner import check_as_of, parse_as_of

    with cli_context() as ctx:
        spec = find_job(all_jobs(ctx.settings, include_disabled=True), name)
        as_of = None
        if at is not None:
            try:
                as_of = parse_as_of(at)
                check_as_of(spec, as_of, environment=ctx.settings.environment, force=force)
            except EmailEngineError as exc:
                err.print(f"error: {exc.detail}")
                raise typer.Exit(2) from None
        outcome = run_job(ctx, spec, trigger="manual", worker=process_identity(), as_of=as_of)
    if as_json:
        typer.echo(json.dumps(outcome.as_dict()))
    elif outcome.status == JobStatus.OK:
        typer.echo(f"{name}: ok in {outcome.duration_seconds:.2f} s: {json.dumps(outcome.result)}")
    else:
        err.print(f"{name}: {outcome.status}: {outcome.error}")
    if outcome.status != JobStatus.OK:
        raise typer.Exit(1)


@jobs_app.command("history")
def history_command(
    name: Annotated[str, typer.Argument(help="Job name.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many runs.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Recent runs of one job, newest first."""
    with cli_session() as (ctx, session):
        find_job(all_jobs(ctx.settings, include_disabled=True), name)
        runs = run_history(session, job=name, limit=limit)
    if as_json:
        typer.echo(json.dumps(runs))
        return
    table = Table("id", "trigger", "started", "status", "duration", "error")
    for run in runs:
        duration = run["duration_seconds"]
        table.add_row(
            str(run["id"]),
            run["trigger"],
            run["started_at"][:19],
            run["status"],
            f"{duration:.2f} s" if duration is not None else "-",
            (run["error"] or "")[:60],
        )
    console.print(table)


@scheduler_app.command("run")
def scheduler_run() -> None:
    """Run the scheduler in the foreground (a dedicated scheduler process, e.g. a systemd unit).

    It competes for the leader lease like `serve` workers do, so several may run; stop with SIGTERM.
    """
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    with cli_context() as ctx:
        settings = ctx.settings.section(SchedulerSettings)
        scheduler = ClusterScheduler(ctx, jobs=all_jobs(ctx.settings), settings=settings)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        scheduler.start()
        err.print(
            f"scheduler {scheduler.identity} running {len(scheduler.jobs)} jobs; lease: {scheduler.lease.backend}"
        )
        try:
            stop.wait()
        finally:
            scheduler.shutdown()


@scheduler_app.command("status")
def scheduler_status(as_json: JsonOption = False) -> None:
    """Who holds the leader lease and until when. Exits 1 when nobody does."""
    with cli_context() as ctx:
        holder = make_lease(ctx, ctx.settings.section(SchedulerSettings), "observer").current()
    if as_json:
        typer.echo(json.dumps({"leader": holder.as_dict() if holder else None}))
    elif holder is None:
        err.print("nobody holds the scheduler lease")
    else:
        typer.echo(
            f"{holder.holder} via {holder.backend}, {'live' if holder.live else 'expired'}, until {holder.expires_at}"
        )
    if holder is None or not holder.live:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(jobs_app, name="jobs")
    root.add_typer(scheduler_app, name="scheduler")
