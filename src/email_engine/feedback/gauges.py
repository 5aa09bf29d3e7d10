"""Gauges for ``/metrics``: accounting outcomes and rates per IP and provider, the pipe's spool, and
what the last retention run purged (from its recorded job run)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.feedback.jobs import RETENTION_JOB
from email_engine.feedback.settings import FeedbackSettings
from email_engine.feedback.spool import backlog
from email_engine.feedback.stats import dimension_rows
from email_engine.ops.job_status import last_result

__all__ = ["DISK_PATHS", "GAUGES", "retention", "spool", "traffic"]

log = structlog.get_logger("email_engine.gauges")

RATE_DIMENSIONS = {"ip": "ip", "provider": "provider"}
RATE_WINDOWS = ("1h", "24h")
KEYS_PER_DIMENSION = 200  # bounded label cardinality
OUTCOMES = {
    "sent": "sent",
    "delivered": "delivered",
    "hard": "hard",
    "soft": "soft",
    "block": "block",
    "complaint": "complaints",
    "deferred": "deferred",
}
_KINDS = ("records", "dead_letters", "stat_buckets", "outcomes", "routes", "domains")
_PARTITIONS = ("record_partitions", "dead_letter_partitions")


def traffic(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx
    messages = GaugeMetricFamily(
        "email_engine_messages",
        "Accounting outcomes over a trailing window, per IP or mailbox provider.",
        labels=["dimension", "key", "window", "outcome"],
    )
    rate_families = {
        "hard_bounce_rate": GaugeMetricFamily(
            "email_engine_bounce_rate",
            "Hard bounces / sent over a trailing window.",
            labels=["dimension", "key", "window"],
        ),
        "complaint_rate": GaugeMetricFamily(
            "email_engine_complaint_rate",
            "Complaints / delivered over a trailing window.",
            labels=["dimension", "key", "window"],
        ),
        "block_rate": GaugeMetricFamily(
            "email_engine_block_rate",
            "Blocks (our IP/content refused) / sent over a trailing window.",
            labels=["dimension", "key", "window"],
        ),
    }
    for label, dimension in RATE_DIMENSIONS.items():
        _total, rows = dimension_rows(session, dimension=dimension, now=now, limit=KEYS_PER_DIMENSION)
        for row in rows:
            for window in RATE_WINDOWS:
                counts: dict[str, Any] = row["windows"][window]
                for outcome, column in OUTCOMES.items():
                    messages.add_metric([label, row["key"], window, outcome], counts[column])
                for field, family in rate_families.items():
                    if counts.get(field) is not None:
                        family.add_metric([label, row["key"], window], counts[field])
    yield messages
    yield from rate_families.values()


def spool_directory(ctx: AppContext) -> Path:
    return ctx.settings.section(FeedbackSettings).pipe_spool_dir


def spool(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del session, now
    directory = spool_directory(ctx)
    try:
        held = backlog(directory)
    except PermissionError:
        # The pipe runs as PowerMTA's user; the service may not be allowed to look (docs/operations.md).
        log.warning("spool_not_readable", path=str(directory))
        return
    segments = GaugeMetricFamily(
        "email_engine_pipe_spool_segments",
        "Accounting segments in the pipe's spool: waiting to be parsed or stored, or rejected by the database.",
        labels=["state"],
    )
    segments.add_metric(["waiting"], held.waiting)
    segments.add_metric(["rejected"], held.rejected)
    yield segments
    yield GaugeMetricFamily(
        "email_engine_pipe_spool_oldest_seconds",
        "How long the oldest segment still waiting in the pipe's spool has waited (0 when none waits).",
        value=held.oldest_age_seconds,
    )


def retention(ctx: AppContext, session: Session, now: datetime) -> Iterator[Metric]:
    del ctx, now
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
    result = last_result(session, RETENTION_JOB)
    if result:
        for kind in _KINDS:
            purged.add_metric([kind], float(result.get(kind, 0)))
        for name in _PARTITIONS:
            partitions.add_metric([name.removesuffix("_partitions")], float(result.get(name, 0)))
    yield purged
    yield partitions


GAUGES = [traffic, spool, retention]
DISK_PATHS = [spool_directory]  # the spool may sit on its own filesystem
