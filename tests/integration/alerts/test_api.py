"""GET /api/v1/alerts and POST /api/v1/alerts/test."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.integrations.alerts.service import raise_alert, resolve_alert
from email_engine.outbox.models import OutboxEvent

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_active_alerts_list(client: TestClient, ctx: AppContext, viewer_headers: dict[str, str]) -> None:
    with ctx.session_factory() as session:
        raise_alert(session, key="a", severity="warning", title="A <1>", text="t", now=T0)
        raise_alert(session, key="b", severity="critical", title="B", text="t", now=T0)
        resolve_alert(session, key="b", now=T0)
        session.commit()
    body = client.get("/api/v1/alerts", headers=viewer_headers).json()
    assert [(a["key"], a["severity"], a["title"]) for a in body] == [("a", "warning", "A <1>")]


def test_test_message_is_queued_for_operators_only(
    client: TestClient, ctx: AppContext, viewer_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    assert client.post("/api/v1/alerts/test", headers=viewer_headers).status_code == 403
    queued = client.post("/api/v1/alerts/test", headers=operator_headers, json={"message": "hi & <b>"})
    assert queued.status_code == 202
    assert client.post("/api/v1/alerts/test", headers=operator_headers).status_code == 202
    too_long = client.post("/api/v1/alerts/test", headers=operator_headers, json={"message": "x" * 1001})
    assert too_long.status_code == 422
    unknown = client.post("/api/v1/alerts/test", headers=operator_headers, json={"mesage": "typo"})
    assert unknown.status_code == 422
    with ctx.session_factory() as session:
        events = list(session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "alert")))
    assert {e.payload["text"] for e in events} >= {"hi & <b>"}
    assert all(e.payload["state"] == "test" for e in events)
