"""The ops domain's own gauges: disk space of the data paths and when each job last succeeded.

Every worker reads them from the shared database or the filesystem, so any worker scraped gives the same
answer. Names are the contract of ``monitoring/`` (alert rules, dashboard).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.platform.models import JobRun, JobStatus
from email_engine.plugins import domain_modules

__all__ = ["GAUGES", "disk", "job_successes"]


def _data_paths(ctx: AppContext) -> list[Path]:
    """The working directory, the SQLite file's directory and what domains name in ``DISK_PATHS``."""
    paths = [Path.cwd()]
    paths += [path(ctx) for module in domain_modules("gauges") for path in getattr(module, "DISK_PATHS", ())]
    if ctx.settings.is_sqlite:
        paths.append(Path(ctx.settings.database_url.removeprefix("sqlite:///")).resolve().parent)
    return sorted(set(paths))


def disk(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del session, now
    family = GaugeMetricFamily(
        "email_engine_disk_free_ratio", "Free share of the filesystem holding each path.", labels=["path"]
    )
    for path in _data_paths(ctx):
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            continue
        usage = shutil.disk_usage(existing)
        family.add_metric([str(path)], usage.free / usage.total if usage.total else 0.0)
    yield family


def job_successes(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    success = GaugeMetricFamily(
        "email_engine_job_last_success_timestamp_seconds",
        "When each job last finished successfully.",
        labels=["job"],
    )
    for job, finished in session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.status == JobStatus.OK)
        .group_by(JobRun.job)
    ):
        if finished is not None:
            success.add_metric([job], finished.timestamp())
    yield success


GAUGES = [disk, job_successes]
