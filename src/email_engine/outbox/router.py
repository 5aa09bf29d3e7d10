"""``GET /api/v1/outbox`` (counts and dead events) and ``POST /api/v1/outbox/{id}/retry`` (operator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from email_engine.clock import utcnow
from email_engine.deps import OperatorDep, SessionDep
from email_engine.outbox import service
from email_engine.outbox.schemas import OutboxEventPublic, OutboxOverview

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])


@router.get("", response_model=OutboxOverview, summary="Outbox counts by kind and status, recent dead events")
def outbox_overview(
    session: SessionDep,
    dead_limit: Annotated[int, Query(ge=0, le=500, description="How many dead events to list.")] = 50,
) -> OutboxOverview:
    return OutboxOverview(
        counts=service.status_counts(session),
        backlog=service.backlog(session),
        oldest_undelivered_at=service.oldest_undelivered(session),
        dead=[
            OutboxEventPublic.model_validate(event)
            for event in service.recent_dead(session, limit=dead_limit)
        ],
    )


@router.post(
    "/{event_id}/retry",
    response_model=OutboxEventPublic,
    summary="Queue a dead or failing event for an immediate new attempt (operator)",
)
def retry_event(
    event_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: SessionDep, _operator: OperatorDep
) -> OutboxEventPublic:
    event = service.retry_event(session, event_id=event_id, now=utcnow())
    session.commit()
    return OutboxEventPublic.model_validate(event)
