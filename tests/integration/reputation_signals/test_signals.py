"""Issue 19's done means for the joined signals, through the real jobs, API, database and peers:

- the SNDS and Postmaster adapters (against local servers shaped as documented) fill the daily series;
- a simulated RED day on one IP stops its warmup and raises one deduplicated alert;
- a Gmail spam rate of 0.35 % pauses the plan with that reason in the plan's history;
- failover is refused when SNDS says the list is the cause; preflight says NO-GO when our own IPs fail
  DMARC alignment; unknown senders using our domain raise an alert with the top sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.dmarc import service as dmarc_service
from email_engine.dmarc.archive import Limits
from email_engine.integrations.alerts.models import AlertState
from email_engine.integrations.postmaster.jobs import run_postmaster
from email_engine.integrations.postmaster.settings import PostmasterSettings
from email_engine.integrations.snds.jobs import run_snds
from email_engine.integrations.snds.settings import SndsSettings
from email_engine.ips import service as ips_service
from email_engine.outbox.models import OutboxEvent
from email_engine.platform.preflight import PreflightSettings
from email_engine.reputation_signals.jobs import run_signals
from email_engine.reputation_signals.preflight import check_dmarc_alignment
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup import failover_service
from email_engine.warmup import service as warmup_service
from email_engine.warmup.daily_run import run_warmup
from email_engine.warmup.models import WarmupPlan
from email_engine.warmup.settings import WarmupSettings
from tests.integration.warmup.helpers import feed_day, list_on
from tests.support.factories import make_ip
from tests.support.google_postmaster import PostmasterApi, ServiceAccount, TokenEndpoint
from tests.support.snds_server import SndsServer, data_line

SIGNALS = SignalSettings(_env_file=None)  # type: ignore[call-arg]

T0 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
D0 = T0.date()
IP = "192.0.2.10"
DOMAIN = "example.com"


def dmarc_xml(
    rows: list[tuple[str, int, bool]],
    *,
    day: date,
    reporter: str = "google.com",
    report_id: str = "r1",
    domain: str = DOMAIN,
) -> bytes:
    """An aggregate report (RFC 7489 Appendix C) for ``day``: (source IP, messages, aligned) rows."""
    begin = int(datetime.combine(day, time.min, tzinfo=UTC).timestamp())
    records = "".join(
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated><disposition>none"
        f"</disposition><dkim>{'pass' if ok else 'fail'}</dkim><spf>{'pass' if ok else 'fail'}</spf>"
        f"</policy_evaluated></row><identifiers><header_from>{domain}</header_from></identifiers></record>"
        for ip, count, ok in rows
    )
    return (
        f'<?xml version="1.0"?><feedback><report_metadata><org_name>{reporter}</org_name>'
        f"<email>dmarc@{reporter}</email><report_id>{report_id}</report_id><date_range><begin>{begin}</begin>"
        f"<end>{begin + 86399}</end></date_range></report_metadata><policy_published><domain>{domain}</domain>"
        f"<p>none</p></policy_published>{records}</feedback>"
    ).encode()


def import_report(session: Session, xml: bytes) -> None:
    outcome = dmarc_service.import_file(
        session, name="r.xml", data=xml, source="test", limits=Limits(), now=T0
    )
    assert outcome.status.value == "imported", outcome
    session.commit()


@pytest.fixture
def snds() -> Iterator[SndsServer]:
    with SndsServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[ServiceAccount, PostmasterApi]]:
    account = ServiceAccount(tmp_path / "sa.json")
    with TokenEndpoint(account) as tokens, PostmasterApi(tokens) as api:  # type: ignore[union-attr]
        account.write(tokens.token_uri)  # type: ignore[attr-defined]
        api.registered = {DOMAIN: "VERIFIED"}  # type: ignore[attr-defined]
        api.compliance[DOMAIN] = {
            "complianceData": {"rowData": [{"requirement": "SPF", "status": {"status": "COMPLIANT"}}]}
        }  # type: ignore[attr-defined]
        yield account, api  # type: ignore[misc]


def configure(ctx: AppContext, snds: SndsServer, google: tuple[ServiceAccount, PostmasterApi]) -> None:
    account, api = google
    ctx.settings.install(
        SndsSettings(_env_file=None, SNDS_KEY=snds.key, SNDS_BASE_URL=snds.url, SNDS_BACKFILL_DAYS=1),  # type: ignore[call-arg]
    )
    ctx.settings.install(
        PostmasterSettings(
            _env_file=None, POSTMASTER_CREDENTIALS_FILE=str(account.path), POSTMASTER_API_URL=api.url
        ),  # type: ignore[call-arg]
    )


def inventory(session: Session, state: str = "standby") -> Any:
    ip = make_ip(session, IP, server_id=None, now=T0, state=state)
    ips_service.create_domain(session, name=DOMAIN, dkim_selector="s1", now=T0)
    session.commit()
    return ip


def test_adapters_fill_the_daily_series_and_metrics(
    ctx: AppContext,
    session: Session,
    client: TestClient,
    viewer_headers: dict[str, str],
    snds: SndsServer,
    google: tuple[ServiceAccount, PostmasterApi],
) -> None:
    inventory(session)
    configure(ctx, snds, google)
    _account, api = google
    snds.days["latest"] = data_line(
        IP, D0, filter_result="YELLOW", complaint="0.2%", trap_hits=0, recipients=900
    )
    api.stats[DOMAIN] = {  # type: ignore[attr-defined]
        D0: {
            ("SPAM_RATE", ""): {"doubleValue": 0.0008},
            ("AUTH_SUCCESS_RATE", 'auth_type = "dkim"'): {"doubleValue": 0.99},
            ("DELIVERY_ERROR_RATE", ""): {"doubleValue": 0.01},
        }
    }
    import_report(session, dmarc_xml([(IP, 600, True), ("203.0.113.5", 40, False)], day=D0))
    feed_day(session, IP, D0, sent=1000, delivered=950, hard=20, complaints=2, block=5)
    session.commit()
    now = T0 + timedelta(days=1)
    assert run_snds(ctx, now)["rows"] == 1
    assert run_postmaster(ctx, now)["domains"][DOMAIN]["days"] == 1

    day = client.get(
        "/api/v1/reputation/daily",
        params={"key": IP, "since": D0.isoformat(), "until": D0.isoformat()},
        headers=viewer_headers,
    )
    assert day.status_code == 200, day.text
    series = day.json()
    assert series["kind"] == "ip" and series["gmail_domains"] == [DOMAIN]
    (row,) = series["days"]
    assert row["accounting"]["sent"] == 1000 and row["accounting"]["complaints"] == 2
    assert row["accounting"]["hard_bounce_rate"] == 0.02
    assert row["snds"]["filter_result"] == "YELLOW" and row["snds"]["complaint_rate"] == 0.002
    assert row["gmail"]["spam_rate"] == 0.0008 and row["gmail"]["dkim_success_rate"] == 0.99
    assert row["dmarc"] == {
        "messages": 600,
        "dmarc_pass": 600,
        "dkim_aligned": 600,
        "spf_aligned": 600,
        "pass_rate": 1.0,
        "dkim_alignment_rate": 1.0,
        "spf_alignment_rate": 1.0,
        "reporters": 1,
    }
    assert [s["name"] for s in row["signals"]] == ["snds_yellow"]

    by_domain = client.get(
        "/api/v1/reputation/daily",
        params={"key": DOMAIN, "since": D0.isoformat(), "until": D0.isoformat()},
        headers=viewer_headers,
    ).json()
    assert by_domain["kind"] == "domain"
    assert (
        by_domain["days"][0]["dmarc"]["messages"] == 640
        and by_domain["days"][0]["dmarc"]["dmarc_pass"] == 600
    )
    assert by_domain["days"][0]["gmail"]["spam_rate"] == 0.0008
    microsoft = client.get(
        "/api/v1/reputation/daily",
        params={"key": "microsoft", "since": D0.isoformat(), "until": D0.isoformat()},
        headers=viewer_headers,
    ).json()
    assert microsoft["kind"] == "provider" and microsoft["days"][0]["snds"]["filter_result"] == "YELLOW"
    gmail = client.get(
        "/api/v1/reputation/daily",
        params={"key": "gmail", "since": D0.isoformat(), "until": D0.isoformat()},
        headers=viewer_headers,
    ).json()
    assert gmail["days"][0]["gmail"]["spam_rate"] == 0.0008 and gmail["days"][0]["dmarc"]["messages"] == 640

    bad = client.get("/api/v1/reputation/daily", params={"key": "not an ip\x01"}, headers=viewer_headers)
    assert bad.status_code in (400, 422)
    backwards = client.get(
        "/api/v1/reputation/daily",
        params={"key": IP, "since": "2026-03-05", "until": "2026-03-01"},
        headers=viewer_headers,
    )
    assert backwards.status_code in (400, 422)


def test_metrics_show_the_newest_signals(
    ctx: AppContext,
    session: Session,
    client: TestClient,
    snds: SndsServer,
    google: tuple[ServiceAccount, PostmasterApi],
) -> None:
    from email_engine.clock import utcnow

    inventory(session)
    configure(ctx, snds, google)
    _account, api = google
    now = utcnow()
    yesterday = now.date() - timedelta(days=1)
    snds.days["latest"] = data_line(IP, yesterday, filter_result="YELLOW", trap_hits=2)
    api.stats[DOMAIN] = {yesterday: {("SPAM_RATE", ""): {"doubleValue": 0.0008}}}  # type: ignore[attr-defined]
    import_report(session, dmarc_xml([(IP, 600, True), ("203.0.113.5", 40, False)], day=yesterday))
    run_snds(ctx, now)
    run_postmaster(ctx, now)
    metrics = client.get("/metrics").text
    assert f'email_engine_snds_filter_result{{ip="{IP}"}} 1.0' in metrics
    assert f'email_engine_snds_trap_hits{{ip="{IP}"}} 2.0' in metrics
    assert f'email_engine_gmail_rate{{domain="{DOMAIN}",rate="spam"}} 0.0008' in metrics
    assert f'email_engine_gmail_compliant{{domain="{DOMAIN}"}} 1.0' in metrics
    assert f'email_engine_dmarc_messages{{domain="{DOMAIN}",result="pass"}} 600.0' in metrics
    assert f'email_engine_dmarc_messages{{domain="{DOMAIN}",result="fail"}} 40.0' in metrics


def _start_plan(session: Session) -> WarmupPlan:
    ip = inventory(session)
    plan = warmup_service.create_plan(session, ip_id=ip.id, preset="cold", actor="test", now=T0)
    warmup_service.start_plan(session, plan_id=plan.id, actor="test", now=T0, mailwizz=None)
    session.commit()
    return plan


def test_red_day_pauses_the_warmup_and_raises_one_deduplicated_alert(
    ctx: AppContext, session: Session, snds: SndsServer, google: tuple[ServiceAccount, PostmasterApi]
) -> None:
    plan = _start_plan(session)
    configure(ctx, snds, google)
    feed_day(session, IP, D0, sent=20, delivered=20)  # a clean day by our own accounting
    session.commit()
    snds.days["latest"] = data_line(IP, D0, filter_result="RED", recipients=20)
    day1 = T0 + timedelta(days=1)
    run_snds(ctx, day1)

    summary = run_warmup(session, now=day1, mailwizz=None, signals=SIGNALS)
    session.commit()
    assert summary["decided"] == {str(plan.id): "pause"}
    detail = warmup_service.plan_detail(session, plan.id)
    assert detail["status"] == "paused"
    reasons = detail["days"][-1]["reasons"]
    assert f"SNDS {D0.isoformat()}: Outlook.com filtered {IP} RED (most of its mail is spam)" in reasons
    assert detail["days"][-1]["results"]["provider_signals"][0]["name"] == "snds_red"

    # Three runs of the job, and the snds job once more in between: one alert, not three
    # (a critical alert reminds after ALERT_REMIND_CRITICAL_MINUTES, 60 by default).
    for minutes in (5, 20, 40):
        run_signals(ctx, day1 + timedelta(minutes=minutes))
        run_snds(ctx, day1 + timedelta(minutes=minutes + 1))
    alert = session.scalar(select(AlertState).where(AlertState.key == f"reputation:snds:{IP}"))
    assert (
        alert is not None
        and alert.status == "firing"
        and alert.severity == "critical"
        and alert.notifications == 1
    )
    events = [
        e for e in session.scalars(select(OutboxEvent)) if e.payload.get("key") == f"reputation:snds:{IP}"
    ]
    assert len(events) == 1

    # The next day is GREEN: the alert resolves; the plan stays paused until a person resumes it.
    snds.days["latest"] = data_line(IP, D0 + timedelta(days=1), filter_result="GREEN", recipients=5)
    day2 = day1 + timedelta(days=1)
    run_snds(ctx, day2)
    run_signals(ctx, day2)
    session.expire_all()
    assert (
        session.scalar(select(AlertState.status).where(AlertState.key == f"reputation:snds:{IP}"))
        == "resolved"
    )
    run_warmup(session, now=day2, mailwizz=None, signals=SIGNALS)
    session.commit()
    assert warmup_service.plan_detail(session, plan.id)["status"] == "paused"


def test_gmail_spam_rate_of_035_percent_pauses_the_plan_with_that_reason(
    ctx: AppContext, session: Session, snds: SndsServer, google: tuple[ServiceAccount, PostmasterApi]
) -> None:
    plan = _start_plan(session)
    configure(ctx, snds, google)
    _account, api = google
    import_report(session, dmarc_xml([(IP, 20, True)], day=D0))  # ties the IP to example.com
    feed_day(session, IP, D0, sent=20, delivered=20)
    session.commit()
    api.stats[DOMAIN] = {D0: {("SPAM_RATE", ""): {"doubleValue": 0.0035}}}  # type: ignore[attr-defined]
    day1 = T0 + timedelta(days=1)
    run_postmaster(ctx, day1)

    assert run_warmup(session, now=day1, mailwizz=None, signals=SIGNALS)["decided"] == {str(plan.id): "pause"}
    session.commit()
    detail = warmup_service.plan_detail(session, plan.id)
    assert detail["status"] == "paused"
    wanted = f"Gmail {D0.isoformat()}: spam rate of {DOMAIN} is 0.35%, at or over 0.30%"
    assert wanted in detail["days"][-1]["reasons"]
    assert wanted in (detail["status_reason"] or "")
    assert warmup_service.current_limits(session, now=day1)[plan.ip_id].daily == 0

    run_signals(ctx, day1)
    alert = session.scalar(select(AlertState).where(AlertState.key == f"reputation:gmail:{DOMAIN}"))
    assert alert is not None and alert.severity == "critical"


def test_a_hold_level_spam_rate_holds_then_three_in_a_row_pause(
    ctx: AppContext, session: Session, snds: SndsServer, google: tuple[ServiceAccount, PostmasterApi]
) -> None:
    plan = _start_plan(session)
    configure(ctx, snds, google)
    _account, api = google
    decisions = []
    for offset in range(3):
        day = D0 + timedelta(days=offset)
        import_report(session, dmarc_xml([(IP, 20, True)], day=day, report_id=f"r{offset}"))
        feed_day(session, IP, day, sent=20, delivered=20)
        session.commit()
        api.stats.setdefault(DOMAIN, {})[day] = {("SPAM_RATE", ""): {"doubleValue": 0.0012}}  # type: ignore[attr-defined]
        now = T0 + timedelta(days=offset + 1)
        run_postmaster(ctx, now)
        decisions.append(
            run_warmup(session, now=now, mailwizz=None, signals=SIGNALS)["decided"][str(plan.id)]
        )
        session.commit()
    assert decisions == ["hold", "hold", "pause"]


def test_failover_refused_when_snds_blames_the_list(
    ctx: AppContext, session: Session, snds: SndsServer, google: tuple[ServiceAccount, PostmasterApi]
) -> None:
    active = make_ip(session, IP, server_id=None, now=T0, state="active")
    standby = make_ip(session, "192.0.2.11", server_id=None, now=T0, state="warm-standby")
    session.commit()
    configure(ctx, snds, google)
    snds.days["latest"] = data_line(IP, D0, filter_result="RED", trap_hits=6, recipients=800)
    now = T0 + timedelta(hours=12)
    run_snds(ctx, now)
    list_on(session, IP, "zen.spamhaus.org", now)
    feed_day(session, IP, D0, sent=800, delivered=790)
    session.commit()
    summary = failover_service.run_failover(
        session, now=now, mailwizz=None, settings=WarmupSettings(), signals=SIGNALS
    )
    session.commit()
    (action,) = [a for a in summary["actions"] if a["ip_id"] == active.id]
    assert action["action"] == "refused"
    assert any("6 spam-trap hits" in reason for reason in action["reasons"]), action
    session.refresh(active)
    # Issue 20: the listed IP stops at once (quarantined); nothing moved to the standby.
    assert active.state == "quarantined"
    assert standby.state == "standby"


def test_preflight_no_go_when_our_ips_fail_dmarc_alignment(ctx: AppContext, session: Session) -> None:
    inventory(session)
    now = T0 + timedelta(days=1)
    import_report(session, dmarc_xml([(IP, 300, True), ("203.0.113.9", 50, False)], day=D0))
    (item,) = check_dmarc_alignment(ctx, PreflightSettings(), now)
    assert item.status == "pass"
    import_report(session, dmarc_xml([(IP, 100, False)], day=D0, reporter="Outlook.com", report_id="ms-1"))
    (item,) = check_dmarc_alignment(ctx, PreflightSettings(), now)
    assert item.status == "fail"
    assert (
        item.detail
        == f"{IP} failed DMARC alignment as {DOMAIN} on 100 of 400 messages (25.00%) at Outlook.com, google.com"
    )


def test_unknown_senders_alert_with_top_sources(ctx: AppContext, session: Session) -> None:
    inventory(session)
    rows = [(IP, 1000, True), *((f"203.0.113.{n}", 30 * n, False) for n in range(1, 6))]
    import_report(session, dmarc_xml(rows, day=D0))
    run_signals(ctx, T0 + timedelta(days=1))
    alert = session.scalar(select(AlertState).where(AlertState.key == f"dmarc:unknown-sources:{DOMAIN}"))
    assert alert is not None and alert.status == "firing"
    assert "450 messages with From: example.com from 5 IPs" in alert.text
    assert alert.text.splitlines()[1].startswith("203.0.113.5: 150 messages, 0 passing DMARC")
