"""State gauges read from the database when Prometheus scrapes /metrics.

Counters of requests and job runs live in process memory (``ops/metrics.py``); what the alert rules and the
Grafana dashboard need beyond that is *state* — listings, rates, warmup position, outbox backlog, health,
disk — which every worker can read from the shared database, so this collector gives the same answer
whichever worker is scraped. Names are the contract of ``monitoring/`` (alert rules, dashboard).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.context import AppContext

__all__ = ["StateCollector"]

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


def _traffic(session: Session, now: datetime) -> Iterator[Metric]:
    from email_engine.feedback.stats import dimension_rows

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


def _listings(session: Session) -> Iterator[Metric]:
    from email_engine.reputation.service import listed_ips

    family = GaugeMetricFamily(
        "email_engine_ip_listed",
        "1 while a blacklist lists the sending IP or domain.",
        labels=["ip", "zone", "major"],
    )
    for target, listings in sorted(listed_ips(session).items()):
        for listing in listings:
            family.add_metric([target, listing.zone, "true" if listing.major else "false"], 1)
    yield family


def _warmup(session: Session) -> Iterator[Metric]:
    from email_engine.ips.models import SendingIp
    from email_engine.warmup.models import WarmupPlan

    day = GaugeMetricFamily(
        "email_engine_warmup_day", "Current day (1-based) of the IP's warmup plan.", labels=["ip"]
    )
    days = GaugeMetricFamily(
        "email_engine_warmup_plan_days", "Length of the IP's warmup plan in days.", labels=["ip"]
    )
    limit = GaugeMetricFamily(
        "email_engine_warmup_daily_limit", "Today's daily volume limit of the plan.", labels=["ip"]
    )
    paused = GaugeMetricFamily(
        "email_engine_warmup_paused", "1 while the IP's warmup plan is paused.", labels=["ip"]
    )
    rows = session.execute(
        select(SendingIp.address, WarmupPlan.status, WarmupPlan.day_index, WarmupPlan.schedule)
        .join(WarmupPlan, WarmupPlan.ip_id == SendingIp.id)
        .where(WarmupPlan.status.in_(("running", "paused")))
    )
    for address, status, day_index, schedule in rows:
        position = min(day_index or 0, len(schedule) - 1) if schedule else 0
        day.add_metric([address], position + 1)
        days.add_metric([address], len(schedule))
        if schedule:
            limit.add_metric([address], schedule[position])
        paused.add_metric([address], 1 if status == "paused" else 0)
    yield from (day, days, limit, paused)


def _outbox(session: Session) -> Iterator[Metric]:
    from email_engine.outbox.service import status_counts

    family = GaugeMetricFamily(
        "email_engine_outbox_queue", "Outbox events now, by kind and status.", labels=["kind", "status"]
    )
    for kind, by_status in sorted(status_counts(session).items()):
        for status, count in sorted(by_status.items()):
            family.add_metric([kind, status], count)
    yield family


def _health_and_jobs(session: Session) -> Iterator[Metric]:
    from email_engine.ops.models import JobRun

    health = GaugeMetricFamily(
        "email_engine_health_check_ok",
        "1 unless the check failed at the last run of the health job (warn and not-configured count as 1).",
        labels=["check"],
    )
    last = session.scalar(
        select(JobRun)
        .where(JobRun.job == "health", JobRun.status == "ok")
        .order_by(JobRun.started_at.desc())
        .limit(1)
    )
    if last is not None and last.result:
        for name, status in sorted(last.result.get("checks", {}).items()):
            health.add_metric([name], 0 if status == "fail" else 1)
    yield health
    success = GaugeMetricFamily(
        "email_engine_job_last_success_timestamp_seconds",
        "When each job last finished successfully.",
        labels=["job"],
    )
    for job, finished in session.execute(
        select(JobRun.job, func.max(JobRun.finished_at)).where(JobRun.status == "ok").group_by(JobRun.job)
    ):
        if finished is not None:
            success.add_metric([job], finished.timestamp())
    yield success


def _disk(paths: list[Path]) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "email_engine_disk_free_ratio", "Free share of the filesystem holding each path.", labels=["path"]
    )
    for path in paths:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            continue
        usage = shutil.disk_usage(existing)
        family.add_metric([str(path)], usage.free / usage.total if usage.total else 0.0)
    yield family


def _spool(directory: Path) -> Iterator[Metric]:
    from email_engine.feedback.spool import backlog

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


class StateCollector(Collector):
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _spool_dir(self) -> Path:
        from email_engine.feedback.settings import FeedbackSettings
        from email_engine.ops.domain_settings import domain_settings

        return domain_settings(self.ctx, FeedbackSettings).pipe_spool_dir

    def _data_paths(self) -> list[Path]:
        paths = [Path.cwd(), self._spool_dir()]
        if self.ctx.settings.is_sqlite:
            paths.append(Path(self.ctx.settings.database_url.removeprefix("sqlite:///")).resolve().parent)
        return sorted(set(paths))

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        yield from _disk(self._data_paths())
        yield from _spool(self._spool_dir())
        from email_engine.plugins import domain_modules

        sources: tuple[Callable[[Session], Iterable[Metric]], ...] = (
            lambda s: _traffic(s, now),
            _listings,
            _warmup,
            _outbox,
            _health_and_jobs,
            *(
                partial(source, now=now)
                for module in domain_modules("gauges")
                for source in getattr(module, "GAUGES", ())
            ),
        )
        with self.ctx.session_factory() as session:
            for source in sources:
                try:
                    yield from list(source(session))
                except Exception as exc:  # one broken source must not hide the others
                    session.rollback()
                    log.error(
                        "gauge_collection_failed",
                        source=getattr(source, "__name__", None) or repr(source)[:120],
                        error=type(exc).__name__,
                    )
