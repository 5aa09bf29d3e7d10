"""``email-engine warmup …``: plans, presets, the daily run and the failover pass from the shell."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_session
from email_engine.clock import utcnow
from email_engine.errors import EmailEngineError, InvalidInput
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup import daily_run, failover_service, holds, service
from email_engine.warmup.jobs import campaign_api, mailwizz_writer
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.settings import WarmupSettings

app = typer.Typer(
    help="Warmup plans (curves that ramp an IP's volume up, gated on its real results) and guarded failover.",
    no_args_is_help=True,
)
console = Console()

PlanId = Annotated[int, typer.Argument(help="The plan's id (see `email-engine warmup plans`).", min=1)]
ACTOR = "cli"


def _emit(data: Any, as_json: bool) -> bool:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    return as_json


def _show_detail(detail: dict[str, Any], as_json: bool) -> None:
    if _emit(detail, as_json):
        return
    position = (
        f"day {detail['day_number']} of {detail['days_in_curve']}" if detail["day_number"] else "not started"
    )
    console.print(
        f"plan {detail['id']} · IP {detail['ip_address']} ({detail['ip_state']}) · {detail['status']} · {position}"
    )
    if detail.get("status_reason"):
        console.print(f"  {detail['status_reason']}")
    if detail["today_limit"]:
        console.print(
            f"  today: {detail['today_limit']['daily']}/day, {detail['today_limit']['hourly']}/hour"
        )
    table = Table("date", "day", "daily", "hourly", "decision", "why")
    for day in detail["days"]:
        table.add_row(
            str(day["day"]),
            str(day["day_number"] or "-"),
            str(day["daily_limit"]),
            str(day["hourly_limit"]),
            day["decision"],
            "; ".join(day["reasons"]),
        )
    console.print(table)
    push = detail.get("push")
    if push:
        console.print(
            f"  MailWizz: {push['status']}"
            + (
                f" ({push.get('error') or push.get('detail')})"
                if push.get("error") or push.get("detail")
                else ""
            )
        )


@app.command("presets")
def presets(as_json: JsonOption = False) -> None:
    """Print the built-in curves (daily volumes, day 1 first)."""
    data = [
        {"name": p.name, "description": p.description, "curve": list(p.spec.curve)} for p in PRESETS.values()
    ]
    if _emit(data, as_json):
        return
    for item in data:
        console.print(f"[bold]{item['name']}[/] ({len(item['curve'])} days): {item['description']}")
        console.print("  " + ", ".join(str(v) for v in item["curve"]))


@app.command("plans")
def plans(
    status: Annotated[
        str | None, typer.Option(help="created, running, paused, completed or aborted.")
    ] = None,
    ip_id: Annotated[int | None, typer.Option(help="Only plans of this IP id.", min=1)] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List warmup plans, newest first."""
    with cli_session() as (_ctx, session):
        total, rows = service.list_plans(session, status=status, ip_id=ip_id, limit=limit)
        data: list[dict[str, Any]] = [
            {
                "id": r.id,
                "ip_id": r.ip_id,
                "preset": r.preset,
                "status": r.status,
                "day": None if r.day_index is None else r.day_index + 1,
                "days": len(r.schedule),
                "failures": r.consecutive_failures,
            }
            for r in rows
        ]
    if _emit({"total": total, "items": data}, as_json):
        return
    table = Table("id", "ip id", "preset", "status", "day", "failures")
    for item in data:
        table.add_row(
            str(item["id"]),
            str(item["ip_id"]),
            item["preset"] or "custom",
            item["status"],
            f"{item['day'] or '-'}/{item['days']}",
            str(item["failures"]),
        )
    console.print(table)


@app.command("show")
def show(plan_id: PlanId, as_json: JsonOption = False) -> None:
    """Show a plan: its curve, where the IP is on it, and why each day advanced or held."""
    with cli_session() as (_ctx, session):
        detail = service.plan_detail(session, plan_id)
    _show_detail(detail, as_json)


