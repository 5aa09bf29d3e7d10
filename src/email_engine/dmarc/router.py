"""``/api/v1/dmarc``: post an aggregate report, list its sources, the stored reports and refused inputs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.deps import ContextDep, SessionDep
from email_engine.dmarc import service
from email_engine.dmarc.models import DmarcDeadLetter
from email_engine.dmarc.schemas import DeadLetterPublic, ImportResult, ReportPublic, SourcePage
from email_engine.dmarc.settings import DmarcSettings
from email_engine.errors import InvalidInput, NotFound
from email_engine.platform.schemas import OffsetQuery, Page

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(prefix="/api/v1/dmarc", tags=["dmarc"])


def _report_limit(settings: Settings) -> int:
    return settings.section(DmarcSettings).max_input_bytes


# A setting: read from the app's settings when the app is built, never at import.
BODY_LIMITS = {"/api/v1/dmarc/reports": _report_limit}
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Database id.")]


def _settings(ctx: ContextDep) -> DmarcSettings:
    return ctx.settings.section(DmarcSettings)


DmarcDep = Annotated[DmarcSettings, Depends(_settings)]


@router.post(
    "/reports",
    response_model=ImportResult,
    status_code=201,
    summary="Import one aggregate report (XML, .xml.gz, .zip or the whole e-mail)",
    responses={200: {"description": "Already imported: nothing changed"}, 422: {"description": "Refused"}},
)
async def post_report(
    request: Request,
    ctx: ContextDep,
    dmarc: DmarcDep,
    _op: OperatorDep,
    filename: Annotated[
        str | None, Query(max_length=255, description="A name for messages and the dead-letter list.")
    ] = None,
) -> Response:
    """Send the file as the raw request body (`curl --data-binary @report.xml.gz`). The kind is read
    from the bytes, not the name. The same report twice is stored once (`duplicate`, HTTP 200); a file
    that is not a readable report, declares a DTD, or decompresses past the limits is refused (HTTP 422)
    and kept in `GET /api/v1/dmarc/dead-letters`."""
    body = await request.body()
    name = (filename or "upload").strip() or "upload"

    def run() -> service.FileOutcome:
        with ctx.session_factory() as session:
            outcome = service.import_file(
                session, name=name, data=body, source="api", limits=dmarc.limits, now=utcnow()
            )
            session.commit()
            return outcome

    outcome = await anyio.to_thread.run_sync(run)
    status = {"imported": 201, "duplicate": 200, "error": 422}[outcome.status.value]
    answer = {**outcome.as_dict(), "reports": outcome.reports}
    if status == 422:
        answer["detail"] = answer["error"]  # the error model every 4xx shares (openapi.py)
    return JSONResponse(answer, status_code=status)


def _default_range(since: date | None, until: date | None) -> tuple[date, date]:
    today = utcnow().date()
    until = until or today
    since = since or until - timedelta(days=6)
    return since, until


@router.get("/sources", summary="Who sends as which domain, per day and reporter")
def get_sources(  # noqa: PLR0917 - FastAPI injects each query parameter
    session: SessionDep,
    since: Annotated[
        date | None, Query(description="First day (UTC), default: 6 days before `until`.")
    ] = None,
    until: Annotated[date | None, Query(description="Last day (UTC), default: today.")] = None,
    header_from: Annotated[
        str | None, Query(max_length=253, description="Only this header-from domain.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: OffsetQuery = 0,
) -> SourcePage:
    """One item per day, source IP, header-from domain and reporter, busiest first, with the DMARC
    alignment counts and the source's classification: `ours` (an IP of the inventory), `forwarder`
    (a known provider or forwarder by forward-confirmed reverse DNS) or `unknown`."""
    since, until = _default_range(since, until)
    cleaned = header_from.strip().lower().rstrip(".") if header_from else None
    total, items = service.source_rows(
        session, since=since, until=until, header_from=cleaned, limit=limit, offset=offset
    )
    return SourcePage.model_validate(
        {"since": since, "until": until, "total": total, "limit": limit, "offset": offset, "items": items}
    )


@router.get("/reports", summary="Stored reports, newest first")
def get_reports(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
) -> Page[ReportPublic]:
    total, rows = service.list_reports(session, limit=limit, offset=offset)
    items = [ReportPublic.model_validate(row, from_attributes=True) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _dead_public(row: DmarcDeadLetter) -> DeadLetterPublic:
    return DeadLetterPublic(
        id=row.id,
        filename=row.filename,
        source=row.source,
        reason=row.reason,
        size=row.size,
        kept=row.raw is not None,
        created_at=row.created_at,
    )


@router.get("/dead-letters", summary="Refused inputs and why")
def get_dead_letters(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
) -> Page[DeadLetterPublic]:
    total, rows = service.dead_letters(session, limit=limit, offset=offset)
    return Page(items=[_dead_public(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/dead-letters/{letter_id}/raw",
    summary="The refused input as it was received",
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes received."}},
)
def get_dead_letter_raw(letter_id: RowId, session: SessionDep) -> Response:
    row = session.get(DmarcDeadLetter, letter_id)
    if row is None:
        raise NotFound(f"There is no refused DMARC input {letter_id}.")
    if row.raw is None:
        raise InvalidInput(f"Refused input {letter_id} was larger than 1 MiB and was not kept.")
    return Response(row.raw, media_type="application/octet-stream")
