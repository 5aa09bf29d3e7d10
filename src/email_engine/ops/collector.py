"""The /metrics collector of database and filesystem state: every domain's ``GAUGES``, read at scrape time.

Counters of requests and job runs live in process memory (``platform/metrics.py``); what the alert rules and
the Grafana dashboard need beyond that is *state* — listings, rates, warmup position, outbox backlog,
health, disk — which every worker reads from the shared database, so whichever worker is scraped gives
the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.plugins import domain_modules

__all__ = ["StateCollector"]

log = structlog.get_logger("email_engine.gauges")


class StateCollector(Collector):
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        sources = [source for module in domain_modules("gauges") for source in module.GAUGES]
        with self.ctx.session_factory() as session:
            for source in sources:
                try:
                    yield from list(source(self.ctx, session, now))
                except Exception as exc:  # one broken source must not hide the others
                    session.rollback()
                    log.error(
                        "gauge_collection_failed",
                        source=getattr(source, "__qualname__", None) or repr(source)[:120],
                        error=type(exc).__name__,
                    )
