"""Issue 20's scenario suite: failover and warmup over simulated days, through the real parts.

Each scenario runs the jobs an installation runs (``blacklists``, ``failover``, ``warmup``) through
the job runner *as of* the simulated time, feeds PowerMTA accounting through the real
``email-engine pipe``, lists and delists IPs on a DNSBL served by rbldnsd on loopback, and checks
MailWizz's own ``mw_delivery_server`` rows on MariaDB, the PowerMTA config rendered from the
database, the plan and IP history and the alerts — hours later, after dilution, the next day and
after the window passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.config import Settings, generate_secret
from email_engine.context import AppContext
from email_engine.errors import Conflict
from email_engine.integrations.mailwizz.api import ApiKeyAuth, MailwizzApi
from email_engine.ips.actuation import MAILWIZZ_ADAPTER_KEY
from email_engine.ips.models import IpTransition
from email_engine.reputation.settings import ReputationSettings
from email_engine.warmup import service
from email_engine.warmup.jobs import MAILWIZZ_API_KEY
from email_engine.warmup.models import FailoverEvent, WarmupPlan
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.settings import WarmupSettings
from tests.conftest import make_settings
from tests.integration.warmup.scenario import TEST_POINT, ZONE, Scenario
from tests.support.cli_runner import run_cli
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb
from tests.support.mailwizz_http import FakeMailwizz, running_mailwizz
from tests.support.rbldnsd import Rbldnsd

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
COLD = PRESETS["cold"].spec.curve


@pytest.fixture
def rbl(tmp_path: Path) -> Iterator[Rbldnsd]:
    directory = tmp_path / "rbl"
    directory.mkdir()
    with Rbldnsd(directory, {ZONE: ("ip4set", TEST_POINT)}) as server:
        yield server


@pytest.fixture
def settings(database_url: str, redis_url: str | None, rbl: Rbldnsd) -> Settings:
    return make_settings(database_url, redis_url, DNS_NAMESERVERS=rbl.nameserver)


@pytest.fixture
def world(ctx: AppContext, session: Session, mw: MailwizzTestDb, rbl: Rbldnsd, tmp_path: Path) -> Scenario:
    ctx.settings.install(
        ReputationSettings(_env_file=None, DNSBL_ZONES=ZONE, DNSBL_TIMEOUT=0.5, DNSBL_DEADLINE=5),  # type: ignore[call-arg]
    )
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    ctx.settings.install(WarmupSettings(_env_file=None))  # type: ignore[call-arg]
    # The history (a reserve's proven volume) starts ten days before T0.
    return Scenario(ctx=ctx, session=session, mw=mw, rbl=rbl, workdir=tmp_path, now=T0 - timedelta(days=10))


def _active(world: Scenario, address: str, *, pool: str | None, daily: int = 5000) -> int:
    server = world.mw.add_server(status="active", hourly=max(1, daily // 12), daily=daily)
    make_ip(world.session, address, server_id=server, now=T0 - timedelta(days=90), state="active", pool=pool)
    world.session.commit()
    return server


def _warm_standby(world: Scenario, address: str, *, pool: str | None, hourly: int = 0, daily: int = 0) -> int:
    """A reserve that was active until five days ago; its MailWizz row holds ``hourly``/``daily``
    (0/0 by default: MailWizz reads that as unlimited)."""
    server = world.mw.add_server(status="inactive", hourly=hourly, daily=daily)
    make_ip(
        world.session, address, server_id=server, now=T0 - timedelta(days=5), state="warm-standby", pool=pool
    )
    world.session.commit()
    return server


def _moves(world: Scenario) -> list[tuple[str, int | None]]:
    rows = world.session.scalars(select(FailoverEvent).order_by(FailoverEvent.id)).all()
    return [(row.action, row.standby_ip_id) for row in rows if row.action in ("fail_over", "warm_standby")]


# --- 1. the "list is the cause" refusal sticks ------------------------------------------------------


def test_the_list_is_the_cause_sticks_across_dilution_days_and_the_window(
    world: Scenario, tmp_path: Path
) -> None:
    a, b = "198.51.100.1", "198.51.100.2"
    a_server = _active(world, a, pool="p1")
    _warm_standby(world, b, pool="p1")
    world.at(T0 - timedelta(days=6)).send(b, delivered=3000, hours=10)  # the reserve proved 3,000/day
    world.at(T0).send(a, delivered=910, hard=90, hours=5)  # 9 % hard bounces
    world.list_ip(a)

    result = world.day()
    assert [x["action"] for x in result["blacklists"]["failover"]["actions"]] == ["refused"]
    # Stopped within the blacklist job's run: MailWizz inactive, PowerMTA at rate 0, a hold, an alert.
    assert world.ip(a).state == "quarantined" and world.server(a)["status"] == "inactive"
    assert world.pmta_cap(a) == 0
    hold = world.open_hold(a)
    assert hold is not None and hold.cause == "list" and hold.trigger == "listing"
    alert = world.alert(f"failover:refused:{a}")
    assert alert is not None and alert.severity == "critical"
    assert "9.0% (90 of 1000)" in alert.text and "remove hard bounces and complainers" in alert.text

    # ~11 hours of cleaner accounting (the queue draining) dilute the bad day: nothing moves.
    for _hour in range(11):
        world.send(a, delivered=2000, hours=1)
        world.job("failover")
        world.job("warmup")
        assert world.server(a)["status"] == "inactive" and world.server(b)["status"] == "inactive"
    # The next day, and after the window has long passed, still nothing moves.
    for days in (1, 2, 5, 12):
        world.at(T0 + timedelta(days=days, hours=1))
        world.day()
        assert world.ip(b).state == "standby" and world.server(b)["status"] == "inactive"
        assert world.ip(a).state == "quarantined" and world.server(a)["status"] == "inactive"
        assert world.open_hold(a) is not None
        world.assert_no_unlimited_active_server()
    # Delisted and past its quarantine: the open hold still keeps it from re-warming.
    world.delist(a)
    world.at(T0 + timedelta(days=20))
    world.day()
    assert world.ip(a).state == "quarantined" and world.pmta_cap(a) == 0
    assert _moves(world) == []
    # Nor can a person warm it up by hand while the hold is open.
    manual = service.create_plan(
        world.session, ip_id=world.ip(a).id, preset="cold", actor="test", now=world.now
    )
    with pytest.raises(Conflict, match="traffic hold"):
        service.start_plan(
            world.session, plan_id=manual.id, actor="test", now=world.now, mailwizz=world.mw.adapter()
        )
    service.abort_plan(
        world.session,
        plan_id=manual.id,
        reason="held",
        actor="test",
        now=world.now,
        mailwizz=world.mw.adapter(),
    )
    world.session.commit()

    # The operator cleans the list and resolves the hold (audited); recovery takes over from there.
    done = run_cli(
        "failover",
        "resolve",
        a,
        "--note",
        "removed 90 hard bounces, campaign re-targeted",
        "--json",
        database_url=world.ctx.settings.database_url,
    )
    assert done.returncode == 0, done.stderr
    world.session.expire_all()
    assert world.open_hold(a) is None
    alert = world.alert(f"failover:refused:{a}")
    assert alert is not None and alert.status == "resolved"
    from email_engine.auth.models import AuditEntry

    audit = world.session.scalar(select(AuditEntry).where(AuditEntry.target.like("/api/v1/warmup/holds/%")))
    assert audit is not None and audit.details and "removed 90 hard bounces" in audit.details["note"]
    world.later(hours=1)
    world.day()
    assert world.ip(a).state == "resting"
    world.at(T0 + timedelta(days=28))
    world.day()
    plan = world.plan(a)
    assert world.ip(a).state == "warming" and plan is not None and plan.schedule[0] == COLD[0]
    assert (world.server(a)["status"], world.server(a)["daily_quota"]) == ("active", COLD[0])
    assert world.server(a)["server_id"] == a_server and _moves(world) == []


# --- 2. blocks never trigger a failover -------------------------------------------------------------


def test_blocks_stop_the_ip_and_never_move_its_traffic(world: Scenario) -> None:
    a, b = "198.51.100.11", "198.51.100.12"
    a_server = _active(world, a, pool="p1")
    _warm_standby(world, b, pool="p1", hourly=400, daily=5000)
    world.at(T0 - timedelta(days=6)).send(b, delivered=3000, hours=10)
    # The MailWizz campaign sending that content through a's delivery server (its delivery log).
    campaign = world.mw.add_campaign("bb00000000011", status="sending")
    world.mw.log_delivery(campaign, a_server, T0, count=5)
    # 25 % of the mail refused by Gmail as likely unsolicited, 0.5 % hard bounces, no listing.
    world.at(T0).send(a, delivered=1490, block=500, hard=10, hours=6)
    with (
        running_mailwizz(FakeMailwizz(campaign_store=world.mw)) as api,
        MailwizzApi(base_url=api.base_url, auth=ApiKeyAuth(api.api_key)) as client,
    ):
        world.ctx.extras[MAILWIZZ_API_KEY] = client
        result = world.day()
    del world.ctx.extras[MAILWIZZ_API_KEY]
    assert [x["action"] for x in result["failover"]["actions"]] == ["paused"]
    assert world.ip(a).state == "quarantined" and world.server(a)["status"] == "inactive"
    assert world.pmta_cap(a) == 0
    hold = world.open_hold(a)
    assert hold is not None and (hold.cause, hold.trigger) == ("content", "blocks")
    alert = world.alert(f"failover:blocked:{a}")
    assert alert is not None and alert.severity == "critical" and "snowshoeing" in alert.text
    # The campaign stopped with the IP (through MailWizz's pause endpoint) and the alert says so.
    assert world.mw.campaign_status("bb00000000011") == "paused"
    assert "MailWizz campaigns paused through its API: bb00000000011" in alert.text
    for days in (0.5, 1, 3, 8):
        world.at(T0 + timedelta(days=days, hours=6))
        world.day()
        assert world.ip(b).state == "standby" and world.server(b)["status"] == "inactive"
    assert _moves(world) == []
    assert world.mw.campaign_status("bb00000000011") == "paused"  # never unpaused by the engine


# --- 3. no hops across pools, no chains -------------------------------------------------------------


def test_no_hand_over_to_another_pool(world: Scenario) -> None:
    a, c = "198.51.100.21", "198.51.100.23"
    _active(world, a, pool="p1")
    _warm_standby(world, c, pool="p2", hourly=400, daily=5000)
    world.at(T0 - timedelta(days=6)).send(c, delivered=3000, hours=10)
    world.at(T0).send(a, delivered=1000, hours=4)
    world.list_ip(a)
    result = world.day()
    assert [x["action"] for x in result["blacklists"]["failover"]["actions"]] == ["quarantine_only"]
    assert world.ip(a).state == "quarantined" and world.server(a)["status"] == "inactive"
    assert world.ip(c).state == "standby" and world.server(c)["status"] == "inactive"
    alert = world.alert(f"failover:{a}")
    assert alert is not None and alert.severity == "critical" and "no standby IP of its pool" in alert.text


def test_one_hop_per_pool_then_the_chain_stops(world: Scenario) -> None:
    a, b, d = "198.51.100.31", "198.51.100.32", "198.51.100.34"
    _active(world, a, pool="p1")
    b_server = _warm_standby(world, b, pool="p1")
    _warm_standby(world, d, pool="p1")
    world.at(T0 - timedelta(days=6)).send(b, delivered=3000, hours=10)
    world.send(d, delivered=3000, hours=10)
    world.at(T0).send(a, delivered=1200, hours=4)
    world.list_ip(a)
    world.day()
    assert _moves(world) == [("fail_over", world.ip(b).id)]
    assert world.ip(b).state == "warming" and world.server(b)["status"] == "active"
    assert world.server(b)["daily_quota"] == 1200  # min(proven 3,000, a's recent 1,200)

    # The standby that took the traffic is listed the next day: the listing follows the traffic.
    world.at(T0 + timedelta(days=1))
    world.send(b, delivered=1200, hours=4)
    world.list_ip(b)
    result = world.day()
    assert [x["action"] for x in result["blacklists"]["failover"]["actions"]] == ["refused"]
    assert world.ip(b).state == "quarantined" and world.server(b)["status"] == "inactive"
    assert world.ip(d).state == "standby" and world.server(d)["status"] == "inactive"
    hold = world.open_hold(b)
    assert hold is not None and any("follows the traffic" in r for r in hold.reasons)
    assert len(_moves(world)) == 1  # one hop in 24 hours, never two
    assert world.mw.row(b_server)["status"] == "inactive"


# --- 4. a listed IP stops at once and stays stopped -------------------------------------------------


def test_a_warming_ip_listed_mid_day_stops_within_the_blacklist_run(world: Scenario) -> None:
    w = "192.0.2.41"
    world.at(T0)
    server = world.mw.add_server(status="inactive")
    ip = make_ip(world.session, w, server_id=server, now=T0)
    plan = service.create_plan(world.session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    world.session.commit()
    service.start_plan(world.session, plan_id=plan.id, actor="test", now=T0, mailwizz=world.mw.adapter())
    world.session.commit()
    world.day()
    assert (world.server(w)["status"], world.pmta_cap(w)) == ("active", 2)
    world.send(w, delivered=10, hours=4)
    world.list_ip(w)
    world.job("blacklists")  # the listing is found: the same run stops the IP
    assert world.server(w)["status"] == "inactive" and world.pmta_cap(w) == 0
    assert world.ip(w).state == "quarantined"
    alert = world.alert(f"failover:{w}")
    assert alert is not None and alert.severity == "critical"
    # MailWizz ends a send that was running through the server and writes it back to active
    # (setIsNotInUse): the next mailwizz-retry run pauses it again.
    world.mw.mailwizz_send_ends(server)
    assert world.server(w)["status"] == "active"
    assert world.job("mailwizz-retry")["pauses_reapplied"] == 1
    assert world.server(w)["status"] == "inactive"
    # Every hourly warmup push until the next morning (and after) leaves it inactive.
    for _hour in range(20):
        world.later(hours=1)
        world.job("warmup")
        assert world.server(w)["status"] == "inactive"
    world.session.refresh(plan)
    assert plan.status == "aborted" and "listed on zen.spamhaus.org" in (plan.status_reason or "")


# --- 5. safe takeover volumes, never 0/0 ------------------------------------------------------------


def test_a_standby_takes_over_at_a_safe_volume_never_unlimited(world: Scenario) -> None:
    a, b = "198.51.100.51", "198.51.100.52"
    _active(world, a, pool="p1", daily=20_000)
    b_server = _warm_standby(world, b, pool="p1")  # its MailWizz row holds 0/0 (unlimited)
    # Its finished plan's last point is 100,000 a day: far above what a sends.
    standby = world.ip(b)
    finished = service.create_plan(world.session, ip_id=standby.id, preset="standard", actor="test", now=T0)
    finished.status = "completed"
    world.session.commit()
    world.at(T0).send(a, delivered=2000, hours=8)
    world.list_ip(a)
    result = world.day()
    (action,) = result["blacklists"]["failover"]["actions"]
    assert action["action"] == "fail_over"
    row = world.mw.row(b_server)
    assert (row["status"], row["daily_quota"]) == ("active", 2000)  # min(100,000, 2,000)
    assert 0 < row["hourly_quota"] <= row["daily_quota"]
    assert world.pmta_cap(b) == row["hourly_quota"]
    world.assert_no_unlimited_active_server()
    # It ramps from there under the normal gates: a one-point plan, completed on a clean day.
    world.send(b, delivered=2000, hours=10)
    world.at(T0 + timedelta(days=1, hours=1))
    world.day()
    assert world.ip(b).state == "active" and world.mw.row(b_server)["daily_quota"] == 2000
    world.assert_no_unlimited_active_server()


def test_a_standby_that_proved_less_ramps_up_to_the_listed_ips_volume(world: Scenario) -> None:
    a, b = "198.51.100.61", "198.51.100.62"
    _active(world, a, pool="p1")
    b_server = _warm_standby(world, b, pool="p1", hourly=0, daily=0)
    world.at(T0 - timedelta(days=6)).send(b, delivered=500, hours=10)  # proved 500 a day
    world.at(T0).send(a, delivered=2000, hours=8)
    world.list_ip(a)
    world.day()
    plan = world.plan(b)
    assert plan is not None and plan.schedule[0] == 500 and plan.schedule[-1] == 2000
    assert world.mw.row(b_server)["daily_quota"] == 500
    for day in range(1, 8):
        volume = world.mw.row(b_server)["daily_quota"]
        world.send(b, delivered=volume, hours=10)
        world.at(T0 + timedelta(days=day, hours=1))
        world.day()
        world.assert_no_unlimited_active_server()
        assert world.mw.row(b_server)["daily_quota"] <= 2000
    assert world.ip(b).state == "active" and world.mw.row(b_server)["daily_quota"] == 2000


# --- 6. Gmail's line is a gate ----------------------------------------------------------------------


def _warming(world: Scenario, address: str, schedule: list[int] | None = None) -> WarmupPlan:
    world.at(max(world.now, T0))
    server = world.mw.add_server(status="inactive")
    ip = make_ip(world.session, address, server_id=server, now=T0)
    plan = service.create_plan(
        world.session,
        ip_id=ip.id,
        preset=None if schedule else "cold",
        schedule=schedule,
        actor="test",
        now=T0,
    )
    world.session.commit()
    service.start_plan(
        world.session, plan_id=plan.id, actor="test", now=world.now, mailwizz=world.mw.adapter()
    )
    world.session.commit()
    return plan


def test_complaints_at_gmails_line_pause_the_plan_with_a_critical_alert(world: Scenario) -> None:
    w = "192.0.2.61"
    plan = _warming(world, w, schedule=[1400, 2000, 2800])
    world.send(w, delivered=1394, complaints=6, hours=12)  # 0.43 %
    world.at(T0 + timedelta(days=1))
    result = world.day()
    assert result["warmup"]["decided"] == {str(plan.id): "pause"}
    world.session.refresh(plan)
    assert plan.status == "paused" and "0.43%" in (plan.status_reason or "")
    assert world.server(w)["status"] == "inactive" and world.pmta_cap(w) == 0
    alert = world.alert(f"warmup:plan:{plan.id}:paused")
    assert alert is not None and alert.severity == "critical"
    # A clean day later it stays paused: only a person resumes it.
    world.at(T0 + timedelta(days=2))
    world.day()
    world.session.refresh(plan)
    assert plan.status == "paused" and world.server(w)["status"] == "inactive"


def test_two_hard_bounces_in_28_do_not_advance_and_alert_on_the_first_day(world: Scenario) -> None:
    w = "192.0.2.62"
    plan = _warming(world, w)
    for day in range(3):  # clean days up the cold curve: 20, 22, 25, then 28
        world.send(w, delivered=COLD[day], hours=10)
        world.at(T0 + timedelta(days=day + 1))
        world.day()
    assert world.server(w)["daily_quota"] == 28
    world.send(w, delivered=26, hard=2, hours=10)
    world.at(T0 + timedelta(days=4))
    result = world.day()
    assert result["warmup"]["decided"] == {str(plan.id): "hold"}
    assert world.server(w)["daily_quota"] == 28
    alert = world.alert(f"warmup:plan:{plan.id}:gates")
    assert alert is not None and alert.severity == "warning" and "hard bounces rate 7.1%" in alert.text


def test_sending_over_the_cap_is_flagged_and_blocks_advance(world: Scenario) -> None:
    w = "192.0.2.63"
    plan = _warming(world, w, schedule=[100, 150, 200])
    world.send(w, delivered=200, hours=10)  # twice the cap: MailWizz's or PowerMTA's cap did not hold
    world.at(T0 + timedelta(days=1))
    result = world.day()
    assert result["warmup"]["decided"] == {str(plan.id): "hold"}
    assert world.server(w)["daily_quota"] == 100
    alert = world.alert(f"warmup:plan:{plan.id}:gates")
    assert alert is not None and "cap is not holding" in alert.text


# --- clean advancing and the quarantine exit ---------------------------------------------------------


def test_clean_days_advance_one_point_a_day_and_a_quarantine_exits_through_warming(world: Scenario) -> None:
    w = "192.0.2.71"
    plan = _warming(world, w)
    quotas = []
    for day in range(5):
        quotas.append(world.server(w)["daily_quota"])
        world.send(w, delivered=quotas[-1], hours=10)
        world.at(T0 + timedelta(days=day + 1))
        world.day()
    assert quotas == list(COLD[:5])
    # Listed (a clean list): stopped, quarantined; delisted, it rests and re-warms from day 1.
    world.list_ip(w)
    world.day()
    assert world.ip(w).state == "quarantined" and world.server(w)["status"] == "inactive"
    assert world.open_hold(w) is None
    world.delist(w)
    world.at(world.now + timedelta(days=8))
    world.day()
    assert world.ip(w).state == "resting" and world.pmta_cap(w) == 0
    world.at(world.now + timedelta(days=8))
    world.day()
    new_plan = world.plan(w)
    assert new_plan is not None and new_plan.id != plan.id and world.ip(w).state == "warming"
    assert world.server(w)["daily_quota"] == COLD[0]
    states = [
        row.to_state
        for row in world.session.scalars(
            select(IpTransition).where(IpTransition.ip_id == world.ip(w).id).order_by(IpTransition.id)
        )
    ]
    assert states[-3:] == ["quarantined", "resting", "warming"]


# --- 7. decisions as of a time ----------------------------------------------------------------------


def test_jobs_run_at_a_time_is_recorded_and_refused_in_production_without_force(world: Scenario) -> None:
    url = world.ctx.settings.database_url
    done = run_cli("jobs", "run", "warmup", "--at", "2026-03-09T06:00:00Z", "--json", database_url=url)
    assert done.returncode == 0, done.stderr
    import json

    outcome = json.loads(done.stdout)
    assert outcome["result"]["as_of"] == "2026-03-09T06:00:00+00:00"
    assert outcome["result"]["day"] == "2026-03-09"
    from email_engine.platform.models import JobRun

    run = world.session.get(JobRun, outcome["run_id"])
    assert run is not None and run.trigger == "as_of"
    naive = run_cli("jobs", "run", "warmup", "--at", "2026-03-09T06:00:00", database_url=url)
    assert naive.returncode == 2 and "time zone" in naive.stderr
    refused = run_cli(
        "jobs",
        "run",
        "warmup",
        "--at",
        "2026-03-09T06:00:00Z",
        database_url=url,
        env={
            "ENVIRONMENT": "production",
            "API_KEY": generate_secret(),
            "JWT_SECRET_KEY": generate_secret(128),
        },
    )
    assert refused.returncode == 2 and "--force" in refused.stderr
