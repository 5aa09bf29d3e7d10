"""``GET /api/v1/outbox`` (counts and dead events), ``POST /api/v1/outbox/{id}/retry`` and
``POST /api/v1/outbox/retry`` (operator)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.deps import SessionDep
from email_engine.outbox import service
from email_engine.outbox.destinations import named_destination
from email_engine.outbox.schemas import OutboxEventPublic, OutboxOverview, RequeueResult

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])


@router.get("", summary="Outbox counts by kind and status, recent dead events")
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


@router.post("/retry", summary="Queue every dead (or waiting) event again (operator)")
def retry_events(
    session: SessionDep,
    _operator: OperatorDep,
    destination: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[a-z0-9_.-]+$",
            description="A destination (scraper-pro, alerts) or an event kind; every one when omitted.",
        ),
    ] = None,
    state: Annotated[
        Literal["dead", "pending"],
        Query(description="dead: revive dead events; pending: send the ones waiting for their backoff now."),
    ] = "dead",
) -> RequeueResult:
    """Dead events get a fresh set of attempts and go out oldest first with their own idempotency keys
    at the next outbox run (within seconds)."""
    kinds = named_destination(destination).kinds if destination else None
    count = service.requeue(session, kinds=kinds, state=state, now=utcnow())
    session.commit()
    return RequeueResult(requeued=count, destination=destination, state=state)


@router.post(
    "/{event_id}/retry",
    summary="Queue a dead or failing event for an immediate new attempt (operator)",
)
def retry_event(
    event_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: SessionDep, _operator: OperatorDep
) -> OutboxEventPublic:
    event = service.retry_event(session, event_id=event_id, now=utcnow())
    session.commit()
    return OutboxEventPublic.model_validate(event)
