"""``/api/v1/validation``: validate addresses now, or a CSV file as a background job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response

from email_engine.auth.deps import CurrentPrincipal
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.validation import bulk
from email_engine.validation.models import ValidationJob
from email_engine.validation.schemas import JobPublic, ValidateRequest, ValidateResponse
from email_engine.validation.service import session_suppression, summarize, validator_for
from email_engine.validation.settings import ValidationSettings

__all__ = ["BODY_LIMITS", "UPLOAD_LIMIT_BYTES", "router", "upload_name"]

upload_name = bulk.upload_name

router = APIRouter(prefix="/api/v1/validation", tags=["validation"])

# 10,000 addresses of up to 254 characters as JSON fit in 4 MiB; bigger lists go through jobs.
EMAILS_LIMIT_BYTES = 4 * 1024 * 1024
# About 600,000 typical rows; larger files are validated with `email-engine validate` on the host.
UPLOAD_LIMIT_BYTES = 32 * 1024 * 1024
BODY_LIMITS = {"/api/v1/validation/emails": EMAILS_LIMIT_BYTES, "/api/v1/validation/jobs": UPLOAD_LIMIT_BYTES}


@router.post("/emails", response_model=ValidateResponse, summary="Validate up to 10,000 addresses")
def validate_emails(
    body: ValidateRequest, ctx: ContextDep, session: SessionDep, _principal: CurrentPrincipal
) -> Response:
    """Syntax, rules, suppression and DNS for each address; one result per input position, in order.

    Verdicts: `valid`, `invalid`, `risky` (role, typo with a `suggestion`), `unknown` (DNS timeout
    or error: ask again later). Rate limited by the `validation` budget (RATE_LIMIT_VALIDATION).
    """
    # A plain (threadpool) route: parsing 10,000 addresses is CPU work that must not stall the event
    # loop serving other requests; the DNS lookups run on this thread's own loop.
    verdicts = validator_for(ctx).validate_sync(
        body.emails, suppression=session_suppression(session, ctx.settings)
    )
    results = [
        {
            "email": v.email,
            "normalized": v.normalized,
            "verdict": v.verdict.value,
            "valid": v.valid,
            "reasons": [reason.value for reason in v.reasons],
            "suggestion": v.suggestion,
            "mx": list(v.mx),
            "detail": v.detail,
        }
        for v in verdicts
    ]
    # Built by hand (same shape as ValidateResponse): validating 10,000 result models again costs
    # more than the lookups themselves when the cache is warm.
    payload = json.dumps(
        {**summarize(verdicts), "results": results}, ensure_ascii=False, separators=(",", ":")
    )
    return Response(payload.encode(), media_type="application/json")


def _public(job: ValidationJob) -> JobPublic:
    return JobPublic(
        id=job.public_id,
        status=job.status,
        filename=job.filename,
        email_column=job.email_column,
        size_bytes=job.size_bytes,
        bytes_processed=job.bytes_processed,
        rows_processed=job.rows_processed,
        progress=bulk.job_progress(job),
        valid=job.valid,
        invalid=job.invalid,
        risky=job.risky,
        unknown=job.unknown,
        attempts=job.attempts,
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result_url=f"/api/v1/validation/jobs/{job.public_id}/result"
        if job.status == bulk.JobStatus.DONE
        else None,
    )


@router.post(
    "/jobs", response_model=JobPublic, status_code=202, summary="Validate a CSV file in the background"
)
def create_job(
    ctx: ContextDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="UTF-8 CSV with a header line (at most 32 MiB).")],
    column: Annotated[str | None, Form(description="Address column name or 1-based number.")] = None,
) -> JobPublic:
    """The file is checked (readable CSV, address column found) before the job is accepted; poll
    `GET /api/v1/validation/jobs/{id}` and download the result when `status` is `done`."""
    options = ctx.settings.section(ValidationSettings)
    job = bulk.accept_upload(
        session,
        options=options,
        stream=file.file,
        filename=file.filename,
        column=column,
        created_by=principal.name,
        now=utcnow(),
    )
    session.commit()
    if options.jobs_autostart:
        bulk.start_in_background(ctx, clock=utcnow)
    return _public(job)


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="Progress of a validation job")
def read_job(job_id: str, session: SessionDep, _principal: CurrentPrincipal) -> JobPublic:
    return _public(bulk.get_job(session, job_id))


@router.get(
    "/jobs/{job_id}/result",
    summary="Download the result CSV of a finished job",
    responses={
        200: {"content": {"text/csv": {}}, "description": "The result, spreadsheet-safe"},
        409: {"description": "The job is not done yet"},
    },
)
def download_result(
    job_id: str,
    ctx: ContextDep,
    session: SessionDep,
    _principal: CurrentPrincipal,
    verdict: Annotated[str | None, Query(description="Only rows with this verdict.")] = None,
) -> FileResponse:
    job = bulk.get_job(session, job_id)
    path = bulk.result_path(ctx.settings.section(ValidationSettings), job, verdict)
    suffix = f"-{verdict}" if verdict else ""
    return FileResponse(
        path, media_type="text/csv", filename=f"{Path(job.filename).stem}-validated{suffix}.csv"
    )
