"""Request and response shapes of the feedback API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BatchAccepted",
    "DeadLetterPublic",
    "DimensionRow",
    "SingleAccepted",
    "StatsSummary",
    "SuppressionCreate",
    "SuppressionPublic",
]


class BatchAccepted(BaseModel):
    accepted: int = Field(description="Records stored by this request")
    duplicates: int = Field(
        description="Records already stored earlier (or twice in this body): counted once"
    )
    dead_letters: int = Field(description="Lines that are not records, stored with their line numbers")
    past_horizon: int = Field(
        default=0,
        description="Records logged before the replay horizon (ACCOUNTING_REPLAY_HORIZON_DAYS): "
        "not counted, kept as dead letters that say so",
    )


class SingleAccepted(BaseModel):
    accepted: bool
    duplicate: bool
    past_horizon: bool = Field(
        default=False,
        description="Logged before the replay horizon (ACCOUNTING_REPLAY_HORIZON_DAYS): not counted, "
        "kept as a dead letter",
    )
    record_key: str
    type: str
    category: str | None = None
    bounce_type: str | None = None
    rule: str | None = None


class StatsSummary(BaseModel):
    since: str
    until: str
    sent: int
    delivered: int
    bounced: int
    complaints: int
    deferred: int
    by_category: dict[str, int]
    by_type: dict[str, int]
    bounce_rate: float | None
    hard_bounce_rate: float | None
    block_rate: float | None
    complaint_rate: float | None


class DimensionRow(BaseModel):
    key: str
    windows: dict[str, dict[str, Any]] = Field(
        description="Per window (1h, 24h, 7d): counts and bounce_rate, hard_bounce_rate, block_rate, complaint_rate"
    )


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    line_number: int
    reason: str
    raw: str
    source: str
    created_at: datetime


class SuppressionCreate(BaseModel):
    value: str = Field(
        min_length=3, max_length=320, description="An address (local@domain) or a whole domain"
    )
    reason: Literal["hard_bounce", "complaint", "unsubscribe", "manual", "domain_hard_bounce_rate"] = "manual"
    note: str | None = Field(default=None, max_length=500)


class SuppressionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    value: str
    kind: str
    reason: str
    source: str
    note: str | None
    first_seen_at: datetime
    last_seen_at: datetime
