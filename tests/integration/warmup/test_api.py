"""The warmup HTTP API: happy paths, and malformed, oversize, hostile and duplicate input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup.jobs import MAILWIZZ_KEY
from email_engine.warmup.plan import PRESETS
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SIGNALS = SignalSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def wired(ctx: AppContext, mw: MailwizzTestDb) -> MailwizzTestDb:
    ctx.extras[MAILWIZZ_KEY] = mw.adapter()
    return mw


@pytest.fixture
def ip_with_server(session: Session, wired: MailwizzTestDb) -> tuple[int, int]:
    server = wired.add_server(status="inactive", hourly=7, daily=70)
    ip = make_ip(session, "203.0.113.5", server_id=server, now=NOW)
    session.commit()
    return ip.id, server


def test_presets_are_listed_with_their_curves(client: TestClient, viewer_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/warmup/presets", headers=viewer_headers)
    assert response.status_code == 200
    presets = {item["name"]: item for item in response.json()}
    assert set(presets) == set(PRESETS)
    assert presets["cold"]["curve"] == list(PRESETS["cold"].spec.curve)
    assert presets["cold"]["days"] == len(PRESETS["cold"].spec.curve)


def test_create_start_show_pause_resume_abort(
    client: TestClient,
    operator_headers: dict[str, str],
    ip_with_server: tuple[int, int],
    wired: MailwizzTestDb,
) -> None:
    ip_id, server = ip_with_server
    response = client.post(
        "/api/v1/warmup/plans", json={"ip_id": ip_id, "preset": "cold"}, headers=operator_headers
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["status"] == "created" and plan["day_number"] is None and plan["ip_state"] == "standby"
    assert wired.row(server)["status"] == "inactive"  # created only: nothing pushed

    started = client.post(f"/api/v1/warmup/plans/{plan['id']}/start", headers=operator_headers)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "running" and body["day_number"] == 1 and body["ip_state"] == "warming"
    assert body["today_limit"] == {"daily": 20, "hourly": 2}
    assert body["push"]["status"] == "applied"
    assert body["days"][0]["decision"] == "start" and body["days"][0]["reasons"]
    row = wired.row(server)
    assert (row["status"], row["daily_quota"], row["hourly_quota"]) == ("active", 20, 2)

    shown = client.get(f"/api/v1/warmup/plans/{plan['id']}", headers=operator_headers).json()
    assert shown["curve"] == list(PRESETS["cold"].spec.curve)
    listed = client.get("/api/v1/warmup/plans?status=running", headers=operator_headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == plan["id"]
    limits = client.get("/api/v1/warmup/limits", headers=operator_headers).json()
    assert limits == {
        str(ip_id): {
            "daily": 20,
            "hourly": 2,
            "providers": {"gmail": 7, "microsoft": 6, "yahoo": 4, "other": 10},
        }
    }

    paused = client.post(
        f"/api/v1/warmup/plans/{plan['id']}/pause", json={"reason": "list check"}, headers=operator_headers
    )
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert "list check" in paused.json()["status_reason"]
    assert wired.row(server)["status"] == "inactive"
    again = client.post(f"/api/v1/warmup/plans/{plan['id']}/pause", headers=operator_headers)
    assert again.status_code == 409
    hostile = client.post(
        f"/api/v1/warmup/plans/{plan['id']}/abort", json={"reason": "x\n}rm -rf"}, headers=operator_headers
    )
    assert hostile.status_code == 422 and "control characters" in hostile.text

    resumed = client.post(f"/api/v1/warmup/plans/{plan['id']}/resume", headers=operator_headers)
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert wired.row(server)["status"] == "active"

    aborted = client.post(f"/api/v1/warmup/plans/{plan['id']}/abort", headers=operator_headers)
    assert aborted.status_code == 200
    assert aborted.json()["status"] == "aborted" and aborted.json()["ip_state"] == "standby"
    assert wired.row(server)["status"] == "inactive"
    assert (
        client.post(f"/api/v1/warmup/plans/{plan['id']}/start", headers=operator_headers).status_code == 409
    )


def test_custom_schedule_with_start(
    client: TestClient,
    operator_headers: dict[str, str],
    ip_with_server: tuple[int, int],
    wired: MailwizzTestDb,
) -> None:
    ip_id, server = ip_with_server
    response = client.post(
        "/api/v1/warmup/plans",
        json={
            "ip_id": ip_id,
            "schedule": [50, 80, 120],
            "start": True,
            "gates": {"max_complaint_rate": 0.002},
            "provider_shares": {"gmail": 0.5},
            "active_hours": 10,
        },
        headers=operator_headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["curve"] == [50, 80, 120] and body["gates"]["max_complaint_rate"] == 0.002
    assert body["days"][0]["provider_limits"] == {"gmail": 25}
    row = wired.row(server)
    assert (row["daily_quota"], row["hourly_quota"], row["status"]) == (50, 5, "active")


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"schedule": [10, -1]}, 422, "between 1 and 10,000,000"),
        ({"schedule": [10, 10**12]}, 422, "between 1 and 10,000,000"),
        ({"schedule": [-1]}, 422, "between 1 and 10,000,000"),
        ({"schedule": []}, 422, "1 to 365 days"),
        ({"schedule": [10] * 366}, 422, "365"),
        ({"schedule": [10, 10.5]}, 422, ""),
        ({"schedule": ["10"]}, 422, ""),
        ({"schedule": [1_000_000]}, 422, "may not open above"),
        ({"schedule": [100, 1000]}, 422, "more than 2"),
        ({"preset": "cold", "schedule": [10]}, 422, "exactly one"),
        ({}, 422, "exactly one"),
        ({"preset": "warp-speed"}, 422, "Unknown preset"),
        ({"preset": "cold}\n"}, 422, ""),
        ({"preset": "cold", "gates": {"max_hard_bounce_rate": 5}}, 422, ""),
        ({"preset": "cold", "gates": {"explode": True}}, 422, ""),
        ({"preset": "cold", "provider_shares": {"gmail": 2}}, 422, "share"),
        ({"preset": "cold", "provider_shares": {"g mail": 0.1}}, 422, "Provider name"),
        ({"preset": "cold", "active_hours": 0}, 422, ""),
        ({"preset": "cold", "surprise": 1}, 422, ""),
    ],
)
def test_bad_plans_are_refused_and_nothing_reaches_mailwizz(
    client: TestClient,
    operator_headers: dict[str, str],
    ip_with_server: tuple[int, int],
    wired: MailwizzTestDb,
    payload: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    ip_id, server = ip_with_server
    before = wired.row(server)
    response = client.post(
        "/api/v1/warmup/plans", json={"ip_id": ip_id, "start": True, **payload}, headers=operator_headers
    )
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert wired.row(server) == before
    assert client.get("/api/v1/warmup/plans", headers=operator_headers).json()["total"] == 0


def test_unknown_ip_duplicate_plan_malformed_json_and_roles(
    client: TestClient,
    operator_headers: dict[str, str],
    viewer_headers: dict[str, str],
    ip_with_server: tuple[int, int],
) -> None:
    ip_id, _server = ip_with_server
    assert (
        client.post(
            "/api/v1/warmup/plans", json={"ip_id": 999, "preset": "cold"}, headers=operator_headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/warmup/plans", json={"ip_id": ip_id, "preset": "cold"}, headers=viewer_headers
        ).status_code
        == 403
    )
    first = client.post(
        "/api/v1/warmup/plans", json={"ip_id": ip_id, "preset": "cold"}, headers=operator_headers
    )
    assert first.status_code == 201
    duplicate = client.post(
        "/api/v1/warmup/plans", json={"ip_id": ip_id, "preset": "cold"}, headers=operator_headers
    )
    assert duplicate.status_code == 409 and "already has warmup plan" in duplicate.text
    broken = client.post(
        "/api/v1/warmup/plans",
        content=b'{"ip_id": 1, "preset": ',
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert client.get("/api/v1/warmup/plans/424242", headers=operator_headers).status_code == 404
    assert client.get(f"/api/v1/warmup/plans/{10**30}", headers=operator_headers).status_code == 422
    assert client.get("/api/v1/warmup/plans/-1", headers=operator_headers).status_code == 422
    assert client.get(f"/api/v1/warmup/plans?ip_id={10**30}", headers=operator_headers).status_code == 422
    assert client.get("/api/v1/warmup/plans?status=sideways", headers=operator_headers).status_code == 422
    assert client.post("/api/v1/warmup/plans/424242/resume", headers=operator_headers).status_code == 404
    assert client.get("/api/v1/warmup/plans", headers={}).status_code == 401
    assert client.get("/api/v1/warmup/failovers", headers=viewer_headers).json()["total"] == 0


def test_traffic_holds_are_listed_and_resolved_once_by_an_operator(
    client: TestClient,
    session: Session,
    wired: MailwizzTestDb,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    from email_engine.warmup import failover_service
    from email_engine.warmup.settings import WarmupSettings
    from tests.integration.warmup.helpers import feed_day, list_on

    server = wired.add_server(status="active", hourly=100, daily=1000)
    ip = make_ip(session, "203.0.113.9", server_id=server, now=NOW, state="active", pool="p9")
    feed_day(session, ip.address, NOW.date(), sent=1000, delivered=900, hard=100)
    list_on(session, ip.address, "zen.spamhaus.org", NOW)
    session.commit()
    failover_service.run_failover(
        session, now=NOW, mailwizz=wired.adapter(), settings=WarmupSettings(), signals=SIGNALS
    )
    session.commit()

    listing = client.get("/api/v1/warmup/holds", params={"open": "true"}, headers=viewer_headers)
    assert listing.status_code == 200
    (hold,) = listing.json()["items"]
    assert (hold["ip_id"], hold["cause"], hold["trigger"], hold["resolved_at"]) == (
        ip.id,
        "list",
        "listing",
        None,
    )
    metrics = client.get("/metrics").text
    assert f'email_engine_traffic_hold_open{{cause="list",ip="{ip.address}"}} 1.0' in metrics
    url = f"/api/v1/warmup/holds/{hold['id']}/resolve"
    assert client.post(url, json={"note": "list cleaned"}, headers=viewer_headers).status_code == 403
    for body in ({"note": ""}, {"note": "x" * 1001}, {"note": "a\nb"}, {}, {"note": "ok", "extra": 1}):
        response = client.post(url, json=body, headers=operator_headers)
        assert response.status_code == 422, (body, response.text)
    done = client.post(url, json={"note": "removed 100 hard bounces"}, headers=operator_headers)
    assert done.status_code == 200, done.text
    assert done.json()["resolution"] == "removed 100 hard bounces" and done.json()["resolved_by"]
    again = client.post(url, json={"note": "again"}, headers=operator_headers)
    assert again.status_code == 409
    assert (
        client.post(
            "/api/v1/warmup/holds/999999/resolve", json={"note": "x"}, headers=operator_headers
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/warmup/holds", params={"open": "true"}, headers=viewer_headers).json()["items"]
        == []
    )
    assert "email_engine_traffic_hold_open{" not in client.get("/metrics").text
    # Resolving leaves the IP stopped (quarantined): the normal recovery re-warms it later.
    assert wired.row(server)["status"] == "inactive"
