"""``GET /api/v1/reputation/daily``: one daily series per IP, sending domain or provider."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.reputation_signals import service
from email_engine.reputation_signals.schemas import DailySeries
from email_engine.reputation_signals.settings import SignalSettings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/reputation", tags=["reputation signals"])


def _settings(ctx: ContextDep) -> SignalSettings:
    return ctx.settings.section(SignalSettings)


@router.get("/daily", summary="Daily series of one IP, sending domain or provider, all signals joined")
def daily(  # noqa: PLR0917 - FastAPI injects each query parameter
    session: SessionDep,
    options: Annotated[SignalSettings, Depends(_settings)],
    key: Annotated[
        str,
        Query(
            min_length=1,
            max_length=253,
            description="An IP address, a sending domain or a provider (gmail, microsoft, yahoo…).",
        ),
    ],
    since: Annotated[
        date | None, Query(description="First day (UTC); default: 29 days before `until`.")
    ] = None,
    until: Annotated[date | None, Query(description="Last day (UTC); default: today.")] = None,
    kind: Annotated[
        service.SeriesKind | None, Query(description="ip, domain or provider; default: guessed from the key.")
    ] = None,
) -> DailySeries:
    """Per day: `accounting` (our PowerMTA records for the key: sent, delivered, bounces, blocks, ARF
    complaints and their rates), `snds` (Microsoft SNDS: filter result, complaint rate, trap hits;
    for the `microsoft` provider the worst of our IPs), `gmail` (Postmaster Tools v2: spam rate,
    authentication and delivery-error rates of the domain, the domains an IP sends as, or all ours
    for `gmail`), `dmarc` (aggregate reports: messages, DMARC pass and DKIM/SPF alignment) and the
    `signals` a warmup decision would draw from that day (hold / pause with the reason). A part is
    null on a day it has no data."""
    until = until or utcnow().date()
    since = since or until - timedelta(days=29)
    series = service.daily_series(session, key=key, since=since, until=until, kind=kind, rules=options.rules)
    return DailySeries.model_validate(series)
