"""Start the cluster scheduler with the HTTP app; every worker competes for the leader lease."""

from __future__ import annotations

import asyncio

import structlog

from email_engine.context import AppContext
from email_engine.ops.registry import all_jobs
from email_engine.ops.scheduler import ClusterScheduler
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.leader_lease import SCHEDULER_KEY

log = structlog.get_logger("email_engine.scheduler")


async def startup(ctx: AppContext) -> None:
    settings = ctx.settings.section(SchedulerSettings)
    if not settings.is_enabled(ctx.settings.environment):
        log.info("scheduler_disabled")
        return
    scheduler = ClusterScheduler(ctx, jobs=all_jobs(ctx.settings), settings=settings)
    scheduler.start()
    ctx.extras[SCHEDULER_KEY] = scheduler


async def shutdown(ctx: AppContext) -> None:
    scheduler = ctx.extras.pop(SCHEDULER_KEY, None)
    if isinstance(scheduler, ClusterScheduler):
        await asyncio.to_thread(scheduler.shutdown)


def running_scheduler(ctx: AppContext) -> ClusterScheduler | None:
    scheduler = ctx.extras.get(SCHEDULER_KEY)
    return scheduler if isinstance(scheduler, ClusterScheduler) else None
