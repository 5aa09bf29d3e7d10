"""Stop, don't rotate: when the list is the cause, the MailWizz campaigns that were sending through
the stopped IP's delivery server are paused through MailWizz's API — exactly those, never toggled back.

Real parts: the engine's database, MailWizz's own ``campaign`` / ``campaign_delivery_log`` /
``delivery_server`` tables on MariaDB (tests/support/mailwizz_schema.sql), and a MailWizz-shaped REST
API on loopback (tests/support/mailwizz_http.py) whose pause-unpause toggles the status in that same
``campaign`` table, as MailWizz's ``Campaign::pauseUnpause()`` does. The failover job runs through its
JobSpec with the API client built from settings (``MAILWIZZ_API_URL`` + ``MAILWIZZ_API_KEY``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.auth.models import AuditEntry
from email_engine.context import AppContext
from email_engine.integrations.alerts.models import AlertState
from email_engine.integrations.mailwizz.campaigns import CAMPAIGN_PAUSE_KIND, pause_campaign
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.outbox.models import OutboxEvent
from email_engine.warmup import holds
from email_engine.warmup.jobs import JOBS, MAILWIZZ_API_KEY, MAILWIZZ_KEY
from email_engine.warmup.models import FailoverEvent
from email_engine.warmup.senders import SENDERS, send_campaign_pauses
from tests.integration.warmup.helpers import feed_day, list_on
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb
from tests.support.mailwizz_http import FakeMailwizz, running_mailwizz

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
API = MailwizzSettings(_env_file=None, MAILWIZZ_API_KEY="test-api-key-0123456789")  # type: ignore[call-arg]
LISTED, OTHER = "192.0.2.81", "192.0.2.82"
FAILOVER = next(job for job in JOBS if job.name == "failover")


@pytest.fixture
def fake(mw: MailwizzTestDb) -> Iterator[FakeMailwizz]:
    with running_mailwizz(FakeMailwizz(campaign_store=mw)) as server:
        yield server


def _world(
    ctx: AppContext, session: Session, mw: MailwizzTestDb, fake: FakeMailwizz | None
) -> dict[str, Any]:
    """Two active IPs; six campaigns; the first IP sends 9 % hard bounces today and gets listed."""
    ctx.extras[MAILWIZZ_KEY] = mw.adapter()
    if fake is not None:
        ctx.settings.install(API.model_copy(update={"api_url": fake.base_url}))
    listed_server = mw.add_server(status="active", hourly=400, daily=5000)
    other_server = mw.add_server(status="active", hourly=400, daily=5000)
    make_ip(session, LISTED, server_id=listed_server, now=T0 - timedelta(days=60), state="active", pool="p1")
    make_ip(session, OTHER, server_id=other_server, now=T0 - timedelta(days=60), state="active", pool="p2")
    uids = {
        "sending": "aa00000000001",  # sending through the listed IP's server today -> paused
        "processing": "aa00000000002",  # processing (between batches), same server -> paused
        "paused": "aa00000000003",  # paused already -> never touched (the endpoint toggles)
        "elsewhere": "aa00000000004",  # sending, but only through the other server -> not touched
        "long_ago": "aa00000000005",  # sending; used the listed server 10 days ago only -> not touched
        "sent": "aa00000000006",  # finished -> not touched
    }
    status = {"sending": "sending", "processing": "processing", "paused": "paused", "sent": "sent"}
    ids = {key: mw.add_campaign(uid, status=status.get(key, "sending")) for key, uid in uids.items()}
    for key in ("sending", "processing", "paused", "sent"):
        mw.log_delivery(ids[key], listed_server, T0 - timedelta(hours=2), count=3)
    mw.log_delivery(ids["elsewhere"], other_server, T0 - timedelta(hours=2), count=3)
    mw.log_delivery(ids["long_ago"], listed_server, T0 - timedelta(days=10), count=3)
    mw.log_delivery(ids["long_ago"], other_server, T0 - timedelta(hours=1), count=3)
    feed_day(session, LISTED, T0.date(), sent=1000, delivered=910, hard=90)
    feed_day(session, OTHER, T0.date(), sent=1000, delivered=1000)
    list_on(session, LISTED, "zen.spamhaus.org", T0)
    session.commit()
    return {"uids": uids, "listed_server": listed_server}


def _statuses(mw: MailwizzTestDb, uids: dict[str, str]) -> dict[str, str | None]:
    return {key: mw.campaign_status(uid) for key, uid in uids.items()}


def _alert(session: Session) -> AlertState:
    session.expire_all()
    alert = session.scalar(select(AlertState).where(AlertState.key == f"failover:refused:{LISTED}"))
    assert alert is not None
    return alert


def _queued(session: Session) -> list[OutboxEvent]:
    return list(session.scalars(select(OutboxEvent).where(OutboxEvent.kind == CAMPAIGN_PAUSE_KIND)))


def test_the_list_is_the_cause_pauses_exactly_the_campaigns_sending_through_the_ip(
    ctx: AppContext, session: Session, mw: MailwizzTestDb, fake: FakeMailwizz
) -> None:
    world = _world(ctx, session, mw, fake)
    uids = world["uids"]

    summary = FAILOVER.run(ctx, T0 + timedelta(minutes=1))
    [action] = summary["actions"]
    assert action["action"] == "refused"
    assert action["campaigns"]["paused"] == [uids["sending"], uids["processing"]]
    assert action["campaigns"]["found"] == [uids["sending"], uids["processing"]]
    assert _statuses(mw, uids) == {
        "sending": "paused",
        "processing": "paused",
        "paused": "paused",
        "elsewhere": "sending",
        "long_ago": "sending",
        "sent": "sent",
    }
    # Read first, toggle only what can be paused: one PUT per campaign paused, none for the others.
    puts = [path for method, path in fake.calls if method == "PUT"]
    assert sorted(puts) == sorted(f"/campaigns/{uids[k]}/pause-unpause" for k in ("sending", "processing"))
    # The IP itself stopped too; the alert, the failover event and the audit name the campaigns.
    assert mw.row(world["listed_server"])["status"] == "inactive"
    alert = _alert(session)
    assert alert.severity == "critical"
    assert f"MailWizz campaigns paused through its API: {uids['sending']}, {uids['processing']}" in alert.text
    event = session.scalar(select(FailoverEvent).where(FailoverEvent.action == "refused"))
    assert event is not None and any(uids["sending"] in reason for reason in event.reasons)
    audits = session.scalars(select(AuditEntry).where(AuditEntry.actor == "job:failover")).all()
    assert sorted(a.target for a in audits) == sorted(
        f"mailwizz:campaigns/{uids[k]}/pause-unpause" for k in ("sending", "processing")
    )
    assert all(a.actor_kind == "job" and a.details and a.details["to"] == "paused" for a in audits)
    assert _queued(session) == []

    # Later runs (the same day, the next day) never toggle them back, and the engine never unpauses.
    calls = len(fake.calls)
    for later in (timedelta(minutes=16), timedelta(days=1, minutes=1)):
        FAILOVER.run(ctx, T0 + later)
    assert [c for c in fake.calls[calls:] if c[0] == "PUT"] == []
    assert _statuses(mw, uids)["sending"] == "paused" and _statuses(mw, uids)["processing"] == "paused"
    # Asked to pause an already paused campaign, the pause reads it and leaves it alone.
    from email_engine.integrations.mailwizz.api import ApiKeyAuth, MailwizzApi

    with MailwizzApi(base_url=fake.base_url, auth=ApiKeyAuth(fake.api_key)) as api:
        again = pause_campaign(api, uids["sending"])
    assert (again.outcome, again.status) == ("not-pausable", "paused")
    assert mw.campaign_status(uids["sending"]) == "paused"


def test_mailwizz_api_down_names_the_campaigns_and_the_outbox_retries(
    ctx: AppContext, session: Session, mw: MailwizzTestDb, fake: FakeMailwizz
) -> None:
    world = _world(ctx, session, mw, fake)
    uids = world["uids"]
    fake.fail_status = 503

    summary = FAILOVER.run(ctx, T0 + timedelta(minutes=1))
    [action] = summary["actions"]
    assert action["action"] == "refused" and summary["errors"] == []
    assert action["campaigns"]["paused"] == []
    assert action["campaigns"]["by_hand"] == [uids["sending"], uids["processing"]]
    # Nothing crashed: the IP is stopped and held; the alert says which campaigns to pause by hand.
    assert mw.row(world["listed_server"])["status"] == "inactive"
    assert holds.open_hold(session, action["ip_id"]) is not None
    alert = _alert(session)
    assert "HTTP 503" in alert.text
    assert f"pause them by hand: {uids['sending']}, {uids['processing']}" in alert.text
    assert _statuses(mw, uids)["sending"] == "sending"
    # A MailWizz that does not answer costs one call, not one per campaign.
    assert fake.calls == [("GET", f"/campaigns/{uids['sending']}")]

    # The outbox retries with the same read-first rule once MailWizz answers again.
    [queued] = _queued(session)
    assert queued.payload["campaign_uids"] == [uids["sending"], uids["processing"]]
    assert SENDERS[CAMPAIGN_PAUSE_KIND] is send_campaign_pauses
    [still_down] = send_campaign_pauses(ctx, [queued])
    assert not still_down.ok and still_down.retryable
    fake.fail_status = None
    mw.set_campaign_status(uids["processing"], "paused")  # someone paused this one by hand meanwhile
    calls = len(fake.calls)
    [result] = send_campaign_pauses(ctx, [queued])
    assert result.ok
    assert _statuses(mw, uids)["sending"] == "paused" and _statuses(mw, uids)["processing"] == "paused"
    assert [c for c in fake.calls[calls:] if c[0] == "PUT"] == [
        ("PUT", f"/campaigns/{uids['sending']}/pause-unpause")
    ]


def test_a_resolved_hold_drops_the_queued_retry(
    ctx: AppContext, session: Session, mw: MailwizzTestDb, fake: FakeMailwizz
) -> None:
    world = _world(ctx, session, mw, fake)
    fake.fail_status = 503
    [action] = FAILOVER.run(ctx, T0 + timedelta(minutes=1))["actions"]
    holds.resolve_hold(session, hold_id=action["hold_id"], note="list cleaned", actor="ops", now=T0)
    session.commit()
    fake.fail_status = None
    calls = len(fake.calls)
    [result] = send_campaign_pauses(ctx, _queued(session))
    assert result.ok and fake.calls[calls:] == []
    assert mw.campaign_status(world["uids"]["sending"]) == "sending"


def test_without_mailwizz_api_the_alert_names_the_campaigns_to_pause_by_hand(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    world = _world(ctx, session, mw, None)
    uids = world["uids"]
    [action] = FAILOVER.run(ctx, T0 + timedelta(minutes=1))["actions"]
    assert action["campaigns"]["by_hand"] == [uids["sending"], uids["processing"]]
    alert = _alert(session)
    assert "MailWizz's API is not configured: pause these campaigns by hand" in alert.text
    assert uids["sending"] in alert.text and uids["processing"] in alert.text
    assert uids["elsewhere"] not in alert.text and uids["paused"] not in alert.text
    assert _statuses(mw, uids)["sending"] == "sending"


class _BrokenApi:
    """A client that fails in a way nobody planned for (a bug, not MailWizz being down)."""

    def campaign_status(self, campaign_uid: str) -> str | None:
        raise RuntimeError("unexpected")

    def pause_unpause(self, campaign_uid: str) -> str | None:
        raise AssertionError("never reached")


def test_an_unexpected_error_while_pausing_campaigns_never_undoes_the_stop(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    world = _world(ctx, session, mw, None)
    ctx.extras[MAILWIZZ_API_KEY] = _BrokenApi()
    summary = FAILOVER.run(ctx, T0 + timedelta(minutes=1))
    [action] = summary["actions"]
    assert action["action"] == "refused" and summary["errors"] == []
    assert action["campaigns"] == {"error": "RuntimeError"}
    assert mw.row(world["listed_server"])["status"] == "inactive"
    assert holds.open_hold(session, action["ip_id"]) is not None
    assert "failed (RuntimeError): pause them by hand" in _alert(session).text
