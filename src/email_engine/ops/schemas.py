"""Response bodies of ``/health`` and ``/api/v1/jobs`` (times are ISO 8601 with their offset)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthReport", "JobRunPublic", "JobsReport", "RunOutcomePublic"]


class _Shape(BaseModel):
    """Built from the job records' values: a key the model does not name is an error, not dropped."""

    model_config = ConfigDict(extra="forbid")


class LeaderPublic(_Shape):
    holder: str = Field(description="host:pid:random of the leading process.")
    backend: str
    acquired_at: str | None
    renewed_at: str | None
    expires_at: str | None
    live: bool


class WorkerPublic(_Shape):
    scheduler_enabled: bool
    is_leader: bool


class JobRunPublic(_Shape):
    id: int
    trigger: str = Field(description="schedule, manual or as_of.")
    status: str = Field(description="running, ok, error or skipped.")
    started_at: str
    finished_at: str | None
    duration_seconds: float | None
    result: dict[str, Any] | None
    error: str | None
    worker: str


class JobPublic(_Shape):
    name: str
    description: str
    interval_seconds: int
    enabled: bool
    last_run: JobRunPublic | None
    last_success_at: str | None
    next_run_at: str | None = Field(description="None when the job is disabled.")


class JobsReport(_Shape):
    leader: LeaderPublic | None
    this_worker: WorkerPublic
    jobs: list[JobPublic]


class RunOutcomePublic(_Shape):
    run_id: int | None
    job: str
    status: str
    started_at: str
    finished_at: str | None
    duration_seconds: float | None
    result: dict[str, Any] | None
    error: str | None


class CheckPublic(_Shape):
    status: str = Field(description="ok, warn, fail or not_configured.")
    detail: str
    data: dict[str, Any] | None = Field(
        default=None, description="Figures behind the status; left out when none."
    )


class HealthReport(_Shape):
    status: str = Field(description="healthy, degraded or unhealthy (a critical check failed: HTTP 503).")
    issues: list[str] = Field(description='"<check>: <detail>" for every check that warns or fails.')
    checks: dict[str, CheckPublic]