def _parse_schedule(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise InvalidInput("--schedule takes whole numbers separated by commas, e.g. 50,80,120.") from None


@app.command("create")
def create(
    ip_id: Annotated[int, typer.Option("--ip-id", help="The IP to warm (inventory id).", min=1)],
    preset: Annotated[str | None, typer.Option(help=f"One of: {', '.join(PRESETS)}.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Custom daily volumes, comma-separated.")] = None,
    start: Annotated[bool, typer.Option("--start", help="Start at once (pushes day 1 to MailWizz).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a plan from a preset or a custom schedule (exactly one)."""
    with cli_session() as (ctx, session):
        plan = service.create_plan(
            session,
            ip_id=ip_id,
            preset=preset,
            schedule=_parse_schedule(schedule) if schedule is not None else None,
            default_gates=ctx.settings.section(WarmupSettings).default_gates(),
            actor=ACTOR,
            now=utcnow(),
        )
        push = None
        if start:
            _plan, push = service.start_plan(
                session, plan_id=plan.id, actor=ACTOR, now=utcnow(), mailwizz=mailwizz_writer(ctx)
            )
        detail = {**service.plan_detail(session, plan.id), "push": push}
    _show_detail(detail, as_json)


def _change(action: str, plan_id: int, reason: str | None, as_json: bool) -> None:
    with cli_session() as (ctx, session):
        mailwizz = mailwizz_writer(ctx)
        now = utcnow()
        if action == "start":
            _plan, push = service.start_plan(
                session, plan_id=plan_id, actor=ACTOR, now=now, mailwizz=mailwizz
            )
        elif action == "pause":
            _plan, push = service.pause_plan(
                session, plan_id=plan_id, reason=reason, actor=ACTOR, now=now, mailwizz=mailwizz
            )
        elif action == "resume":
            _plan, push = service.resume_plan(
                session, plan_id=plan_id, actor=ACTOR, now=now, mailwizz=mailwizz
            )
        else:
            _plan, push = service.abort_plan(
                session, plan_id=plan_id, reason=reason, actor=ACTOR, now=now, mailwizz=mailwizz
            )
        detail = {**service.plan_detail(session, plan_id), "push": push}
    _show_detail(detail, as_json)


ReasonOption = Annotated[str | None, typer.Option(help="Why (kept with the plan; up to 500 characters).")]


@app.command("start")
def start_cmd(plan_id: PlanId, as_json: JsonOption = False) -> None:
    """Start a created plan: the IP goes to warming and day 1's quotas go to MailWizz."""
    _change("start", plan_id, None, as_json)


@app.command("pause")
def pause_cmd(plan_id: PlanId, reason: ReasonOption = None, as_json: JsonOption = False) -> None:
    """Pause a running plan (MailWizz server inactive) until you resume it."""
    _change("pause", plan_id, reason, as_json)


@app.command("resume")
def resume_cmd(plan_id: PlanId, as_json: JsonOption = False) -> None:
    """Resume a paused plan, a few days lower on the curve."""
    _change("resume", plan_id, None, as_json)


@app.command("abort")
def abort_cmd(plan_id: PlanId, reason: ReasonOption = None, as_json: JsonOption = False) -> None:
    """Abort a plan; a warming IP goes back to standby and stops sending."""
    _change("abort", plan_id, reason, as_json)


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if not _emit(summary, as_json):
        console.print_json(json.dumps(summary, default=str))


@app.command("run")
def run(as_json: JsonOption = False) -> None:
    """Run the warmup job once now (same as `email-engine jobs run warmup`)."""
    with cli_session() as (ctx, session):
        summary = daily_run.run_warmup(
            session, now=utcnow(), mailwizz=mailwizz_writer(ctx), signals=ctx.settings.section(SignalSettings)
        )
    _print_summary(summary, as_json)
    if summary["push_failed"] or summary["errors"]:
        raise typer.Exit(1)


@app.command("failover")
def failover(as_json: JsonOption = False) -> None:
    """Run the guarded failover pass once now (same as `email-engine jobs run failover`)."""
    with cli_session() as (ctx, session), campaign_api(ctx) as api:
        summary = failover_service.run_failover(
            session,
            now=utcnow(),
            mailwizz=mailwizz_writer(ctx),
            settings=ctx.settings.section(WarmupSettings),
            signals=ctx.settings.section(SignalSettings),
            campaigns_api=api,
        )
    _print_summary(summary, as_json)


failover_app = typer.Typer(
    help="Guarded failover: run the pass, list the traffic holds (IPs stopped because the list or the "
    "content is the cause) and resolve one once the cause is fixed.",
    no_args_is_help=True,
)


@failover_app.command("run")
def failover_run(as_json: JsonOption = False) -> None:
    """Run the guarded failover pass once now (same as `email-engine jobs run failover`)."""
    failover(as_json)


def _hold_row(hold: Any, address: str) -> dict[str, Any]:
    return {
        "id": hold.id,
        "ip_id": hold.ip_id,
        "address": address,
        "cause": hold.cause,
        "trigger": hold.trigger,
        "reasons": hold.reasons,
        "opened_at": hold.opened_at.isoformat(),
        "resolved_at": hold.resolved_at.isoformat() if hold.resolved_at else None,
        "resolved_by": hold.resolved_by,
        "resolution": hold.resolution,
    }


@failover_app.command("holds")
def failover_holds(
    show_all: Annotated[bool, typer.Option("--all", help="Resolved holds too, not only open ones.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Traffic holds: the IP, the cause (list or content), why, and who resolved it."""
    from email_engine.ips.models import SendingIp

    with cli_session() as (_ctx, session):
        _total, rows = holds.list_holds(session, open_only=not show_all, limit=500)
        items = [_hold_row(h, getattr(session.get(SendingIp, h.ip_id), "address", "?")) for h in rows]
    if _emit(items, as_json):
        return
    table = Table("id", "ip", "cause", "trigger", "opened", "resolved", "why")
    for item in items:
        table.add_row(
            str(item["id"]),
            item["address"],
            item["cause"],
            item["trigger"],
            item["opened_at"][:16],
            (item["resolved_at"] or "open")[:16],
            "; ".join(item["reasons"])[:80],
        )
    console.print(table)


@failover_app.command("resolve")
def failover_resolve(
    target: Annotated[
        str, typer.Argument(help="The hold's id, or the IP address whose open hold to resolve.")
    ],
    note: Annotated[str, typer.Option(help="What was fixed (recorded and audited).")],
    as_json: JsonOption = False,
) -> None:
    """Resolve a traffic hold once its cause is fixed (audited).

    The IP stays quarantined; the normal recovery then rests it and re-warms it from day 1 once it is
    delisted.
    """
    from sqlalchemy import select

    from email_engine.auth.roles import Role
    from email_engine.auth.service import Principal, record_audit
    from email_engine.ips.models import SendingIp

    with cli_session() as (_ctx, session):
        if target.isdigit():
            hold_id = int(target)
        else:
            ip_id = session.scalar(select(SendingIp.id).where(SendingIp.address == target.strip()))
            found = holds.open_hold(session, ip_id) if ip_id is not None else None
            if found is None:
                typer.echo(
                    f"error: {target} has no open traffic hold (email-engine failover holds).", err=True
                )
                raise typer.Exit(1)
            hold_id = found.id
        now = utcnow()
        try:
            hold = holds.resolve_hold(session, hold_id=hold_id, note=note, actor=ACTOR, now=now)
        except EmailEngineError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        record_audit(
            session,
            principal=Principal(kind="cli", name="cli", role=Role.ADMIN),
            action="POST",
            target=f"/api/v1/warmup/holds/{hold.id}/resolve",
            status_code=200,
            client_address=None,
            now=now,
            details={"hold_id": hold.id, "ip_id": hold.ip_id, "note": hold.resolution},
        )
        address = getattr(session.get(SendingIp, hold.ip_id), "address", "?")
        item = _hold_row(hold, address)
    if not _emit(item, as_json):
        typer.echo(f"Traffic hold {item['id']} on {address} resolved: {item['resolution']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warmup")
    root.add_typer(failover_app, name="failover")
