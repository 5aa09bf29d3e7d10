"""Request and response bodies of the warmup API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from email_engine.ips.lifecycle import IpState
from email_engine.platform.schemas import StrictModel, Trimmed
from email_engine.warmup.plan import PlanStatus
from email_engine.warmup.schedule import MAX_SCHEDULE_DAYS


class GatesIn(StrictModel):
    """Overrides of the default gates for one plan (anything left out keeps the default)."""

    max_hard_bounce_rate: float | None = Field(default=None, gt=0, lt=1)
    max_complaint_rate: float | None = Field(default=None, gt=0, lt=1)
    max_block_rate: float | None = Field(default=None, gt=0, lt=1)
    max_deferral_rate: float | None = Field(default=None, gt=0, lt=1)
    min_hard_bounces: int | None = Field(default=None, ge=1, le=10_000)
    min_complaints: int | None = Field(default=None, ge=1, le=10_000)
    min_blocks: int | None = Field(default=None, ge=1, le=10_000)
    min_deferrals: int | None = Field(default=None, ge=1, le=10_000)
    min_sent_fraction: float | None = Field(default=None, ge=0, le=1)
    fail_on_new_listing: bool | None = None
    failures_before_action: int | None = Field(default=None, ge=1, le=30)
    on_repeated_failure: Trimmed | None = Field(default=None, pattern=r"^(pause|step_back)$")
    step_back_days: int | None = Field(default=None, ge=1, le=MAX_SCHEDULE_DAYS)
    resume_step_back_days: int | None = Field(default=None, ge=0, le=MAX_SCHEDULE_DAYS)


class PlanCreate(StrictModel):
    ip_id: StrictInt = Field(ge=1, le=2**62)
    preset: Trimmed | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")
    schedule: list[StrictInt] | None = Field(
        default=None, max_length=MAX_SCHEDULE_DAYS, description="Daily volumes, day 1 first."
    )
    gates: GatesIn | None = None
    provider_shares: dict[Trimmed, float] | None = Field(default=None, max_length=20)
    active_hours: int | None = Field(default=None, ge=1, le=24)
    start: bool = Field(default=False, description="Start the plan at once (push day 1's limits).")

    @model_validator(mode="after")
    def _one_curve(self) -> PlanCreate:
        if (self.preset is None) == (self.schedule is None):
            raise ValueError('Give exactly one of "preset" (a preset name) or "schedule" (daily volumes).')
        return self


class PlanAction(StrictModel):
    reason: Trimmed | None = Field(default=None, max_length=500)


class Preset(BaseModel):
    name: str
    description: str
    days: int
    curve: list[int]
    active_hours: int
    provider_shares: dict[str, float]


class PlanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ip_id: int
    preset: str | None
    status: PlanStatus
    day_index: int | None
    consecutive_failures: int
    last_day: date | None
    status_reason: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class LimitPublic(BaseModel):
    """Today's limits of one IP (what PowerMTA and MailWizz get); 0 means send nothing."""

    daily: int
    hourly: int
    providers: dict[str, int] = Field(
        description="Per-provider daily caps (gmail, microsoft, yahoo, other…)."
    )


class DayOut(BaseModel):
    day: date
    day_number: int | None
    daily_limit: int
    hourly_limit: int
    provider_limits: dict[str, int]
    decision: str
    reasons: list[str]
    gates: list[dict[str, Any]]
    results: dict[str, Any] | None


class PlanDetail(BaseModel):
    id: int
    ip_id: int
    ip_address: str
    ip_state: IpState
    preset: str | None
    status: PlanStatus
    status_reason: str | None
    curve: list[int]
    days_in_curve: int
    day_number: int | None = Field(description="1-based position on the curve; None before the start.")
    today_limit: dict[str, int] | None
    consecutive_failures: int
    gates: dict[str, Any]
    provider_shares: dict[str, float]
    active_hours: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    paused_at: datetime | None
    ended_at: datetime | None
    days: list[DayOut]
    push: dict[str, Any] | None = None


class FailoverEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ip_id: int
    standby_ip_id: int | None
    day: date
    action: str
    reasons: list[str]
    at: datetime


class HoldResolve(StrictModel):
    note: Trimmed = Field(
        min_length=1, max_length=1000, description="What was fixed (the list cleaned, the content changed)."
    )


class TrafficHoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ip_id: int
    pool_id: int | None
    cause: str = Field(description="list or content: what is blamed for the listing or the blocks.")
    trigger: str = Field(description="listing or blocks.")
    reasons: list[str]
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
