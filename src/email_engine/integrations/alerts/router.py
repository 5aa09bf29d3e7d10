"""``GET /api/v1/alerts`` (firing conditions) and ``POST /api/v1/alerts/test`` (operator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.deps import SessionDep
from email_engine.integrations.alerts.schemas import AlertPublic, TestAlert, TestQueued
from email_engine.integrations.alerts.service import active_alerts, enqueue_test_message

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("", summary="Alert conditions that are firing now")
def list_active(session: SessionDep) -> list[AlertPublic]:
    return [AlertPublic.model_validate(state) for state in active_alerts(session)]


@router.post(
    "/test",
    status_code=202,
    summary="Queue a test message to every alert destination (operator); the outbox job sends it",
)
def send_test(
    session: SessionDep, _operator: OperatorDep, body: Annotated[TestAlert | None, Body()] = None
) -> TestQueued:
    key = enqueue_test_message(session, now=utcnow(), note=body.message if body else "")
    session.commit()
    return TestQueued(queued=True, idempotency_key=key)
