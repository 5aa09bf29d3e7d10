"""``/ui/powermta``: the rendered configuration (secrets redacted), the diff against the deployed
files, the linter's findings with file and line, and a lint-gated deploy with confirmation (admin) —
the functions ``email-engine pmta render|diff|deploy`` use."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.web import (
    AdminViewer,
    ConsoleRoute,
    FormError,
    Viewer,
    ViewerDep,
    audit,
    error_status,
    field,
    redirect,
    show,
)
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError
from email_engine.integrations.powermta import service
from email_engine.integrations.powermta.settings import PowerMtaSettings

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)


def _powermta_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    ctx: ContextDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    settings = ctx.settings.section(PowerMtaSettings)
    values: dict[str, object] = {"title": "PowerMTA", "config_dir": settings.config_dir, "files": None}
    try:
        rendered, report = service.render_from_db(session, settings, now=utcnow())
    except EmailEngineError as exc:
        return show(
            request, "powermta.html", viewer, values, error=error or exc.detail, status=error_status(exc)
        )
    values.update(
        files=rendered.redacted(),
        issues=report.issues,
        errors=len(report.errors),
        warnings=len(report.warnings),
        diffs=service.redacted_diff(rendered, Path(settings.config_dir)),
        notes=list(rendered.notes),
    )
    return show(request, "powermta.html", viewer, values, error=error, status=status)


@router.get("/powermta")
def powermta(request: Request, viewer: ViewerDep, session: SessionDep, ctx: ContextDep) -> Response:
    return _powermta_page(request, session, viewer, ctx)


@router.post("/powermta/deploy")
def deploy(request: Request, viewer: AdminViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``email-engine pmta deploy``: refused on lint errors; a failed reload restores the old files."""
    audit(request, "pmta.deploy", "email-engine pmta deploy")
    settings = ctx.settings.section(PowerMtaSettings)
    try:
        if field(request, "confirm", required=False) != "yes":
            raise FormError("Tick the confirmation box to deploy: PowerMTA is reloaded with these files.")
        rendered, report = service.render_from_db(session, settings, now=utcnow())
        result = service.deploy_rendered(rendered, report, settings, now=utcnow())
    except EmailEngineError as exc:
        return _powermta_page(request, session, viewer, ctx, error=exc.detail, status=error_status(exc))
    if not result.written:
        return redirect("/ui/powermta", flash=f"{settings.config_dir} is up to date; nothing to deploy.")
    return redirect(
        "/ui/powermta",
        flash=f"Deployed {', '.join(result.written)}; backup in {result.backup_dir}; PowerMTA reloaded.",
    )
