"""Test jobs for the scheduler, loaded with SCHEDULER_JOB_MODULES=tests.support.scheduler_jobs.

``tick`` runs every TEST_TICK_SECONDS (default 2) and reports the process that ran it; ``slow``
sleeps TEST_SLOW_SECONDS; ``broken`` always raises.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from email_engine.context import AppContext
from email_engine.platform.jobspec import JobSpec


def tick(_ctx: AppContext, now: datetime) -> dict[str, Any]:
    return {"pid": os.getpid(), "now": now.isoformat()}


def slow(_ctx: AppContext, _now: datetime) -> dict[str, Any]:
    seconds = float(os.environ.get("TEST_SLOW_SECONDS", "1"))
    time.sleep(seconds)
    return {"slept": seconds}


def broken(_ctx: AppContext, _now: datetime) -> dict[str, Any]:
    raise RuntimeError("the test job failed on purpose")


JOBS = [
    JobSpec("tick", tick, int(os.environ.get("TEST_TICK_SECONDS", "2")), "Test job: reports its pid."),
    JobSpec("slow", slow, 3600, "Test job: sleeps."),
    JobSpec("broken", broken, 3600, "Test job: always fails."),
]
