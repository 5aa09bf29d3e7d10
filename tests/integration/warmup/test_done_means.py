"""The issue's "done means" for warmup and failover, against MariaDB (MailWizz) and the real database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.integrations.alerts.models import AlertState
from email_engine.ips.models import SendingIp
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup import daily_run, failover_service, service
from email_engine.warmup.models import FailoverEvent, WarmupPlan
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.settings import WarmupSettings
from email_engine.warmup.stored_plan import VolumeLimit
from tests.integration.warmup.helpers import feed_day, list_on
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb

T0 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
COLD = PRESETS["cold"].spec.curve

SIGNALS = SignalSettings(_env_file=None)  # type: ignore[call-arg]


def run(session: Session, mw: MailwizzTestDb, now: datetime) -> dict[str, object]:
    summary = daily_run.run_warmup(session, now=now, mailwizz=mw.adapter(), signals=SIGNALS)
    session.commit()
    return summary


def test_cold_preset_drives_mailwizz_quotas_holds_on_bounces_and_pauses(
    session: Session, mw: MailwizzTestDb
) -> None:
    server = mw.add_server(status="inactive", hourly=0, daily=0)
    ip = make_ip(session, "192.0.2.10", server_id=server, now=T0)
    plan = service.create_plan(session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    plan, _push = service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=mw.adapter())
    session.commit()

    # Day 1: the warmup job makes the delivery server hold day 1's quotas.
    summary = run(session, mw, T0 + timedelta(minutes=5))
    assert summary["push_failed"] == [] and summary["errors"] == []
    row = mw.row(server)
    assert (row["daily_quota"], row["hourly_quota"], row["status"]) == (COLD[0], 2, "active")
    assert session.get(SendingIp, ip.id).state == "warming"  # type: ignore[union-attr]

    # Good results for day 1 → day 2.
    feed_day(session, ip.address, T0.date(), sent=COLD[0], delivered=COLD[0])
    summary = run(session, mw, T0 + timedelta(days=1))
    assert summary["decided"] == {str(plan.id): "advance"}
    assert mw.row(server)["daily_quota"] == COLD[1]

    # A 6 % hard-bounce day → hold, and the plan says why.
    feed_day(session, ip.address, (T0 + timedelta(days=1)).date(), sent=50, delivered=47, hard=3)
    run(session, mw, T0 + timedelta(days=2))
    detail = service.plan_detail(session, plan.id)
    last = detail["days"][-1]
    assert last["decision"] == "hold" and detail["day_number"] == 2
    assert any("hard bounces rate 6.0%" in reason for reason in last["reasons"]), last["reasons"]
    assert mw.row(server)["daily_quota"] == COLD[1]  # held, not raised

    # Two more bad days → three in a row → paused, MailWizz server inactive, alert queued.
    for offset in (2, 3):
        feed_day(session, ip.address, (T0 + timedelta(days=offset)).date(), sent=50, delivered=47, hard=3)
        run(session, mw, T0 + timedelta(days=offset + 1))
    session.refresh(plan)
    assert plan.status == "paused"
    assert "3 failing days in a row" in (plan.status_reason or "")
    assert mw.row(server)["status"] == "inactive"
    alert = session.scalar(select(AlertState).where(AlertState.key == f"warmup:plan:{plan.id}:paused"))
    assert alert is not None and alert.status == "firing" and ip.address in alert.title

    # Paused stays paused, whatever the next day looks like.
    feed_day(session, ip.address, (T0 + timedelta(days=4)).date(), sent=0)
    run(session, mw, T0 + timedelta(days=5))
    session.refresh(plan)
    assert plan.status == "paused" and mw.row(server)["status"] == "inactive"
    assert service.current_limits(session, now=T0 + timedelta(days=5))[ip.id] == VolumeLimit(0, 0)

    # A person resumes: lower on the curve, never at full volume.
    service.resume_plan(
        session, plan_id=plan.id, actor="test", now=T0 + timedelta(days=5, hours=2), mailwizz=mw.adapter()
    )
    session.commit()
    row = mw.row(server)
    assert row["status"] == "active" and row["daily_quota"] == COLD[0]
    session.refresh(alert)
    assert alert.status == "resolved"


def test_sixty_simulated_days_reach_full_volume_only_through_the_curve(
    session: Session, mw: MailwizzTestDb
) -> None:
    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.20", server_id=server, now=T0)
    plan = service.create_plan(session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=mw.adapter())
    session.commit()
    seen: list[int] = []
    bad_days = {9, 10}  # two days of hard bounces: hold twice, no pause (three are needed)
    quiet_day = 20  # MailWizz sent almost nothing: too little to judge, hold
    for day in range(60):
        now = T0 + timedelta(days=day)
        run(session, mw, now)
        row = mw.row(server)
        seen.append(int(row["daily_quota"]))
        limit = service.current_limits(session, now=now).get(ip.id)
        volume = limit.daily if limit else int(row["daily_quota"])
        if day in bad_days:
            hard = max(3, volume // 10)  # 10 %: over the 2 % limit on any sample
            feed_day(session, ip.address, now.date(), sent=volume, delivered=volume - hard, hard=hard)
        elif day == quiet_day:
            feed_day(session, ip.address, now.date(), sent=3, delivered=3)
        else:
            feed_day(session, ip.address, now.date(), sent=volume, delivered=volume, soft=1)
    session.refresh(plan)
    assert plan.status == "completed"
    assert session.get(SendingIp, ip.id).state == "active"  # type: ignore[union-attr]
    # Never above the curve, never skipping a point, up by at most one point a day.
    positions = [COLD.index(volume) for volume in seen[: len(COLD) + 3]]
    assert all(later - earlier in (0, 1) for earlier, later in itertools.pairwise(positions))
    assert positions.count(positions[11]) == 3  # day 10's point held on days 11 and 12
    assert positions.count(positions[21]) == 2  # the quiet day's point held once
    assert seen[len(COLD) + 2] == COLD[-1] == max(seen)
    detail = service.plan_detail(session, plan.id)
    decisions = [d["decision"] for d in detail["days"]]
    assert decisions.count("hold") == 3 and decisions.count("pause") == 0 and decisions[-1] == "complete"
    assert mw.row(server)["status"] == "active"


def _failover_setup(
    session: Session, mw: MailwizzTestDb, *, standby: str
) -> tuple[SendingIp, SendingIp, int, int]:
    active_server = mw.add_server(status="active", hourly=400, daily=5000)
    standby_server = mw.add_server(status="inactive", hourly=400, daily=5000)
    active = make_ip(
        session,
        "198.51.100.1",
        server_id=active_server,
        now=T0 - timedelta(days=90),
        state="active",
        pool="p1",
    )
    reserve = make_ip(
        session,
        "198.51.100.2",
        server_id=standby_server,
        now=T0 - timedelta(days=3),
        state=standby,
        pool="p1",
    )
    # The reserve proved 3,000 a day while it was active.
    feed_day(session, reserve.address, (T0 - timedelta(days=5)).date(), sent=3000, delivered=3000)
    session.commit()
    return active, reserve, active_server, standby_server


def _failover(session: Session, mw: MailwizzTestDb, now: datetime) -> dict[str, object]:
    summary = failover_service.run_failover(
        session, now=now, mailwizz=mw.adapter(), settings=WarmupSettings(), signals=SIGNALS
    )
    session.commit()
    return summary


def test_listing_with_a_warm_standby_fails_over(session: Session, mw: MailwizzTestDb) -> None:
    active, reserve, active_server, standby_server = _failover_setup(session, mw, standby="warm-standby")
    feed_day(session, active.address, T0.date(), sent=1000, delivered=990, hard=5)
    list_on(session, active.address, "zen.spamhaus.org", T0)
    session.commit()

    summary = _failover(session, mw, T0 + timedelta(minutes=1))
    assert [a["action"] for a in summary["actions"]] == ["fail_over"]  # type: ignore[attr-defined]
    session.refresh(active)
    session.refresh(reserve)
    # The reserve takes over at min(its proven 3,000, the listed IP's recent 1,000) and ramps under
    # the gates (a one-point plan: nothing to climb).
    assert (active.state, reserve.state) == ("quarantined", "warming")
    assert mw.row(active_server)["status"] == "inactive"
    row = mw.row(standby_server)
    assert (row["status"], row["daily_quota"], row["hourly_quota"]) == ("active", 1000, 84)
    plan = session.scalar(select(WarmupPlan).where(WarmupPlan.ip_id == reserve.id))
    assert plan is not None and plan.schedule == [1000] and plan.proven_volume == 1000
    assert (
        session.scalar(select(AlertState).where(AlertState.key == f"failover:{active.address}")) is not None
    )

    # Running again the same day changes nothing more.
    assert _failover(session, mw, T0 + timedelta(minutes=20))["actions"] == []
    assert len(session.scalars(select(FailoverEvent)).all()) == 1


def test_listing_with_a_cold_standby_starts_its_warmup(session: Session, mw: MailwizzTestDb) -> None:
    active, reserve, active_server, standby_server = _failover_setup(session, mw, standby="standby")
    list_on(session, active.address, "zen.spamhaus.org", T0)
    session.commit()

    summary = _failover(session, mw, T0 + timedelta(minutes=1))
    assert [a["action"] for a in summary["actions"]] == ["warm_standby"]  # type: ignore[attr-defined]
    session.refresh(active)
    session.refresh(reserve)
    assert (active.state, reserve.state) == ("quarantined", "warming")
    plan = session.scalar(select(WarmupPlan).where(WarmupPlan.ip_id == reserve.id))
    assert plan is not None and plan.status == "running" and plan.preset == "cold"
    standby_row = mw.row(standby_server)
    assert (standby_row["status"], standby_row["daily_quota"]) == ("active", COLD[0])
    assert mw.row(active_server)["status"] == "inactive"


def test_high_bounce_rate_refuses_failover_and_blames_the_list(session: Session, mw: MailwizzTestDb) -> None:
    active, reserve, _active_server, standby_server = _failover_setup(session, mw, standby="warm-standby")
    feed_day(session, active.address, T0.date(), sent=1000, delivered=880, hard=120)  # 12 %
    list_on(session, active.address, "zen.spamhaus.org", T0)
    session.commit()

    summary = _failover(session, mw, T0 + timedelta(minutes=1))
    assert [a["action"] for a in summary["actions"]] == ["refused"]  # type: ignore[attr-defined]
    session.refresh(active)
    session.refresh(reserve)
    # The listed IP stops at once; nothing moved to the standby.
    assert (active.state, reserve.state) == ("quarantined", "standby")
    assert mw.row(_active_server)["status"] == "inactive"
    assert mw.row(standby_server)["status"] == "inactive"
    alert = session.scalar(select(AlertState).where(AlertState.key == f"failover:refused:{active.address}"))
    assert alert is not None and alert.severity == "critical"
    assert "the list, not the IP, is the cause" in alert.text and "12.0%" in alert.text


def test_quarantined_ip_rests_then_rewarms(session: Session, mw: MailwizzTestDb) -> None:
    active, _reserve, active_server, _ = _failover_setup(session, mw, standby="warm-standby")
    list_on(session, active.address, "zen.spamhaus.org", T0)
    session.commit()
    _failover(session, mw, T0)
    settings = WarmupSettings()
    # Still listed after the quarantine period: stays quarantined.
    later = T0 + timedelta(days=settings.quarantine_days, hours=1)
    failover_service.run_failover(
        session, now=later, mailwizz=mw.adapter(), settings=settings, signals=SIGNALS
    )
    session.refresh(active)
    assert active.state == "quarantined"
    # Delisted: rests, then re-warms with a new plan (never straight to active).
    from email_engine.reputation.dnsbl import ZoneResult
    from email_engine.reputation.service import record_dnsbl_results

    record_dnsbl_results(
        session, target=active.address, results=[ZoneResult("zen.spamhaus.org", "clean")], now=later
    )
    failover_service.run_failover(
        session, now=later, mailwizz=mw.adapter(), settings=settings, signals=SIGNALS
    )
    session.refresh(active)
    assert active.state == "resting"
    rested = later + timedelta(days=settings.rest_days, hours=1)
    failover_service.run_failover(
        session, now=rested, mailwizz=mw.adapter(), settings=settings, signals=SIGNALS
    )
    session.commit()
    session.refresh(active)
    assert active.state == "warming"
    plan = session.scalar(
        select(WarmupPlan).where(WarmupPlan.ip_id == active.id, WarmupPlan.status == "running")
    )
    assert plan is not None
    row = mw.row(active_server)
    assert (row["status"], row["daily_quota"]) == ("active", COLD[0])


def test_step_back_policy_lowers_the_quota_and_alerts(session: Session, mw: MailwizzTestDb) -> None:
    server = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.40", server_id=server, now=T0)
    plan = service.create_plan(
        session,
        ip_id=ip.id,
        schedule=[100, 150, 200, 300, 400],
        gates={"on_repeated_failure": "step_back", "failures_before_action": 2, "step_back_days": 2},
        actor="test",
        now=T0,
    )
    service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=mw.adapter())
    session.commit()
    for day, volume in enumerate((100, 150, 200)):  # clean days: up to 300
        feed_day(session, ip.address, (T0 + timedelta(days=day)).date(), sent=volume, delivered=volume)
        run(session, mw, T0 + timedelta(days=day + 1))
    assert mw.row(server)["daily_quota"] == 300
    for day in (3, 4):  # two days of blocks at 300
        feed_day(session, ip.address, (T0 + timedelta(days=day)).date(), sent=300, delivered=250, block=50)
        run(session, mw, T0 + timedelta(days=day + 1))
    session.refresh(plan)
    assert plan.status == "running" and mw.row(server)["daily_quota"] == 150
    assert service.plan_detail(session, plan.id)["days"][-1]["decision"] == "step_back"
    alert = session.scalar(select(AlertState).where(AlertState.key == f"warmup:plan:{plan.id}:stepped_back"))
    assert alert is not None and "stepping back from day 4 to day 2" in alert.text


def test_block_spike_stops_the_ip_and_never_fails_over(session: Session, mw: MailwizzTestDb) -> None:
    active, reserve, active_server, standby_server = _failover_setup(session, mw, standby="warm-standby")
    feed_day(session, active.address, T0.date(), sent=2000, delivered=1400, block=600)  # 30 % refused
    session.commit()
    summary = _failover(session, mw, T0 + timedelta(hours=13))
    assert [a["action"] for a in summary["actions"]] == ["paused"]  # type: ignore[attr-defined]
    assert any("block rate 30.0%" in r for r in summary["actions"][0]["reasons"])  # type: ignore[index]
    assert (mw.row(active_server)["status"], mw.row(standby_server)["status"]) == ("inactive", "inactive")
    session.refresh(reserve)
    assert reserve.state == "standby"
    alert = session.scalar(select(AlertState).where(AlertState.key == f"failover:blocked:{active.address}"))
    assert alert is not None and alert.severity == "critical" and "snowshoeing" in alert.text


def test_a_listed_standby_never_takes_over(session: Session, mw: MailwizzTestDb) -> None:
    active, reserve, active_server, standby_server = _failover_setup(session, mw, standby="warm-standby")
    list_on(session, active.address, "zen.spamhaus.org", T0)
    list_on(session, reserve.address, "b.barracudacentral.org", T0)
    session.commit()
    summary = _failover(session, mw, T0 + timedelta(minutes=1))
    assert [a["action"] for a in summary["actions"]] == ["quarantine_only"]  # type: ignore[attr-defined]
    session.refresh(reserve)
    assert reserve.state == "standby" and mw.row(standby_server)["status"] == "inactive"
    assert mw.row(active_server)["status"] == "inactive"
    alert = session.scalar(select(AlertState).where(AlertState.key == f"failover:{active.address}"))
    assert alert is not None and alert.severity == "critical" and "no standby IP" in alert.text
