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

from email_engine.auth import service as auth_service
from email_engine.auth.roles import Role, role_allows
from email_engine.auth.service import Principal
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import InvalidInput, PermissionDenied, Unauthenticated
from email_engine.feedback import dsn_router, exports, listings, stats, suppression
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch, stored_outcome
from email_engine.feedback.models import Suppression
from email_engine.feedback.records import DeadLetterItem, IngestRecord
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
from email_engine.feedback.webhook import batch_items, single_item
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
_INGEST_CHUNK = 5000

public_router = APIRouter(prefix="/api/v1/webhooks", tags=["feedback"])
router = APIRouter(prefix="/api/v1", tags=["feedback"])


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def ingest_caller(  # noqa: PLR0917 - FastAPI injects each header as a parameter
    request: Request,
    ctx: ContextDep,
    body: RawBody,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
    x_timestamp: Annotated[str | None, Header()] = None,
    x_signature: Annotated[str | None, Header()] = None,
) -> str:
    """An API key (or token) allowed to ingest, or a valid HMAC signature; returns who it was."""
    if x_signature is not None or x_timestamp is not None:
        secret = ctx.settings.section(FeedbackSettings).ingest_hmac_secret
        if secret is None or not secret.get_secret_value():
            raise Unauthenticated(
                "Signed requests are not enabled here (INGEST_HMAC_SECRET is not set); use an API key."
            )
        try:
            verify_signature(
                secret.get_secret_value(),
                timestamp=x_timestamp,
                signature=x_signature,
                body=body,
                now=time.time(),
                tolerance=ctx.settings.section(FeedbackSettings).ingest_hmac_tolerance_seconds,
            )
        except SignatureProblem as exc:
            raise Unauthenticated(str(exc)) from exc
        request.state.principal = None
        return "hmac"
    principal = _principal(ctx, x_api_key, authorization)
    if not role_allows(principal.role, Role.INGEST):
        raise PermissionDenied(
            f"Posting accounting records needs the ingest role; you have {principal.role.value}."
        )
    request.state.principal = principal
    return f"{principal.kind}:{principal.name}"


def _principal(ctx: Any, api_key: str | None, authorization: str | None) -> Principal:
    with ctx.session_factory() as session:
        now = utcnow()
        if api_key:
            principal = auth_service.authenticate_api_key(session, ctx.settings, key=api_key, now=now)
        elif authorization and authorization.lower().startswith("bearer "):
            principal = auth_service.authenticate_bearer(
                session, ctx.settings, token=authorization[7:].strip(), now=now
            )
        else:
            raise Unauthenticated(
                "Send an X-API-Key header with an ingest key, or sign the body (X-Timestamp, X-Signature)."
            )
        session.commit()
    return principal


IngestCaller = Annotated[str, Depends(ingest_caller)]


def _forward(ctx: Any) -> ForwardPolicy:
    settings = ctx.settings
    return ForwardPolicy(
        bounces=bool(settings.scraper_pro_bounce_url),
        deliveries=bool(settings.scraper_pro_delivery_url),
        diag_max_chars=ctx.settings.section(FeedbackSettings).diag_max_chars,
        replay_horizon_days=ctx.settings.section(FeedbackSettings).replay_horizon_days,
    )


def _ingest_single(session: Session, ctx: Any, body: bytes, *, default_type: str) -> dict[str, Any]:
    now = utcnow()
    record = single_item(body, default_type=default_type, now=now, stream="webhook")
    result = ingest_batch(session, [record], source="webhook", now=now, forward=_forward(ctx))
    session.commit()
    stored = stored_outcome(session, record)
    return {
        "accepted": result.accepted == 1,
        "duplicate": result.accepted == 0 and result.past_horizon == 0,
        "past_horizon": result.past_horizon == 1,
        "record_key": record.key,
        "type": record.type,
        "category": stored.category if stored else None,
        "bounce_type": stored.bounce_type if stored else None,
        "rule": stored.rule if stored else None,
    }


