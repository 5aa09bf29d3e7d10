"""``/ui/validation``: upload a CSV (the API's job), live progress (rows, rate, ETA), the verdict
summary, the result files, and past jobs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.web import (
    ConsoleRoute,
    OperatorViewer,
    Viewer,
    ViewerDep,
    audit,
    error_status,
    field,
    redirect,
    show,
    upload,
)
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError
from email_engine.validation import bulk
from email_engine.validation.models import ValidationJob
from email_engine.validation.router import UPLOAD_LIMIT_BYTES
from email_engine.validation.settings import ValidationSettings

__all__ = ["UPLOAD_LIMIT_BYTES", "job_status", "router"]

router = APIRouter(route_class=ConsoleRoute)

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
VERDICTS = ("valid", "invalid", "risky", "unknown")


def job_status(job: ValidationJob, now: datetime) -> dict[str, Any]:
    """Progress as the page shows it: share done, rows, rows per second and the time left."""
    progress = bulk.job_progress(job)
    rate = None
    eta = None
    if job.started_at is not None and job.rows_processed:
        end = job.finished_at or now
        seconds = max((end - job.started_at).total_seconds(), 0.001)
        rate = job.rows_processed / seconds
        if job.status == bulk.JobStatus.RUNNING and 0 < progress < 1:
            eta = seconds * (1 - progress) / progress
    parts = [f"{progress * 100:.0f} %", f"{job.rows_processed:,} rows"]
    if rate is not None:
        parts.append(f"{rate:,.0f} rows/s")
    if eta is not None:
        parts.append(f"about {eta:,.0f} s left")
    if job.status == bulk.JobStatus.FAILED and job.error:
        parts.append(f"failed: {job.error}")
    return {
        "id": job.public_id,
        "status": job.status,
        "progress": progress,
        "rows": job.rows_processed,
        "rate": rate,
        "eta_seconds": eta,
        "summary": " · ".join(parts),
        "verdicts": {name: getattr(job, name) for name in VERDICTS},
    }


def _validation_page(
    request: Request, session: Session, viewer: Viewer, *, error: str | None = None, status: int = 200
) -> Response:
    now = utcnow()
    jobs = bulk.list_jobs(session, limit=50)
    return show(
        request,
        "validation.html",
        viewer,
        {
            "title": "Validation",
            "jobs": [(job, job_status(job, now)) for job in jobs],
            "limit_mib": UPLOAD_LIMIT_BYTES // (1024 * 1024),
        },
        error=error,
        status=status,
    )


@router.get("/validation")
def validation(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    return _validation_page(request, session, viewer)


@router.post("/validation")
def upload_csv(request: Request, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``POST /api/v1/validation/jobs``: the file is checked before the job is accepted."""
    audit(request, "validation.upload", "POST /api/v1/validation/jobs")
    options = ctx.settings.section(ValidationSettings)
    try:
        file = upload(request, "file")
        job = bulk.accept_upload(
            session,
            options=options,
            stream=file.file,
            filename=file.filename,
            column=field(request, "column", required=False, max_length=255) or None,
            created_by=viewer.name,
            now=utcnow(),
        )
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _validation_page(request, session, viewer, error=exc.detail, status=error_status(exc))
    if options.jobs_autostart:
        bulk.start_in_background(ctx, clock=utcnow)
    return redirect(f"/ui/validation/{job.public_id}", flash=f"{job.filename} accepted; validating.")


@router.get("/validation/{job_id}")
def job_page(request: Request, job_id: JobId, viewer: ViewerDep, session: SessionDep) -> Response:
    job = bulk.get_job(session, job_id)
    return show(
        request,
        "validation_job.html",
        viewer,
        {"title": f"Validation of {job.filename}", "job": job, "status": job_status(job, utcnow())},
    )


@router.get("/validation/{job_id}/status")
def job_progress(job_id: JobId, _viewer: ViewerDep, session: SessionDep) -> Response:
    """The progress the page polls (``static/console.js``)."""
    return JSONResponse(
        job_status(bulk.get_job(session, job_id), utcnow()), headers={"Cache-Control": "no-store"}
    )


@router.get("/validation/{job_id}/result")
def job_result(
    job_id: JobId,
    _viewer: ViewerDep,
    session: SessionDep,
    ctx: ContextDep,
    verdict: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """``GET /api/v1/validation/jobs/{id}/result``: the spreadsheet-safe result file."""
    job = bulk.get_job(session, job_id)
    path = bulk.result_path(ctx.settings.section(ValidationSettings), job, verdict)
    suffix = f"-{verdict}" if verdict else ""
    return FileResponse(
        path, media_type="text/csv", filename=f"{FilePath(job.filename).stem}-validated{suffix}.csv"
    )
