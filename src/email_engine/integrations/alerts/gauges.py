"""Health gauges for ``/metrics``: each check's result at the last run of the ``health`` job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.integrations.alerts.jobs import HEALTH_JOB
from email_engine.ops.models import JobRun

__all__ = ["GAUGES", "health_checks"]


def health_checks(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    health = GaugeMetricFamily(
        "email_engine_health_check_ok",
        "1 unless the check failed at the last run of the health job (warn and not-configured count as 1).",
        labels=["check"],
    )
    last = session.scalar(
        select(JobRun)
        .where(JobRun.job == HEALTH_JOB, JobRun.status == "ok")
        .order_by(JobRun.started_at.desc())
        .limit(1)
    )
    if last is not None and last.result:
        for name, status in sorted(last.result.get("checks", {}).items()):
            health.add_metric([name], 0 if status == "fail" else 1)
    yield health


GAUGES = [health_checks]
