"""gunicorn settings for the systemd unit: uvicorn workers, multiprocess-safe metrics."""

from __future__ import annotations

from typing import Any

worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = 25
timeout = 60
keepalive = 5
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = "-"


def child_exit(_server: Any, worker: Any) -> None:
    # A dead worker's live gauges must leave /metrics with it.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
