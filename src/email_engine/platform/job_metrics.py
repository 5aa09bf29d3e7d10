"""Prometheus metrics of the scheduler and job runs."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["JOB_DURATION", "JOB_RUNS", "SCHEDULER_LEADER"]

JOB_RUNS = Counter(
    "email_engine_job_runs_total", "Job runs by job and status (ok, error, skipped).", ["job", "status"]
)
JOB_DURATION = Histogram(
    "email_engine_job_duration_seconds",
    "Duration of job runs.",
    ["job"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
SCHEDULER_LEADER = Gauge(
    "email_engine_scheduler_leader",
    "1 while this process holds the scheduler leader lease.",
    multiprocess_mode="max",
)
