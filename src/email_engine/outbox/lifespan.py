"""Start the outbox waker with the HTTP app (when this process runs the scheduler)."""

from __future__ import annotations

import asyncio

from email_engine.context import AppContext
from email_engine.outbox.settings import OutboxSettings
from email_engine.outbox.wakeup import OutboxWaker
from email_engine.platform.leader_lease import running_leadership

WAKER_KEY = "outbox_waker"


async def startup(ctx: AppContext) -> None:
    settings = ctx.settings.section(OutboxSettings)
    leadership = running_leadership(ctx)
    if leadership is None or not settings.wake_on_commit:
        return
    waker = OutboxWaker(ctx, settings=settings, is_leader=lambda: leadership.is_leader)
    waker.start()
    ctx.extras[WAKER_KEY] = waker


async def shutdown(ctx: AppContext) -> None:
    waker = ctx.extras.pop(WAKER_KEY, None)
    if isinstance(waker, OutboxWaker):
        await asyncio.to_thread(waker.stop)
