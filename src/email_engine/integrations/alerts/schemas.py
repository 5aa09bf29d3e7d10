"""Request and response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from email_engine.platform.schemas import StrictModel

__all__ = ["AlertPublic", "TestAlert", "TestQueued"]


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


class TestQueued(BaseModel):
    queued: bool
    idempotency_key: str = Field(description="The outbox key of the queued message.")
