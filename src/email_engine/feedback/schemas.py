"""Request and response shapes of the feedback API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "BatchAccepted",
    "DeadLetterPublic",
    "DimensionRow",
    "DsnRecord",
    "ParsedDsn",
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


class DsnRecord(BaseModel):
    """One recipient of a bounce or complaint message, with PowerMTA's column names (``timeLogged``…);
    ``category``, ``bounceType`` and ``rule`` (the classifier's verdict) only on remote bounces."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    type: str
    time_logged: str | None = Field(description="ISO 8601 with its offset.")
    time_queued: str | None
    orig: str
    rcpt: str
    orcpt: str
    dsn_action: str
    dsn_status: str
    dsn_diag: str
    dsn_mta: str
    bounce_cat: str
    src_type: str
    src_mta: str
    dlv_type: str
    dlv_source_ip: str
    dlv_destination_ip: str
    dlv_size: int | None
    vmta: str
    vmta_pool: str
    job_id: str
    env_id: str
    queue: str
    feedback_type: str
    dsn_status_text: str
    dsn_diag_raw: str
    headers: dict[str, str]
    extra: dict[str, str]
    line_number: int
    key: str = Field(description="The record's idempotency key.")
    category: str | None = None
    bounce_type: str | None = None
    rule: str | None = None


class ParsedDsn(BaseModel):
    records: list[DsnRecord]
