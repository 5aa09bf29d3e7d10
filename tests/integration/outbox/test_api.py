"""GET /api/v1/outbox and POST /api/v1/outbox/{id}/retry."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from email_engine.context import AppContext
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.service import enqueue_event

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def seed(ctx: AppContext) -> dict[str, int]:
    with ctx.session_factory() as session:
        for key, kind in (("a", "alert"), ("b", "bounce"), ("c", "bounce"), ("d", "bounce")):
            enqueue_event(session, kind=kind, payload={"rcpt": "x@example.com"}, idempotency_key=key, now=T0)
        session.flush()
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.idempotency_key == "b")
            .values(status="dead", attempts=12, last_error="peer answered 503")
        )
        session.execute(
            update(OutboxEvent).where(OutboxEvent.idempotency_key == "c").values(status="sent", sent_at=T0)
        )
        session.commit()
        return {e.idempotency_key: e.id for e in session.scalars(select(OutboxEvent))}


def test_overview_counts_and_dead_events_without_payloads(
    client: TestClient, ctx: AppContext, viewer_headers: dict[str, str]
) -> None:
    ids = seed(ctx)
    body = client.get("/api/v1/outbox", headers=viewer_headers).json()
    assert body["counts"]["bounce"] == {"pending": 1, "sending": 0, "sent": 1, "dead": 1}
    assert body["counts"]["alert"]["pending"] == 1
    assert body["backlog"] == {"alert": 1, "bounce": 1}
    assert body["oldest_undelivered_at"].startswith("2026-11-24T12:00")
    assert [(d["id"], d["attempts"], d["last_error"]) for d in body["dead"]] == [
        (ids["b"], 12, "peer answered 503")
    ]
    assert "payload" not in body["dead"][0]
    assert client.get("/api/v1/outbox?dead_limit=0", headers=viewer_headers).json()["dead"] == []
    assert client.get("/api/v1/outbox?dead_limit=9999", headers=viewer_headers).status_code == 422
    assert client.get("/api/v1/outbox").status_code == 401


def test_retry_needs_operator_and_requeues_dead_events(
    client: TestClient,
    ctx: AppContext,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    ids = seed(ctx)
    assert client.post(f"/api/v1/outbox/{ids['b']}/retry", headers=viewer_headers).status_code == 403
    response = client.post(f"/api/v1/outbox/{ids['b']}/retry", headers=operator_headers)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    sent = client.post(f"/api/v1/outbox/{ids['c']}/retry", headers=operator_headers)
    assert sent.status_code == 409 and "not sent again" in sent.json()["detail"]
    missing = client.post("/api/v1/outbox/987654/retry", headers=operator_headers)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert client.post("/api/v1/outbox/abc/retry", headers=operator_headers).status_code == 422
    assert client.post("/api/v1/outbox/0/retry", headers=operator_headers).status_code == 422
