"""``/ui/operations``: periodic jobs with "run now", the outbox (backlog, dead events with retry), and
the audit log with filters — the API's functions (ops.job_routes, outbox.service, auth.service)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.auth import service as auth_service
from email_engine.clock import utcnow
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
from email_engine.errors import EmailEngineError, InvalidInput
from email_engine.ops.job_routes import jobs_report, run_now
from email_engine.outbox import service as outbox_service
from email_engine.outbox.destinations import named_destination

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)

AUDIT_PAGE = 100


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _operations_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    ctx: ContextDep,
    *,
    actor: str | None = None,
    offset: int = 0,
    error: str | None = None,
    status: int = 200,
) -> Response:
    report = jobs_report(ctx, session)
    for job in report["jobs"]:
        job["next_at"] = _parse_time(job["next_run_at"])
        if job["last_run"]:
            job["last_run"]["started"] = _parse_time(job["last_run"]["started_at"])
    total, entries = auth_service.list_audit(session, limit=AUDIT_PAGE, offset=offset, actor=actor or None)
    return show(
        request,
        "operations.html",
        viewer,
        {
            "title": "Operations",
            "report": report,
            "counts": outbox_service.status_counts(session),
            "backlog": outbox_service.backlog(session),
            "oldest": outbox_service.oldest_undelivered(session),
            "dead": outbox_service.recent_dead(session, limit=50),
            "audit": entries,
            "audit_total": total,
            "actor": actor or "",
            "offset": offset,
            "page": AUDIT_PAGE,
        },
        error=error,
        status=status,
    )


@router.get("/operations")
def operations(
    request: Request,
    *,
    viewer: ViewerDep,
    session: SessionDep,
    ctx: ContextDep,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    return _operations_page(request, session, viewer, ctx, actor=actor, offset=offset)


@router.post("/operations/jobs/run")
async def run_job(request: Request, viewer: OperatorViewer, ctx: ContextDep) -> Response:
    """``POST /api/v1/jobs/{name}/run``: runs in this worker and is recorded like any run."""
    name = field(request, "job", max_length=64)
    audit(request, "jobs.run", f"POST /api/v1/jobs/{name}/run")
    try:
        outcome = await anyio.to_thread.run_sync(run_now, ctx, name)
    except EmailEngineError as exc:
        with ctx.session_factory() as session:
            return _operations_page(request, session, viewer, ctx, error=exc.detail, status=error_status(exc))
    text = f"{name}: {outcome['status']}"
    if outcome.get("error"):
        text += f" — {outcome['error']}"
    return redirect("/ui/operations", flash=text)


@router.post("/operations/outbox/retry")
def retry_event(request: Request, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``POST /api/v1/outbox/{id}/retry``, or ``POST /api/v1/outbox/retry`` (every dead event)."""
    try:
        event_id = optional_int(request, "event_id", low=1)
        if event_id is not None:
            audit(request, "outbox.retry", f"POST /api/v1/outbox/{event_id}/retry")
            event = outbox_service.retry_event(session, event_id=event_id, now=utcnow())
            text = f"Event {event.id} ({event.kind}) is queued again."
        else:
            destination = field(request, "destination", required=False, max_length=64) or None
            audit(request, "outbox.retry_all", "POST /api/v1/outbox/retry", destination=destination)
            if destination is not None and not destination.replace("-", "").replace("_", "").isalnum():
                raise InvalidInput("destination must be a destination or event kind name.")
            kinds = named_destination(destination).kinds if destination else None
            count = outbox_service.requeue(session, kinds=kinds, state="dead", now=utcnow())
            text = f"{count} dead event{'s' if count != 1 else ''} queued again."
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _operations_page(request, session, viewer, ctx, error=exc.detail, status=error_status(exc))
    return redirect("/ui/operations", flash=text)
