"""Gauges for ``/metrics``: what the last retention run purged (from its recorded job run)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.feedback.jobs import RETENTION_JOB
from email_engine.ops.models import JobRun

__all__ = ["GAUGES", "retention"]

_KINDS = ("records", "dead_letters", "stat_buckets", "outcomes", "routes", "domains")
_PARTITIONS = ("record_partitions", "dead_letter_partitions")


def retention(session: Session, *, now: datetime) -> Iterator[GaugeMetricFamily]:
    purged = GaugeMetricFamily(
        "email_engine_retention_last_purged_rows",
        f"Rows removed by the last successful {RETENTION_JOB} run, by kind.",
        labels=["kind"],
    )
    partitions = GaugeMetricFamily(
        "email_engine_retention_last_dropped_partitions",
        f"Day partitions dropped by the last successful {RETENTION_JOB} run (PostgreSQL), by table.",
        labels=["table"],
    )
    last = session.scalar(
        select(JobRun)
        .where(JobRun.job == RETENTION_JOB, JobRun.status == "ok")
        .order_by(JobRun.started_at.desc())
        .limit(1)
    )
    result = last.result if last is not None and isinstance(last.result, dict) else {}
    if result:
        for kind in _KINDS:
            purged.add_metric([kind], float(result.get(kind, 0)))
        for name in _PARTITIONS:
            partitions.add_metric([name.removesuffix("_partitions")], float(result.get(name, 0)))
    yield purged
    yield partitions


GAUGES = [retention]
