"""``/ui/warmup``: plans, creating one from a preset, start/pause/resume/abort, and the failover
history (refusals included, with their reasons). Each action is the API's service call."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.charts import warmup_chart
from email_engine.console.inventory import ip_page_response
from email_engine.console.warmup_view import chart_days, plan_span
from email_engine.console.web import (
    ConsoleRoute,
    FormError,
    OperatorViewer,
    Viewer,
    ViewerDep,
    audit,
    error_status,
    field,
    optional_int,
    redirect,
    show,
)
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError
from email_engine.feedback import stats
from email_engine.ips import service as ip_service
from email_engine.ips.lifecycle import IpState
from email_engine.warmup import failover_service, service
from email_engine.warmup.jobs import mailwizz_writer
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.settings import WarmupSettings

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)

PlanId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ACTIONS = ("start", "pause", "resume", "abort")


def _warmup_page(
    request: Request, session: Session, viewer: Viewer, *, error: str | None = None, status: int = 200
) -> Response:
    _total, plans = service.list_plans(session, limit=50)
    # New plans are for cold IPs in standby; other states go through the IP's own page.
    _ips_total, ips = ip_service.list_ips(session, state=IpState.STANDBY, limit=200)
    addresses = {ip.id: ip.address for ip in ips}
    for plan in plans:
        if plan.ip_id not in addresses:
            addresses[plan.ip_id] = ip_service.get_ip(session, plan.ip_id).address
    _failover_total, failovers = failover_service.list_failover_events(session, limit=100)
    for event in failovers:
        for ip_id in (event.ip_id, event.standby_ip_id):
            if ip_id is not None and ip_id not in addresses:
                addresses[ip_id] = ip_service.get_ip(session, ip_id).address
    return show(
        request,
        "warmup.html",
        viewer,
        {
            "title": "Warmup",
            "plans": plans,
            "ips": ips,
            "addresses": addresses,
            "presets": list(PRESETS.values()),
            "failovers": failovers,
        },
        error=error,
        status=status,
    )


@router.get("/warmup")
def warmup(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    return _warmup_page(request, session, viewer)


@router.post("/warmup")
def create_plan(request: Request, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``POST /api/v1/warmup/plans`` with a preset (and ``start``)."""
    start = field(request, "start", required=False) == "yes"
    audit(request, "warmup.create", "POST /api/v1/warmup/plans", start=start)
    back_to_ip = field(request, "back", required=False) == "ip"
    now = utcnow()
    ip_id: int | None = None
    try:
        ip_id = optional_int(request, "ip_id", low=1)
        if ip_id is None:
            raise FormError("Choose the IP to warm up.")
        plan = service.create_plan(
            session,
            ip_id=ip_id,
            preset=field(request, "preset", max_length=32),
            default_gates=ctx.settings.section(WarmupSettings).default_gates(),
            actor=viewer.actor,
            now=now,
        )
        if start:
            service.start_plan(
                session, plan_id=plan.id, actor=viewer.actor, now=now, mailwizz=mailwizz_writer(ctx)
            )
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        if back_to_ip and ip_id is not None:
            return ip_page_response(
                request, session, viewer, ip_id, error=exc.detail, status=error_status(exc)
            )
        return _warmup_page(request, session, viewer, error=exc.detail, status=error_status(exc))
    done = f"Warmup plan {plan.id} created" + (" and started." if start else "; start it when ready.")
    return redirect(f"/ui/ips/{ip_id}" if back_to_ip else f"/ui/warmup/{plan.id}", flash=done)


def _plan_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    plan_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    detail = service.plan_detail(session, plan_id)
    today = utcnow().astimezone(UTC).date()
    span = plan_span(detail, today)
    sent: dict[Any, int] = {}
    if span is not None:
        daily = stats.daily_key_totals(
            session, dimension="ip", first_day=span[0], last_day=span[1], keys=[detail["ip_address"]]
        )
        sent = {day: counts["sent"] for day, counts in daily.get(detail["ip_address"], {}).items()}
    chart = warmup_chart(
        chart_days(detail, sent, today),
        title=f"Warmup plan {plan_id} of {detail['ip_address']}: planned curve, limit given, sent per day",
    )
    return show(
        request,
        "plan.html",
        viewer,
        {"title": f"Warmup plan {plan_id}", "plan": detail, "chart": chart},
        error=error,
        status=status,
    )


@router.get("/warmup/{plan_id}")
def plan_page(request: Request, plan_id: PlanId, viewer: ViewerDep, session: SessionDep) -> Response:
    return _plan_page(request, session, viewer, plan_id)


@router.post("/warmup/{plan_id}/{action}")
def plan_action(
    request: Request,
    *,
    plan_id: PlanId,
    action: str,
    viewer: OperatorViewer,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """``POST /api/v1/warmup/plans/{id}/start|pause|resume|abort``."""
    if action not in ACTIONS:
        return _plan_page(request, session, viewer, plan_id, error=f"Unknown action {action!r}.", status=404)
    audit(request, f"warmup.{action}", f"POST /api/v1/warmup/plans/{plan_id}/{action}")
    now = utcnow()
    writer = mailwizz_writer(ctx)
    try:
        reason = field(request, "reason", required=False, max_length=500) or None
        if action == "start":
            _plan, push = service.start_plan(
                session, plan_id=plan_id, actor=viewer.actor, now=now, mailwizz=writer
            )
        elif action == "pause":
            _plan, push = service.pause_plan(
                session, plan_id=plan_id, reason=reason, actor=viewer.actor, now=now, mailwizz=writer
            )
        elif action == "resume":
            _plan, push = service.resume_plan(
                session, plan_id=plan_id, actor=viewer.actor, now=now, mailwizz=writer
            )
        else:
            _plan, push = service.abort_plan(
                session, plan_id=plan_id, reason=reason, actor=viewer.actor, now=now, mailwizz=writer
            )
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _plan_page(request, session, viewer, plan_id, error=exc.detail, status=error_status(exc))
    pushed = push.get("status", "skipped") if isinstance(push, dict) else "skipped"
    return redirect(
        f"/ui/warmup/{plan_id}", flash=f"Plan {plan_id}: {action} done (MailWizz push: {pushed})."
    )
