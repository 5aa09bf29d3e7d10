"""Health gauges for ``/metrics``: each check's result at the last run of the ``health`` job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.integrations.alerts.jobs import HEALTH_JOB
from email_engine.ops.job_status import last_result

__all__ = ["GAUGES", "health_checks"]


def health_checks(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
    health = GaugeMetricFamily(
        "email_engine_health_check_ok",
        "1 unless the check failed at the last run of the health job (warn and not-configured count as 1).",
        labels=["check"],
    )
    for name, status in sorted(last_result(session, HEALTH_JOB).get("checks", {}).items()):
        health.add_metric([name], 0 if status == "fail" else 1)
    yield health


GAUGES = [health_checks]
