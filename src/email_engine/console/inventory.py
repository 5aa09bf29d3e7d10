"""``/ui/ips``: the inventory (address, hostname, purpose, pool, state, warmup day, today's volume
against its cap, open listings), adding an IP, and one IP's page: lifecycle history with the allowed
transitions, the warmup chart, listings, and the MailWizz/PowerMTA actuation log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.auth.roles import Role, role_allows
from email_engine.clock import utcnow
from email_engine.console.charts import ListingSpan, listings_timeline, warmup_chart
from email_engine.console.warmup_view import chart_days, plan_span
from email_engine.console.web import (
    ConsoleRoute,
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
from email_engine.errors import EmailEngineError, PermissionDenied
from email_engine.feedback import stats
from email_engine.ips import service
from email_engine.ips.actuation import pause_if_stopped
from email_engine.ips.lifecycle import TRANSITIONS, IpState, parse_state
from email_engine.ips.validators import IpPurpose
from email_engine.reputation.service import list_events, listed_ips
from email_engine.warmup import service as warmup_service
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.stored_plan import plan_limit

__all__ = ["PAGE_SIZE", "inventory_values", "ip_page_response", "router"]

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 100
IpId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)


def inventory_values(session: Session, *, now: datetime, state: str | None, offset: int) -> dict[str, Any]:
    """The inventory table: one query each for IPs, pools, plans, limits, today's counts, listings."""
    total, ips = service.list_ips(session, state=state, limit=PAGE_SIZE, offset=offset)
    _pools_total, pools = service.list_pools(session, limit=service.MAX_PAGE)
    pool_names = {pool.id: pool.name for pool in pools}
    plan_of = warmup_service.unfinished_plans(session, [ip.id for ip in ips])
    today = stats.key_totals(session, dimension="ip", since=_midnight(now), until=now + timedelta(hours=1))
    listings = listed_ips(session)
    rows = []
    for ip in ips:
        plan = plan_of.get(ip.id)
        limit = plan_limit(plan) if plan is not None else None
        rows.append(
            {
                "ip": ip,
                "pool": pool_names.get(ip.pool_id) if ip.pool_id else None,
                "plan": plan,
                "day": None if plan is None or plan.day_index is None else plan.day_index + 1,
                "sent": today.get(ip.address, {}).get("sent", 0),
                "cap": None if limit is None else limit.daily,
                "listings": listings.get(ip.address, []),
            }
        )
    return {
        "rows": rows,
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "state": state,
        "pools": pools,
        "states": [s.value for s in IpState],
        "purposes": [p.value for p in IpPurpose],
    }


def _inventory_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    state: str | None = None,
    offset: int = 0,
    error: str | None = None,
    status: int = 200,
) -> Response:
    values = inventory_values(session, now=utcnow(), state=state, offset=offset)
    form = getattr(request.state, "form", None)
    return show(
        request,
        "ips.html",
        viewer,
        {**values, "title": "IPs", "form": form or {}},
        error=error,
        status=status,
    )