@public_router.post("/pmta-bounce", response_model=SingleAccepted, summary="Store one bounce record (JSON)")
def pmta_bounce(body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """One record with PowerMTA field names (``rcpt``, ``dsnStatus``, ``dsnDiag``, ``bounceCat``,
    ``dlvSourceIp``, ``vmta``, ``timeLogged``; ``type`` defaults to ``b``). The engine classifies it
    itself. Send ``timeLogged`` so that a retried request is recognised as the same record."""
    return _ingest_single(session, ctx, body, default_type="b")


@public_router.post(
    "/pmta-delivery", response_model=SingleAccepted, summary="Store one delivery record (JSON)"
)
def pmta_delivery(
    body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep
) -> dict[str, Any]:
    """Like ``pmta-bounce`` with ``type`` defaulting to ``d``."""
    return _ingest_single(session, ctx, body, default_type="d")


@public_router.post(
    "/pmta-batch", response_model=BatchAccepted, summary="Store accounting CSV (header line first)"
)
def pmta_batch(body: RawBody, caller: IngestCaller, session: SessionDep, ctx: ContextDep) -> dict[str, int]:
    """The body is PowerMTA accounting CSV, header line first (up to 16 MiB). Garbage lines are kept
    as dead letters with their line numbers; records already stored count as duplicates."""
    if not body.strip():
        raise InvalidInput("The body is empty; send accounting CSV with its header line.")
    now = utcnow()
    forward = _forward(ctx)
    totals = {"accepted": 0, "duplicates": 0, "dead_letters": 0, "past_horizon": 0}
    records: list[IngestRecord] = []
    letters: list[DeadLetterItem] = []

    def flush() -> None:
        result = ingest_batch(session, records, letters, source="webhook", now=now, forward=forward)
        totals["accepted"] += result.accepted
        totals["duplicates"] += result.duplicates
        totals["dead_letters"] += len(letters)
        totals["past_horizon"] += result.past_horizon
        records.clear()
        letters.clear()

    for item in batch_items(body, stream="webhook"):
        (records if isinstance(item, IngestRecord) else letters).append(item)  # type: ignore[arg-type]
        if len(records) + len(letters) >= _INGEST_CHUNK:
            flush()
    flush()
    session.commit()  # one transaction: the whole body is stored or nothing is
    log.info("accounting_batch_ingested", caller=caller.split(":")[0], **totals)
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


@router.get("/stats/summary", response_model=StatsSummary, summary="Totals between since and until (hourly)")
def stats_summary(
    session: SessionDep,
    since: Annotated[datetime | None, Query(description="ISO 8601 with zone; default until - 24 h")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 with zone; default now")] = None,
) -> dict[str, Any]:
    start, end = _window(since, until)
    return stats.summary(session, since=start, until=end)


def _dimension_endpoint(dimension: str) -> Any:
    def endpoint(
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: OffsetQuery = 0,
    ) -> dict[str, Any]:
        total, rows = stats.dimension_rows(
            session, dimension=dimension, now=utcnow(), limit=limit, offset=offset
        )
        return {"items": rows, "total": total, "limit": limit, "offset": offset}

    return endpoint


router.include_router(exports.router)
router.include_router(dsn_router.router)

for _path, _dimension in stats.PUBLIC_DIMENSIONS.items():
    router.add_api_route(
        f"/stats/{_path}",
        _dimension_endpoint(_dimension),
        methods=["GET"],
        response_model=Page[DimensionRow],
        summary=f"Per-{_dimension} counts and rates over 1 h, 24 h and 7 d",
    )


@router.get("/dead-letters", response_model=Page[DeadLetterPublic], summary="Lines that were not records")
def list_dead_letters(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
    source: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    total, rows = listings.list_dead_letters(session, limit=limit, offset=offset, source=source)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/suppressions", response_model=Page[SuppressionPublic], summary="The suppression list")
def list_suppressions(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
    q: Annotated[str | None, Query(max_length=320, description="Substring of the value")] = None,
    kind: Annotated[
        str | None,
        Query(pattern="^(address|domain|hash)$", description="hash: a forgotten address's pseudonym"),
    ] = None,
) -> dict[str, Any]:
    total, rows = suppression.list_suppressions(session, limit=limit, offset=offset, query=q, kind=kind)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/suppressions",
    response_model=SuppressionPublic,
    status_code=201,
    summary="Suppress an address or domain",
)
def add_suppression(body: SuppressionCreate, request: Request, session: SessionDep) -> Suppression:
    principal: Principal | None = getattr(request.state, "principal", None)
    source = f"api:{principal.name}" if principal is not None else "api"
    row = suppression.add_suppression(
        session, value=body.value, reason=body.reason, source=source, note=body.note, now=utcnow()
    )
    session.commit()
    return row


@router.delete("/suppressions/{value}", response_model=SuppressionPublic, summary="Remove an entry")
def remove_suppression(value: str, session: SessionDep) -> Suppression:
    row = suppression.remove_suppression(session, value=value)
    session.commit()
    return row


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
