from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class OutboxEventPublic(BaseModel):
    """An event without its payload (payloads may hold recipient addresses)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    idempotency_key: str
    status: str
    dead_cause: str | None = None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class OutboxOverview(BaseModel):
    counts: dict[str, dict[str, int]]
    backlog: dict[str, int]
    oldest_undelivered_at: datetime | None
    dead: list[OutboxEventPublic]


class RequeueResult(BaseModel):
    requeued: int
    destination: str | None
    state: str
