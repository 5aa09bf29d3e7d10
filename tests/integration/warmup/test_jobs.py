"""The warmup and failover jobs through their JobSpec: idempotent runs, visible and retried push failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import Conflict
from email_engine.ips.models import Actuation
from email_engine.warmup import service
from email_engine.warmup.jobs import JOBS, MAILWIZZ_KEY
from email_engine.warmup.models import WarmupDay
from tests.integration.warmup.helpers import feed_day, list_on
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb

T0 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


def test_jobs_are_declared() -> None:
    assert {job.name for job in JOBS} == {"warmup", "failover"}
    assert all(job.interval_seconds > 0 and job.description for job in JOBS)


def test_unreachable_mailwizz_is_visible_and_retried(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.30", server_id=server, now=T0)
    plan = service.create_plan(session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    session.commit()
    warmup = next(job for job in JOBS if job.name == "warmup")

    # MailWizz's database is down (nothing listens on that port): the start is recorded, the push fails.
    down = mw.adapter(port=1, connect_timeout=1.0)
    _plan, push = service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=down)
    session.commit()
    assert push["status"] == "failed" and "not reachable" in push["error"]
    ctx.extras[MAILWIZZ_KEY] = down
    summary = warmup.run(ctx, T0 + timedelta(minutes=10))
    assert summary["push_failed"] and summary["push_failed"][0]["ip_id"] == ip.id
    assert mw.row(server)["status"] == "inactive"
    failed = session.scalar(select(Actuation).where(Actuation.ip_id == ip.id).order_by(Actuation.id.desc()))
    assert failed is not None and failed.status == "failed" and failed.attempts == 2

    # It comes back: the next run applies the same actuation row.
    ctx.extras[MAILWIZZ_KEY] = mw.adapter()
    summary = warmup.run(ctx, T0 + timedelta(minutes=20))
    assert summary["pushed"] == 1 and summary["push_failed"] == [] and summary["decided"] == {}
    row = mw.row(server)
    assert (row["status"], row["daily_quota"]) == ("active", 20)
    session.expire_all()
    applied = session.get(Actuation, failed.id)
    assert applied is not None and applied.status == "applied" and applied.attempts == 3

    # Runs later the same day decide nothing new; the next day decides once.
    feed_day(session, ip.address, T0.date(), sent=20, delivered=20)
    session.commit()
    for minutes in (0, 30, 90):
        warmup.run(ctx, T0 + timedelta(days=1, minutes=minutes))
    days = session.scalars(select(WarmupDay).where(WarmupDay.plan_id == plan.id)).all()
    assert [d.decision for d in days] == ["start", "advance"]
    assert mw.row(server)["daily_quota"] == 22


def test_failover_job_runs_with_nothing_to_do(ctx: AppContext, mw: MailwizzTestDb) -> None:
    ctx.extras[MAILWIZZ_KEY] = mw.adapter()
    failover = next(job for job in JOBS if job.name == "failover")
    assert failover.run(ctx, T0) == {
        "day": T0.date().isoformat(),
        "actions": [],
        "recovered": [],
        "errors": [],
    }


def test_ip_moved_out_of_warming_by_hand_pauses_the_plan(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    from email_engine.ips.service import transition_ip

    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.31", server_id=server, now=T0)
    plan = service.create_plan(session, ip_id=ip.id, preset="standard", actor="test", now=T0)
    service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=mw.adapter())
    transition_ip(session, ip_id=ip.id, to_state="resting", reason="operator parks it", actor="test", now=T0)
    session.commit()
    ctx.extras[MAILWIZZ_KEY] = mw.adapter()
    summary = next(job for job in JOBS if job.name == "warmup").run(ctx, T0 + timedelta(hours=1))
    assert summary["errors"] == [] and summary["decided"] == {str(plan.id): "pause"}
    session.expire_all()
    assert session.get(type(plan), plan.id).status == "paused"  # type: ignore[union-attr]
    assert mw.row(server)["status"] == "inactive"


def test_a_listed_ip_cannot_start_warming(session: Session, mw: MailwizzTestDb) -> None:
    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.32", server_id=server, now=T0)
    list_on(session, ip.address, "zen.spamhaus.org", T0)
    plan = service.create_plan(session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    session.commit()
    with pytest.raises(Conflict, match=r"listed on zen\.spamhaus\.org"):
        service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=mw.adapter())
    session.rollback()
    assert mw.row(server)["status"] == "inactive"
    assert session.get(type(plan), plan.id).status == "created"  # type: ignore[union-attr]
