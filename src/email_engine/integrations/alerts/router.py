"""``GET /api/v1/alerts`` (firing conditions) and ``POST /api/v1/alerts/test`` (operator)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.deps import SessionDep
from email_engine.integrations.alerts.service import active_alerts, enqueue_test_message
from email_engine.platform.schemas import StrictModel

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    severity: str
    status: str
    title: str
    text: str
    first_raised_at: datetime
    last_seen_at: datetime
    last_notified_at: datetime
    notifications: int


class TestAlert(StrictModel):
    message: str = Field(default="", max_length=1000)


@router.get("", response_model=list[AlertPublic], summary="Alert conditions that are firing now")
def list_active(session: SessionDep) -> list[AlertPublic]:
    return [AlertPublic.model_validate(state) for state in active_alerts(session)]


@router.post(
    "/test",
    status_code=202,
    summary="Queue a test message to every alert destination (operator); the outbox job sends it",
)
def send_test(
    session: SessionDep, _operator: OperatorDep, body: Annotated[TestAlert | None, Body()] = None
) -> dict[str, Any]:
    key = enqueue_test_message(session, now=utcnow(), note=body.message if body else "")
    session.commit()
    return {"queued": True, "idempotency_key": key}
