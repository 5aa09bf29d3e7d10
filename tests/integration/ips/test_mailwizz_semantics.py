"""MailWizz as MailWizz behaves, on the real MariaDB with MailWizz's own install schema.

- a pause written while MailWizz is sending through the server (``in-use``) is undone by MailWizz's
  own ``setIsNotInUse()`` when that send ends (its statement runs here as SQL); the next engine run
  finds it and pauses again, so the server stays paused;
- a server on a MailWizz warmup plan (``warmup_plan_id``, 2.1.10+) gets a clear refusal instead of
  quotas MailWizz would rewrite within the hour, or is taken over when the operator says so;
- the actuation record says when MailWizz will apply new quotas (its 300 s quota cache);
- a MailWizz without ``warmup_plan_id`` (before 2.1.10) still works.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pymysql
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.integrations.mailwizz.quota import QUOTA_CACHE_SECONDS
from email_engine.ips import service
from email_engine.ips.actuation import MAILWIZZ_ADAPTER_KEY, pause_in_mailwizz
from email_engine.ips.jobs import run_mailwizz_retry
from email_engine.ips.models import Actuation
from tests.support.databases import MARIADB
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _latest(session: Session) -> Actuation:
    row = session.scalar(select(Actuation).order_by(Actuation.id.desc()).limit(1))
    assert row is not None
    return row


def test_a_pause_written_while_in_use_stays_paused_after_the_send_ends(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    server_id = mw.add_server(status="active", hourly=20, daily=200)
    ip = make_ip(session, "192.0.2.45", server_id=server_id, state="warming", now=NOW)
    session.commit()
    mw.mailwizz_send_starts(server_id)  # MailWizz picks the server for a campaign: in-use
    result = pause_in_mailwizz(session, mw.adapter(), ip=ip, now=NOW)
    session.commit()
    assert result.status == "applied" and result.changed == {"status": ["in-use", "inactive"]}
    record = _latest(session)
    assert record.applied is not None and record.applied["paused_while_in_use"] is True
    assert "setIsNotInUse" in record.applied["verify"]

    mw.mailwizz_send_ends(server_id)  # MailWizz's own transition, as SQL: the pause is undone
    assert mw.row(server_id)["status"] == "active"

    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    summary = run_mailwizz_retry(ctx, NOW + timedelta(minutes=10))  # the engine's next run
    assert (summary["pauses_checked"], summary["pauses_reapplied"]) == (1, 1)
    assert mw.row(server_id)["status"] == "inactive"
    # and it stays paused: the next run finds nothing to do, MailWizz no longer sends through it
    summary = run_mailwizz_retry(ctx, NOW + timedelta(minutes=20))
    assert (summary["pauses_checked"], summary["pauses_reapplied"]) == (1, 0)
    row = mw.row(server_id)
    assert (row["status"], row["hourly_quota"], row["daily_quota"]) == ("inactive", 20, 200)


def test_a_pause_on_an_idle_server_is_not_flagged(session: Session, mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=20, daily=200)
    ip = make_ip(session, "192.0.2.45", server_id=server_id, state="warming", now=NOW)
    session.commit()
    pause_in_mailwizz(session, mw.adapter(), ip=ip, now=NOW)
    session.commit()
    applied = _latest(session).applied
    assert applied is not None and "paused_while_in_use" not in applied


def test_the_quota_cache_is_recorded_with_the_time_mailwizz_applies_the_quota(
    session: Session, mw: MailwizzTestDb
) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.45", server_id=server_id, state="warming", now=NOW)
    session.commit()
    service.push_mailwizz_limits(session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW)
    session.commit()
    applied = _latest(session).applied
    assert applied is not None
    assert applied["quota_cache_seconds"] == QUOTA_CACHE_SECONDS == 300
    assert applied["quotas_effective_by"] == (NOW + timedelta(seconds=300)).isoformat()


def test_a_server_on_a_mailwizz_warmup_plan_is_refused_clearly(session: Session, mw: MailwizzTestDb) -> None:
    plan_id = mw.add_warmup_plan()
    server_id = mw.add_server(status="active", hourly=7, daily=70, warmup_plan_id=plan_id)
    ip = make_ip(session, "192.0.2.45", server_id=server_id, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    session.commit()
    assert result.status == "failed"
    assert result.error is not None
    assert f"warmup plan #{plan_id}" in result.error and "Keep one warmup" in result.error
    assert "MAILWIZZ_TAKE_OVER_WARMUP_PLANS" in result.error
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["warmup_plan_id"]) == (7, 70, plan_id)
    assert _latest(session).last_error == result.error
    # pausing never fights MailWizz (its warmup handler skips inactive servers): allowed
    assert pause_in_mailwizz(session, mw.adapter(), ip=ip, now=NOW).status == "applied"
    assert mw.row(server_id)["status"] == "inactive"


def test_taking_over_a_mailwizz_warmup_plan_detaches_it(session: Session, mw: MailwizzTestDb) -> None:
    plan_id = mw.add_warmup_plan()
    server_id = mw.add_server(status="inactive", hourly=7, daily=70, warmup_plan_id=plan_id)
    ip = make_ip(session, "192.0.2.45", server_id=server_id, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(take_over_warmup=True), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    session.commit()
    assert result.status == "applied"
    assert result.changed["warmup_plan_id"] == [plan_id, None]
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"], row["warmup_plan_id"]) == (
        5,
        50,
        "active",
        None,
    )
    applied = _latest(session).applied
    assert (
        applied is not None and applied["took_over_warmup_plan"] is True and applied["warmup_plan_id"] is None
    )


def test_a_mailwizz_older_than_warmup_plans_still_works() -> None:
    with throwaway_mailwizz_db(prefix="old_") as old:
        with pymysql.connect(**MARIADB, database=old.name, autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {old.table} DROP FOREIGN KEY `fk_old_delivery_server_ds_warmup_plan1`"
            )
            cursor.execute(f"ALTER TABLE {old.table} DROP COLUMN `warmup_plan_id`")
        server_id = old.add_server(status="inactive")
        adapter = old.adapter()
        update = adapter.set_quotas(server_id, hourly=3, daily=30)
        assert update.changed == {"hourly_quota": [0, 3], "daily_quota": [0, 30]}
        assert update.server.warmup_plan_id is None
        assert adapter.read_server(server_id).hourly_quota == 3
