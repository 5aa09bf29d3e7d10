from __future__ import annotations

from typing import Any

from email_engine.config import Settings
from email_engine.ops.settings import SchedulerSettings

TEST_JOBS = "tests.support.scheduler_jobs"


def scheduler_settings(**values: Any) -> SchedulerSettings:
    defaults: dict[str, Any] = {
        "SCHEDULER_JOB_MODULES": TEST_JOBS,
        "SCHEDULER_ONLY_JOBS": "tick,slow,broken",
        "SCHEDULER_LEASE_SECONDS": 3,
        "SCHEDULER_RENEW_SECONDS": 0.5,
    }
    defaults.update(values)
    return SchedulerSettings(_env_file=None, **defaults)  # type: ignore[call-arg]


def with_scheduler(**values: Any) -> Settings:
    """Core settings whose scheduler section is :func:`scheduler_settings`."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings.install(scheduler_settings(**values))
    return settings
