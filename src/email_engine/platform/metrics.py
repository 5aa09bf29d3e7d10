"""Prometheus metrics. With several workers, PROMETHEUS_MULTIPROC_DIR makes every process write to
shared files and /metrics aggregates them (``email-engine serve --workers N`` sets it up)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "HTTP_REQUESTS", "HTTP_REQUEST_SECONDS", "render_metrics"]

HTTP_REQUESTS = Counter(
    "email_engine_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "email_engine_http_request_duration_seconds",
    "Time to answer HTTP requests, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def render_metrics(*extra: Collector) -> bytes:
    """Process (or merged multiprocess) metrics, then the ``extra`` collectors (database state gauges)."""
    state = CollectorRegistry(auto_describe=False)
    for collector in extra:
        state.register(collector)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry) + generate_latest(state)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY) + generate_latest(state)