@router.get("/ips")
def inventory(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    state: Annotated[IpState | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    return _inventory_page(request, session, viewer, state=state.value if state else None, offset=offset)


@router.post("/ips")
def add_ip(request: Request, viewer: OperatorViewer, session: SessionDep) -> Response:
    """``POST /api/v1/ips`` from a form: the same service call, the same checks."""
    audit(request, "ips.create", "POST /api/v1/ips")
    try:
        ip = service.create_ip(
            session,
            address=field(request, "address", max_length=64),
            hostname=field(request, "hostname", max_length=255),
            purpose=field(request, "purpose", max_length=32),
            vmta_name=field(request, "vmta_name", max_length=64),
            pool_id=optional_int(request, "pool_id", low=1),
            mailwizz_server_id=optional_int(request, "mailwizz_server_id", low=1),
            notes=field(request, "notes", required=False) or None,
            actor=viewer.actor,
            now=utcnow(),
        )
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _inventory_page(request, session, viewer, error=exc.detail, status=error_status(exc))
    return redirect(f"/ui/ips/{ip.id}", flash=f"IP {ip.address} added in standby (cold).")


def _ip_values(session: Session, ip_id: int, now: datetime) -> dict[str, Any]:
    ip = service.get_ip(session, ip_id)
    _total, history = service.list_history(session, ip_id, limit=100)
    _total, actuations = service.list_actuations(session, ip_id, limit=50)
    _total, listings = list_events(session, target=ip.address, limit=100)
    _total, plans = warmup_service.list_plans(session, ip_id=ip_id, limit=20)
    detail = warmup_service.plan_detail(session, plans[0].id) if plans else None
    chart = None
    if detail is not None:
        today = now.astimezone(UTC).date()
        span = plan_span(detail, today)
        sent: dict[Any, int] = {}
        if span is not None:
            daily = stats.daily_key_totals(
                session, dimension="ip", first_day=span[0], last_day=span[1], keys=[ip.address]
            )
            sent = {day: counts["sent"] for day, counts in daily.get(ip.address, {}).items()}
        chart = warmup_chart(
            chart_days(detail, sent, today),
            title=f"Warmup plan {detail['id']} of {ip.address}: planned curve, limit given, sent per day",
        )
    timeline = listings_timeline(
        [ListingSpan(e.zone, e.first_seen_at, e.delisted_at) for e in listings],
        now=now,
        title=f"Listings of {ip.address} over time, one row per zone",
    )
    current = parse_state(ip.state)
    return {
        "ip": ip,
        "history": history,
        "actuations": actuations,
        "listings": listings,
        "listings_timeline": timeline,
        "plans": plans,
        "plan": detail,
        "chart": chart,
        "targets": sorted(state.value for state in TRANSITIONS[current]),
        "all_states": [state.value for state in IpState if state is not current],
        "presets": sorted(PRESETS),
        "title": f"IP {ip.address}",
    }


def _ip_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    ip_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return show(request, "ip.html", viewer, _ip_values(session, ip_id, utcnow()), error=error, status=status)


ip_page_response = _ip_page


@router.get("/ips/{ip_id}")
def ip_page(request: Request, ip_id: IpId, viewer: ViewerDep, session: SessionDep) -> Response:
    return _ip_page(request, session, viewer, ip_id)


@router.post("/ips/{ip_id}/transition")
def move_ip(
    request: Request, ip_id: IpId, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep
) -> Response:
    """``POST /api/v1/ips/{id}/transition``: the lifecycle table decides; forcing needs admin."""
    force = field(request, "force", required=False) == "yes"
    audit(request, "ips.transition", f"POST /api/v1/ips/{ip_id}/transition", force=force)
    now = utcnow()
    try:
        if force and not role_allows(viewer.principal.role, Role.ADMIN):
            raise PermissionDenied("Forcing a transition needs the admin role.")
        target = parse_state(field(request, "state", max_length=32))
        service.transition_ip(
            session,
            ip_id=ip_id,
            to_state=target,
            reason=field(request, "reason", max_length=500),
            actor=viewer.actor,
            now=now,
            force=force,
        )
        session.commit()
    except ValueError as exc:
        return _ip_page(request, session, viewer, ip_id, error=str(exc), status=422)
    except EmailEngineError as exc:
        session.rollback()
        return _ip_page(request, session, viewer, ip_id, error=exc.detail, status=error_status(exc))
    paused = pause_if_stopped(session, ctx, ip=service.get_ip(session, ip_id), to_state=target, now=now)
    message = f"Moved to {target.value}."
    if paused is not None:
        message += f" MailWizz pause: {paused['status']}" + (
            f" ({paused['error']})" if paused["error"] else ""
        )
    return redirect(f"/ui/ips/{ip_id}", flash=message)
