"""Scheduler and health settings (``SCHEDULER_*``, ``JOB_*``, ``HEALTH_*``, ``PMTA_STATUS_*``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from email_engine.config import SETTINGS_CONFIG

__all__ = ["HealthSettings", "SchedulerSettings"]

CommaList = Annotated[list[str], NoDecode]


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\s]+", value) if part.strip()]
    return value


class SchedulerSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    enabled: bool | None = Field(
        default=None,
        validation_alias="SCHEDULER_ENABLED",
        description="Run periodic jobs in this process (competing for the leader lease). "
        "Unset means on, except with ENVIRONMENT=test.",
    )
    lease_backend: Literal["auto", "database", "redis"] = Field(
        default="auto", validation_alias="SCHEDULER_LEASE_BACKEND"
    )
    lease_seconds: float = Field(default=30.0, ge=1, le=600, validation_alias="SCHEDULER_LEASE_SECONDS")
    renew_seconds: float = Field(default=10.0, gt=0, le=200, validation_alias="SCHEDULER_RENEW_SECONDS")
    misfire_grace_seconds: int = Field(default=120, ge=1, validation_alias="SCHEDULER_MISFIRE_GRACE_SECONDS")
    job_intervals: CommaList = Field(default_factory=list, validation_alias="SCHEDULER_JOB_INTERVALS")
    disabled_jobs: CommaList = Field(default_factory=list, validation_alias="SCHEDULER_DISABLED_JOBS")
    job_modules: CommaList = Field(default_factory=list, validation_alias="SCHEDULER_JOB_MODULES")
    only_jobs: CommaList = Field(default_factory=list, validation_alias="SCHEDULER_ONLY_JOBS")
    run_retention_days: int = Field(default=14, ge=1, le=3650, validation_alias="JOB_RUN_RETENTION_DAYS")

    _split_lists = field_validator(
        "job_intervals", "disabled_jobs", "job_modules", "only_jobs", mode="before"
    )(_split)

    @field_validator("job_intervals")
    @classmethod
    def _check_intervals(cls, value: list[str]) -> list[str]:
        for entry in value:
            name, _, seconds = entry.partition("=")
            if not name or not seconds.isdigit() or int(seconds) < 1:
                raise ValueError(
                    f"SCHEDULER_JOB_INTERVALS entry {entry!r} must look like name=seconds (e.g. blacklists=14400)"
                )
        return value

    @model_validator(mode="after")
    def _renew_before_expiry(self) -> SchedulerSettings:
        if self.renew_seconds * 2 > self.lease_seconds:
            raise ValueError(
                "SCHEDULER_RENEW_SECONDS must be at most half of SCHEDULER_LEASE_SECONDS, "
                "or a slow renewal loses the lease"
            )
        return self

    def is_disabled(self, name: str) -> bool:
        """Disabled by SCHEDULER_DISABLED_JOBS, or left out of a non-empty SCHEDULER_ONLY_JOBS."""
        return name in self.disabled_jobs or bool(self.only_jobs and name not in self.only_jobs)

    def interval_overrides(self) -> dict[str, int]:
        pairs = (entry.partition("=") for entry in self.job_intervals)
        return {name: int(seconds) for name, _, seconds in pairs}

    def is_enabled(self, environment: str) -> bool:
        return self.enabled if self.enabled is not None else environment != "test"


class HealthSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    pmta_status_url: str | None = Field(
        default=None,
        validation_alias="PMTA_STATUS_URL",
        description="PowerMTA http-mgmt status page, e.g. http://127.0.0.1:8080/status?format=json",
    )
    pmta_status_command: str | None = Field(
        default=None, validation_alias="PMTA_STATUS_COMMAND", description="e.g. 'pmta show status'"
    )
    check_timeout_seconds: float = Field(default=5.0, gt=0, le=30, validation_alias="HEALTH_CHECK_TIMEOUT")
    data_dir: str | None = Field(default=None, validation_alias="DATA_DIR")
    disk_warn_percent: float = Field(default=10.0, gt=0, lt=100, validation_alias="HEALTH_DISK_WARN_PERCENT")
    disk_fail_percent: float = Field(default=3.0, gt=0, lt=100, validation_alias="HEALTH_DISK_FAIL_PERCENT")
    job_stale_factor: float = Field(default=3.0, ge=1.5, validation_alias="HEALTH_JOB_STALE_FACTOR")
