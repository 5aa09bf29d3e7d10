"""The preflight item of warmup: every warming IP follows a plan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import SendingIp
from email_engine.ips.service import sending_inventory
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings
from email_engine.warmup.models import WarmupPlan
from email_engine.warmup.plan import PlanStatus

__all__ = ["CHECKS", "check_warmup"]


def check_warmup(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    with ctx.session_factory() as session:
        warming = set(session.scalars(select(SendingIp.address).where(SendingIp.state == IpState.WARMING)))
        planned = set(
            session.scalars(
                select(SendingIp.address)
                .join(WarmupPlan, WarmupPlan.ip_id == SendingIp.id)
                .where(WarmupPlan.status.in_((PlanStatus.RUNNING, PlanStatus.PAUSED, PlanStatus.CREATED)))
            )
        )
        plans = len(session.scalars(select(WarmupPlan.id)).all())
        ips, _domains = sending_inventory(session)
    without = sorted(warming - planned)
    if not ips:
        yield Item(
            "warmup plans", "skip", "no sending IPs", "Add IPs first; new IPs start with a warmup plan."
        )
    elif without:
        yield Item(
            "warmup plans",
            "fail",
            f"warming without a plan: {', '.join(without)}",
            "Create one: `email-engine warmup create --ip-id ID --preset cold --start`.",
        )
    elif plans == 0:
        yield Item(
            "warmup plans",
            "fail",
            "no warmup plan exists",
            "New IPs must warm up: `email-engine warmup create --ip-id ID --preset cold --start`.",
        )
    else:
        yield Item("warmup plans", "pass", f"{plans} plans; every warming IP has one")


CHECKS = [PreflightCheck("warmup plans", check_warmup, order=160)]
