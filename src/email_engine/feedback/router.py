"""Feedback API: accounting webhooks (public_router, self-authenticating), stats, dead letters, suppressions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from email_engine.auth.deps import ApiKeyHeader, BearerHeader, identify, require_role
from email_engine.auth.roles import Role
from email_engine.auth.service import Principal
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import InvalidInput, Unauthenticated
from email_engine.feedback import dsn_router, exports, listings, service, stats, suppression
from email_engine.feedback.ingest import ForwardPolicy
from email_engine.feedback.schemas import (
    BatchAccepted,
    DeadLetterPublic,
    DimensionRow,
    SingleAccepted,
    StatsSummary,
    SuppressionCreate,
    SuppressionPublic,
)
from email_engine.feedback.settings import FeedbackSettings
from email_engine.platform.schemas import OffsetQuery, Page
from email_engine.platform.signing import SignatureProblem, verify_signature

__all__ = ["BODY_LIMITS", "public_router", "router"]

log = structlog.get_logger("email_engine.feedback")

BATCH_LIMIT_BYTES = 16 * 1024 * 1024
SINGLE_LIMIT_BYTES = 64 * 1024
BODY_LIMITS = {
    "/api/v1/webhooks/pmta-batch": BATCH_LIMIT_BYTES,
    "/api/v1/webhooks/pmta-": SINGLE_LIMIT_BYTES,
    **dsn_router.BODY_LIMITS,
}

public_router = APIRouter(prefix="/api/v1/webhooks", tags=["feedback"])
router = APIRouter(prefix="/api/v1", tags=["feedback"])


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def ingest_caller(  # noqa: PLR0917 - FastAPI injects each header as a parameter
    request: Request,
    ctx: ContextDep,
    body: RawBody,
    api_key: ApiKeyHeader,
    bearer: BearerHeader,
    x_timestamp: Annotated[str | None, Header()] = None,
    x_signature: Annotated[str | None, Header()] = None,
) -> str:
    """An API key (or token) allowed to ingest, or a valid HMAC signature; returns who it was."""
    if x_signature is not None or x_timestamp is not None:
        _verify_signed(ctx, body, timestamp=x_timestamp, signature=x_signature)
        request.state.principal = None
        return "hmac"
    principal = identify(ctx, api_key, bearer, missing=_NO_CREDENTIALS)
    request.state.principal = require_role(Role.INGEST)(principal)
    return f"{principal.kind}:{principal.name}"


_NO_CREDENTIALS = "Send an X-API-Key header with an ingest key, or sign the body (X-Timestamp, X-Signature)."


def _verify_signed(ctx: AppContext, body: bytes, *, timestamp: str | None, signature: str | None) -> None:
    settings = ctx.settings.section(FeedbackSettings)
    secret = settings.ingest_hmac_secret
    if secret is None or not secret.get_secret_value():
        raise Unauthenticated(
            "Signed requests are not enabled here (INGEST_HMAC_SECRET is not set); use an API key."
        )
    try:
        verify_signature(
            secret.get_secret_value(),
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=time.time(),
            tolerance=settings.ingest_hmac_tolerance_seconds,
        )
    except SignatureProblem as exc:
        raise Unauthenticated(str(exc)) from exc


IngestCaller = Annotated[str, Depends(ingest_caller)]


def _forward(ctx: AppContext) -> ForwardPolicy:
    settings = ctx.settings
    return ForwardPolicy(
        bounces=bool(settings.scraper_pro_bounce_url),
        deliveries=bool(settings.scraper_pro_delivery_url),
        diag_max_chars=ctx.settings.section(FeedbackSettings).diag_max_chars,
        replay_horizon_days=ctx.settings.section(FeedbackSettings).replay_horizon_days,
    )


def _ingest_single(session: Session, ctx: AppContext, body: bytes, *, default_type: str) -> SingleAccepted:
    accepted = service.ingest_single(
        session, body, default_type=default_type, forward=_forward(ctx), now=utcnow()
    )
    session.commit()
    return accepted


@public_router.post("/pmta-bounce", summary="Store one bounce record (JSON)")
def pmta_bounce(body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep) -> SingleAccepted:
    """One record with PowerMTA field names (``rcpt``, ``dsnStatus``, ``dsnDiag``, ``bounceCat``,
    ``dlvSourceIp``, ``vmta``, ``timeLogged``; ``type`` defaults to ``b``). The engine classifies it
    itself. Send ``timeLogged`` so that a retried request is recognised as the same record."""
    return _ingest_single(session, ctx, body, default_type="b")


@public_router.post("/pmta-delivery", summary="Store one delivery record (JSON)")
def pmta_delivery(
    body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep
) -> SingleAccepted:
    """Like ``pmta-bounce`` with ``type`` defaulting to ``d``."""
    return _ingest_single(session, ctx, body, default_type="d")


@public_router.post("/pmta-batch", summary="Store accounting CSV (header line first)")
def pmta_batch(body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep) -> BatchAccepted:
    """The body is PowerMTA accounting CSV, header line first (up to 16 MiB). Garbage lines are kept
    as dead letters with their line numbers; records already stored count as duplicates."""
    if not body.strip():
        raise InvalidInput("The body is empty; send accounting CSV with its header line.")
    totals = service.ingest_csv(session, body, forward=_forward(ctx), now=utcnow())
    session.commit()  # one transaction: the whole body is stored or nothing is
    log.info("accounting_batch_ingested", caller=caller.split(":")[0], **totals.model_dump())
    return totals


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    now = utcnow()
    until = until or now
    since = since or until - timedelta(hours=24)
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (for example 2026-11-24T10:00:00Z).")
    if since >= until:
        raise InvalidInput("since must be before until.")
    if until - since > timedelta(days=400):
        raise InvalidInput("The window is longer than 400 days; ask for a shorter one.")
    return since, until


@router.get("/stats/summary", summary="Totals between since and until (hourly)")
def stats_summary(
    session: SessionDep,
    since: Annotated[datetime | None, Query(description="ISO 8601 with zone; default until - 24 h")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 with zone; default now")] = None,
) -> StatsSummary:
    start, end = _window(since, until)
    return StatsSummary.model_validate(stats.summary(session, since=start, until=end))


def _dimension_endpoint(dimension: str) -> Any:
    def endpoint(
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: OffsetQuery = 0,
    ) -> Page[DimensionRow]:
        total, rows = stats.dimension_rows(
            session, dimension=dimension, now=utcnow(), limit=limit, offset=offset
        )
        items = [DimensionRow.model_validate(row) for row in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return endpoint


router.include_router(exports.router)
router.include_router(dsn_router.router)

for _path, _dimension in stats.PUBLIC_DIMENSIONS.items():
    router.add_api_route(
        f"/stats/{_path}",
        _dimension_endpoint(_dimension),
        methods=["GET"],
        summary=f"Per-{_dimension} counts and rates over 1 h, 24 h and 7 d",
    )


@router.get("/dead-letters", summary="Lines that were not records")
def list_dead_letters(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
    source: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[DeadLetterPublic]:
    total, rows = listings.list_dead_letters(session, limit=limit, offset=offset, source=source)
    items = [DeadLetterPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/suppressions", summary="The suppression list")
def list_suppressions(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
    q: Annotated[str | None, Query(max_length=320, description="Substring of the value")] = None,
    kind: Annotated[
        str | None,
        Query(pattern="^(address|domain|hash)$", description="hash: a forgotten address's pseudonym"),
    ] = None,
) -> Page[SuppressionPublic]:
    total, rows = suppression.list_suppressions(session, limit=limit, offset=offset, query=q, kind=kind)
    items = [SuppressionPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/suppressions", status_code=201, summary="Suppress an address or domain")
def add_suppression(body: SuppressionCreate, request: Request, session: SessionDep) -> SuppressionPublic:
    principal: Principal | None = getattr(request.state, "principal", None)
    source = f"api:{principal.name}" if principal is not None else "api"
    row = suppression.add_suppression(
        session, value=body.value, reason=body.reason, source=source, note=body.note, now=utcnow()
    )
    session.commit()
    return SuppressionPublic.model_validate(row)


@router.delete("/suppressions/{value}", summary="Remove an entry")
def remove_suppression(value: str, session: SessionDep) -> SuppressionPublic:
    row = suppression.remove_suppression(session, value=value)
    session.commit()
    return SuppressionPublic.model_validate(row)


@router.get(
    "/suppressions.csv", summary="Export the suppression list as CSV", response_class=StreamingResponse
)
def export_suppressions(ctx: ContextDep) -> StreamingResponse:
    def chunks() -> Iterator[str]:
        with ctx.session_factory() as session:
            yield from suppression.export_csv(session)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="suppressions.csv"'},
    )
