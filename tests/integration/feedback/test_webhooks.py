"""Accounting webhooks: authentication (key roles, HMAC), hostile bodies, duplicates, classification."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.auth.roles import Role
from email_engine.context import AppContext, build_context
from email_engine.feedback.models import AccountingOutcome, AccountingRow, DeadLetterRow, Suppression
from email_engine.feedback.settings import FeedbackSettings
from email_engine.main import create_app
from email_engine.outbox.models import OutboxEvent
from email_engine.platform.signing import sign
from tests.conftest import make_settings
from tests.integration.feedback.conftest import INGEST_SECRET

BOUNCE = {
    "type": "b",
    "timeLogged": "2026-11-24 09:15:02+0000",
    "rcpt": "nobody.here@example.com",
    "orig": "news@sender.example.com",
    "dsnStatus": "5.1.1 (bad destination mailbox address)",
    "dsnDiag": "smtp;550 5.1.1 <nobody.here@example.com>: Recipient address rejected: User unknown",
    "bounceCat": "bad-mailbox",
    "dlvSourceIp": "192.0.2.10",
    "vmta": "vmta-a",
}
BLOCK = {
    **BOUNCE,
    "rcpt": "alive.person@example.org",
    "dsnStatus": "5.7.606",
    "dsnDiag": "smtp;550 5.7.606 Access denied, banned sending IP [192.0.2.10]. To request removal from this "
    "list please visit https://sender.office.com/",
    "bounceCat": "bad-mailbox",  # PowerMTA's own guess; the engine knows better
}
DELIVERY = {
    "type": "d",
    "timeLogged": "2026-11-24 09:15:03+0000",
    "rcpt": "reader@example.net",
    "dsnStatus": "2.0.0",
    "dsnDiag": "smtp;250 ok",
    "dlvSourceIp": "192.0.2.10",
}
CSV_BATCH = (
    "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\r\n"
    'd,2026-11-24 09:00:00+0000,one@example.com,2.0.0,"smtp;250 ok, queued",,192.0.2.10,vmta-a\r\n'
    'b,2026-11-24 09:00:01+0000,two@example.com,5.1.1,"smtp;550 5.1.1 ""two"" unknown",bad-mailbox,192.0.2.10,vmta-a\r\n'
    "this is garbage\r\n"
    'd,2026-11-24 09:00:00+0000,one@example.com,2.0.0,"smtp;250 ok, queued",,192.0.2.10,vmta-a\r\n'
)


def _signed(body: bytes, *, secret: str = INGEST_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {
        "X-Timestamp": timestamp,
        "X-Signature": sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


@pytest.fixture
def ingest_headers(make_key: Any, feedback: FeedbackSettings) -> dict[str, str]:
    headers: dict[str, str] = make_key(Role.INGEST)
    return headers


def test_ingest_needs_credentials_with_the_ingest_role(
    client: TestClient,
    ingest_headers: dict[str, str],
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    url = "/api/v1/webhooks/pmta-delivery"
    assert client.post(url, json=DELIVERY).status_code == 401
    refused = client.post(url, json=DELIVERY, headers=viewer_headers)
    assert refused.status_code == 403 and "ingest role" in refused.json()["detail"]
    assert (
        client.post(url, json=DELIVERY, headers={"X-API-Key": "ee_not_a_real_key_0123456789"}).status_code
        == 401
    )
    assert client.post(url, json=DELIVERY, headers=ingest_headers).status_code == 200
    assert client.post(url, json=DELIVERY, headers=operator_headers).json()["duplicate"] is True


def test_ingest_keys_cannot_read_anything_else(client: TestClient, ingest_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/stats/summary", headers=ingest_headers).status_code == 403
    assert client.get("/api/v1/suppressions", headers=ingest_headers).status_code == 403


def test_hmac_signature_valid_invalid_stale(client: TestClient, feedback: FeedbackSettings) -> None:
    url = "/api/v1/webhooks/pmta-bounce"
    body = json.dumps(BOUNCE).encode()
    assert client.post(url, content=body, headers=_signed(body)).status_code == 200
    tampered = body.replace(b"nobody.here", b"somebody.else")
    assert client.post(url, content=tampered, headers=_signed(body)).status_code == 401
    wrong_key = client.post(
        url, content=body, headers=_signed(body, secret="another-secret-entirely-0123456789")
    )
    assert wrong_key.status_code == 401 and "does not match" in wrong_key.json()["detail"]
    stale = client.post(url, content=body, headers=_signed(body, at=time.time() - 3600))
    assert stale.status_code == 401 and "away from the server clock" in stale.json()["detail"]
    future = client.post(url, content=body, headers=_signed(body, at=time.time() + 3600))
    assert future.status_code == 401
    prefixed = _signed(body)
    prefixed["X-Signature"] = "sha256=" + prefixed["X-Signature"]
    assert client.post(url, content=body, headers=prefixed).json()["duplicate"] is True
    missing = client.post(url, content=body, headers={"X-Timestamp": str(int(time.time()))})
    assert missing.status_code == 401


def test_hmac_refused_when_no_secret_is_configured(client: TestClient, ctx: AppContext) -> None:
    ctx.settings.install(FeedbackSettings(_env_file=None))  # type: ignore[call-arg]
    body = json.dumps(BOUNCE).encode()
    response = client.post("/api/v1/webhooks/pmta-bounce", content=body, headers=_signed(body))
    assert response.status_code == 401 and "INGEST_HMAC_SECRET" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"rcpt": "a@example.com",', 400, "malformed_json"),
        (b"\xff\xfe not json", 400, "malformed_json"),
        (b'[{"rcpt": "a@example.com"}]', 422, "invalid_input"),
        (b'{"rcpt": {"nested": 1}}', 422, "invalid_input"),
        (b'{"domain": "example.com", "count": 42}', 422, "invalid_input"),
        (b'{"type": "zz", "rcpt": "a@example.com"}', 422, "invalid_input"),
        (b'{"timeLogged": "yesterday", "rcpt": "a@example.com"}', 422, "invalid_input"),
        (b'{"type": "b"}', 422, "invalid_input"),
        (b'{"bad name!": "x", "rcpt": "a@example.com"}', 422, "invalid_input"),
        (b'{"email": "a@example.com", "rcpt": "b@example.com"}', 422, "invalid_input"),
    ],
)
def test_hostile_single_bodies_get_clear_errors(
    client: TestClient, ingest_headers: dict[str, str], session: Session, body: bytes, status: int, code: str
) -> None:
    response = client.post("/api/v1/webhooks/pmta-bounce", content=body, headers=ingest_headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["detail"].endswith(".")
    assert session.scalar(select(func.count()).select_from(AccountingRow)) == 0


def test_oversize_bodies_get_413(client: TestClient, ingest_headers: dict[str, str]) -> None:
    big = json.dumps({**BOUNCE, "dsnDiag": "x" * 70_000}).encode()
    response = client.post("/api/v1/webhooks/pmta-bounce", content=big, headers=ingest_headers)
    assert response.status_code == 413 and response.json()["limit_bytes"] == 64 * 1024
    huge = b"type,rcpt\r\n" + b"d,a@example.com\r\n" * (17 * 1024 * 1024 // 17)
    response = client.post("/api/v1/webhooks/pmta-batch", content=huge, headers=ingest_headers)
    assert response.status_code == 413 and response.json()["limit_bytes"] == 16 * 1024 * 1024


def test_reference_field_names_are_accepted_and_classified_by_the_engine(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    reference = {
        "email": "gone.away@example.com",
        "bounce_type": "soft",  # a hint we never trust
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.1.1",
        "source_ip": "192.0.2.11",
        "timestamp": "2026-11-24T09:20:00Z",
    }
    body = client.post("/api/v1/webhooks/pmta-bounce", json=reference, headers=ingest_headers).json()
    assert body["accepted"] is True and body["type"] == "b"
    assert body["bounce_type"] == "hard" and body["category"] == "bad-mailbox"


def test_duplicates_count_once_and_blocks_are_never_suppressed_or_forwarded(
    client: TestClient, ingest_headers: dict[str, str], session: Session, viewer_headers: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/pmta-bounce"
    first = client.post(url, json=BOUNCE, headers=ingest_headers).json()
    second = client.post(url, json=BOUNCE, headers=ingest_headers).json()
    assert first["accepted"] and not first["duplicate"]
    assert second["duplicate"] and second["record_key"] == first["record_key"]
    block = client.post(url, json=BLOCK, headers=ingest_headers).json()
    assert block["bounce_type"] == "block"

    assert session.scalar(select(func.count()).select_from(AccountingRow)) == 2
    assert set(session.scalars(select(Suppression.value))) == {"nobody.here@example.com"}
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "scraper_pro.bounce")).all()
    bounces = [bounce for event in events for bounce in event.payload["bounces"]]
    assert [bounce["email"] for bounce in bounces] == ["nobody.here@example.com"]
    payload = bounces[0]
    assert payload["type"] == "hard" and payload["category"] == "bad-mailbox"
    assert (
        payload["dsn_status"] == "5.1.1"
        and payload["source_ip"] == "192.0.2.10"
        and payload["vmta"] == "vmta-a"
    )

    summary = client.get(
        "/api/v1/stats/summary",
        params={"since": "2026-11-24T09:00:00Z", "until": "2026-11-24T10:00:00Z"},
        headers=viewer_headers,
    ).json()
    assert summary["bounced"] == 2 and summary["sent"] == 2
    assert summary["by_type"] == {"hard": 1, "soft": 0, "block": 1}


def test_batch_endpoint_counts_accepted_duplicates_and_dead_letters(
    client: TestClient, ingest_headers: dict[str, str], session: Session
) -> None:
    url = "/api/v1/webhooks/pmta-batch"
    first = client.post(url, content=CSV_BATCH.encode(), headers=ingest_headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 2, "duplicates": 1, "dead_letters": 1, "past_horizon": 0}
    again = client.post(url, content=CSV_BATCH.encode(), headers=ingest_headers).json()
    assert again == {"accepted": 0, "duplicates": 3, "dead_letters": 1, "past_horizon": 0}
    letters = session.scalars(select(DeadLetterRow)).all()
    assert [(letter.line_number, letter.raw.strip()) for letter in letters] == [(4, "this is garbage")]
    empty = client.post(url, content=b"  ", headers=ingest_headers)
    assert empty.status_code == 422
    deliveries = session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "scraper_pro.delivery")).all()
    assert [(event.payload["domain"], event.payload["delivered"]) for event in deliveries] == [
        ("example.com", 1)
    ]


def test_stored_text_keeps_backslashes_tabs_newlines_and_unicode(
    client: TestClient, ingest_headers: dict[str, str], session: Session
) -> None:
    diag = 'smtp;550 5.1.1 C:\\mail\\box\tgone "quoted", ünïcödé ✓\r\nline two \\N'
    local = '"tab\\test\tquoted"'  # a quoted local part may hold a backslash and a tab (RFC 5321 §4.1.2)
    body = {**BOUNCE, "rcpt": f"{local}@example.com", "dsnDiag": diag}
    assert client.post("/api/v1/webhooks/pmta-bounce", json=body, headers=ingest_headers).status_code == 200
    stored = session.scalars(select(AccountingRow).where(AccountingRow.rcpt_local == local)).one()
    outcome = session.get(AccountingOutcome, stored.outcome_id)
    assert outcome is not None and outcome.dsn_diag == diag.removeprefix("smtp;")


def test_webhooks_spend_the_webhook_rate_budget(
    ctx: AppContext, database_url: str, redis_url: str | None, make_key: Any
) -> None:
    limited = make_settings(database_url, redis_url, RATE_LIMIT_ENABLED=True, RATE_LIMIT_WEBHOOK="2/minute")
    context = build_context(limited)
    try:
        with TestClient(create_app(ctx=context)) as limited_client:
            headers = make_key(Role.INGEST)
            url = "/api/v1/webhooks/pmta-delivery"
            answers = [limited_client.post(url, json=DELIVERY, headers=headers).status_code for _ in range(3)]
            assert answers == [200, 200, 429]
            refused = limited_client.post(url, json=DELIVERY, headers=headers)
            assert refused.json()["error"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    finally:
        if context.redis is not None:
            keys = list(context.redis.scan_iter(match=f"{limited.redis_key_prefix}*"))
            if keys:
                context.redis.delete(*keys)
        context.close()
