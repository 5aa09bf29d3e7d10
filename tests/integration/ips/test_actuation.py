"""push_mailwizz_limits against the real MariaDB: idempotent, recorded, retried, visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import Conflict, InvalidInput
from email_engine.integrations.mailwizz.database import MailwizzDatabase
from email_engine.ips import service
from email_engine.ips.actuation import MAILWIZZ_ADAPTER_KEY
from email_engine.ips.jobs import run_mailwizz_retry
from email_engine.ips.models import Actuation
from tests.support.factories import free_port, make_ip
from tests.support.mailwizz_db import MailwizzTestDb

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _actuations(session: Session) -> list[Actuation]:
    return list(session.scalars(select(Actuation).order_by(Actuation.id)))


def test_push_writes_quotas_and_status_and_records_it(session: Session, mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    session.commit()
    assert result.status == "applied"
    assert result.changed == {
        "hourly_quota": [0, 5],
        "daily_quota": [0, 50],
        "status": ["inactive", "active"],
    }
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"]) == (5, 50, "active")
    [actuation] = _actuations(session)
    assert actuation.status == "applied" and actuation.attempts == 1 and actuation.applied_at == NOW
    assert actuation.desired == {
        "server_id": server_id,
        "hourly_quota": 5,
        "daily_quota": 50,
        "status": "active",
    }
    assert actuation.applied is not None and actuation.applied["daily_quota"] == 50


def test_second_identical_push_writes_nothing_and_reuses_the_row(
    session: Session, mw: MailwizzTestDb
) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    adapter = mw.adapter()
    service.push_mailwizz_limits(session, adapter, ip=ip, hourly=5, daily=50, active=True, now=NOW)
    before = mw.row(server_id)
    again = service.push_mailwizz_limits(
        session, adapter, ip=ip, hourly=5, daily=50, active=True, now=NOW + timedelta(hours=1)
    )
    session.commit()
    assert again.status == "applied" and again.changed == {}
    assert mw.row(server_id) == before
    assert len(_actuations(session)) == 1


def test_drift_in_mailwizz_is_corrected(session: Session, mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    service.push_mailwizz_limits(session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW)
    with mw.connect() as conn, conn.cursor() as cursor:  # someone raises the quota by hand
        cursor.execute(f"UPDATE {mw.table} SET hourly_quota = 5000 WHERE server_id = %s", (server_id,))
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    assert result.changed == {"hourly_quota": [5000, 5]}
    assert mw.row(server_id)["hourly_quota"] == 5


def test_unreachable_database_leaves_a_visible_failed_row_and_the_next_run_retries_it(
    session: Session, mw: MailwizzTestDb, client: TestClient, operator_headers: dict[str, str]
) -> None:
    server_id = mw.add_server(status="inactive", hourly=1, daily=10)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    down = MailwizzDatabase(
        host="127.0.0.1", port=free_port(), user="root", password="", database=mw.name, connect_timeout=1.0
    )
    failed = service.push_mailwizz_limits(session, down, ip=ip, hourly=5, daily=50, active=True, now=NOW)
    session.commit()
    assert failed.status == "failed" and failed.error is not None and "not reachable" in failed.error
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"]) == (1, 10, "inactive")
    page = client.get(f"/api/v1/ips/{ip.id}/actuation", headers=operator_headers).json()
    assert page["total"] == 1
    assert page["items"][0]["status"] == "failed" and "not reachable" in page["items"][0]["last_error"]

    retried = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW + timedelta(minutes=10)
    )
    session.commit()
    assert retried.status == "applied" and retried.actuation_id == failed.actuation_id
    [actuation] = _actuations(session)
    assert actuation.attempts == 2 and actuation.last_error is None
    assert mw.row(server_id)["daily_quota"] == 50


def test_new_values_supersede_an_unfinished_push(session: Session, mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    down = MailwizzDatabase(
        host="127.0.0.1", port=free_port(), user="root", password="", database=mw.name, connect_timeout=1.0
    )
    service.push_mailwizz_limits(session, down, ip=ip, hourly=5, daily=50, active=True, now=NOW)
    service.push_mailwizz_limits(session, mw.adapter(), ip=ip, hourly=8, daily=80, active=True, now=NOW)
    session.commit()
    assert [a.status for a in _actuations(session)] == ["superseded", "applied"]


def test_missing_server_row_fails_visibly(session: Session, mw: MailwizzTestDb) -> None:
    ip = make_ip(session, "192.0.2.44", server_id=987654, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    assert result.status == "failed" and result.error is not None and "987654" in result.error
    assert mw.all_rows() == []


@pytest.mark.parametrize(("hourly", "daily"), [(-1, 50), (5, -1), (10**12, 10**12), (0, 50), (60, 50)])
def test_bad_quotas_raise_and_nothing_is_written_anywhere(
    session: Session, mw: MailwizzTestDb, hourly: int, daily: int
) -> None:
    server_id = mw.add_server(status="inactive", hourly=1, daily=10)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    with pytest.raises(InvalidInput):
        service.push_mailwizz_limits(
            session, mw.adapter(), ip=ip, hourly=hourly, daily=daily, active=True, now=NOW
        )
    assert _actuations(session) == []
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"]) == (1, 10, "inactive")


@pytest.mark.parametrize("state", ["quarantined", "resting", "retired", "standby"])
def test_a_paused_ip_cannot_be_made_active_in_mailwizz(
    session: Session, mw: MailwizzTestDb, state: str
) -> None:
    server_id = mw.add_server(status="active", hourly=5, daily=50)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state=state, now=NOW)
    session.commit()
    with pytest.raises(Conflict, match=state):
        service.push_mailwizz_limits(session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW)
    paused = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=None, daily=None, active=False, now=NOW
    )
    assert paused.status == "applied" and paused.changed == {"status": ["active", "inactive"]}
    assert mw.row(server_id)["status"] == "inactive"


def test_ip_without_a_mailwizz_server_is_skipped(session: Session, mw: MailwizzTestDb) -> None:
    ip = make_ip(session, "192.0.2.44", server_id=None, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=5, daily=50, active=True, now=NOW
    )
    assert result.status == "skipped"
    assert int(session.scalar(select(func.count()).select_from(Actuation)) or 0) == 0


def _down(mw: MailwizzTestDb) -> MailwizzDatabase:
    return MailwizzDatabase(
        host="127.0.0.1", port=free_port(), user="root", password="", database=mw.name, connect_timeout=1.0
    )


def test_an_ip_leaving_the_sending_states_is_paused_in_mailwizz_at_once(
    ctx: AppContext,
    session: Session,
    mw: MailwizzTestDb,
    client: TestClient,
    operator_headers: dict[str, str],
) -> None:
    server_id = mw.add_server(status="active", hourly=5, daily=50)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    response = client.post(
        f"/api/v1/ips/{ip.id}/transition",
        json={"to": "quarantined", "reason": "listed"},
        headers=operator_headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["mailwizz"]["status"] == "applied"
    row = mw.row(server_id)
    assert (row["status"], row["hourly_quota"], row["daily_quota"]) == ("inactive", 5, 50)
    page = client.get(f"/api/v1/ips/{ip.id}/actuation", headers=operator_headers).json()
    assert page["items"][0]["desired"] == {"server_id": server_id, "status": "inactive"}


def test_the_pause_is_kept_and_retried_when_mailwizz_is_down(
    ctx: AppContext,
    session: Session,
    mw: MailwizzTestDb,
    client: TestClient,
    operator_headers: dict[str, str],
) -> None:
    server_id = mw.add_server(status="active", hourly=5, daily=50)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="active", now=NOW)
    session.commit()
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = _down(mw)
    response = client.post(
        f"/api/v1/ips/{ip.id}/transition", json={"to": "resting", "reason": "rest"}, headers=operator_headers
    )
    assert response.status_code == 201  # the transition stands; the push is visible as failed
    assert response.json()["mailwizz"]["status"] == "failed"
    assert mw.row(server_id)["status"] == "active"
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    summary = run_mailwizz_retry(ctx, NOW + timedelta(minutes=10))
    assert summary == {
        "retried": 1,
        "applied": 1,
        "failed": 0,
        "superseded": 0,
        "pauses_checked": 1,  # the pause just written, read back: still paused
        "pauses_reapplied": 0,
        "pauses_failed": 0,
    }
    assert mw.row(server_id)["status"] == "inactive"
    assert run_mailwizz_retry(ctx, NOW + timedelta(minutes=20))["retried"] == 0


def test_retry_drops_a_failed_activation_once_the_ip_stopped_sending(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    server_id = mw.add_server(status="inactive")
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    service.push_mailwizz_limits(session, _down(mw), ip=ip, hourly=5, daily=50, active=True, now=NOW)
    service.transition_ip(
        session, ip_id=ip.id, to_state="quarantined", reason="listed", actor="test", now=NOW
    )
    session.commit()
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    assert run_mailwizz_retry(ctx, NOW)["superseded"] == 1
    assert mw.row(server_id)["status"] == "inactive"


def test_retry_job_is_skipped_without_mailwizz(ctx: AppContext) -> None:
    assert "skipped" in run_mailwizz_retry(ctx, NOW)


@pytest.mark.parametrize(("hourly", "daily"), [(None, None), (5, None), (None, 50)])
def test_an_activation_always_carries_both_quotas(
    session: Session, mw: MailwizzTestDb, hourly: int | None, daily: int | None
) -> None:
    """A quota left as it is may be 0, which MailWizz reads as unlimited: never activate without both."""
    server_id = mw.add_server(status="inactive", hourly=0, daily=0)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    with pytest.raises(InvalidInput, match="explicit hourly and daily quotas"):
        service.push_mailwizz_limits(
            session, mw.adapter(), ip=ip, hourly=hourly, daily=daily, active=True, now=NOW
        )
    assert _actuations(session) == []
    assert (mw.row(server_id)["status"], mw.row(server_id)["daily_quota"]) == ("inactive", 0)


def test_a_server_holding_a_zero_quota_can_always_be_paused(session: Session, mw: MailwizzTestDb) -> None:
    """Someone set 0 (unlimited) by hand on a running server: the engine's pause still goes through,
    and a later pause after MailWizz reverted it (setIsNotInUse) too."""
    server_id = mw.add_server(status="active", hourly=0, daily=500)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=None, daily=400, active=False, now=NOW
    )
    assert result.status == "applied" and mw.row(server_id)["status"] == "inactive"
    mw.mailwizz_send_ends(server_id)
    result = service.push_mailwizz_limits(
        session, mw.adapter(), ip=ip, hourly=None, daily=300, active=False, now=NOW
    )
    assert result.status == "applied" and mw.row(server_id)["status"] == "inactive"


def test_retry_never_replays_an_activation_without_quotas(
    ctx: AppContext, session: Session, mw: MailwizzTestDb
) -> None:
    """An activation recorded before every activation carried its quotas is superseded, not replayed."""
    server_id = mw.add_server(status="inactive", hourly=0, daily=0)
    ip = make_ip(session, "192.0.2.44", server_id=server_id, state="warming", now=NOW)
    session.commit()
    session.add(
        Actuation(
            ip_id=ip.id,
            target="mailwizz",
            desired={"server_id": server_id, "status": "active"},
            applied=None,
            status="failed",
            attempts=1,
            last_error="MailWizz was down",
            created_at=NOW,
        )
    )
    session.commit()
    ctx.extras[MAILWIZZ_ADAPTER_KEY] = mw.adapter()
    assert run_mailwizz_retry(ctx, NOW)["superseded"] == 1
    assert mw.row(server_id)["status"] == "inactive"
