"""Alerts reach a local Telegram-compatible receiver: escaped, deduplicated, retried, never doubled."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.integrations.alerts.service import raise_alert, resolve_alert
from email_engine.integrations.alerts.settings import AlertSettings
from email_engine.outbox.delivery import discover_senders, drain
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.settings import OutboxSettings
from tests.integration.alerts.conftest import CHAT_ID, messages
from tests.support.http_peers import HttpPeer

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
INTERVALS = {"critical": timedelta(hours=1), "warning": timedelta(hours=4), "info": timedelta(days=1)}
OUTBOX = OutboxSettings(_env_file=None, OUTBOX_MAX_ATTEMPTS=5, OUTBOX_BACKOFF_BASE_SECONDS=10)  # type: ignore[call-arg]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def raise_at(ctx: AppContext, at: datetime, *, key: str = "dnsbl:192.0.2.10", text: str = "listed") -> None:
    with ctx.session_factory() as session:
        raise_alert(
            session,
            key=key,
            severity="critical",
            title="IP blacklisted",
            text=text,
            now=at,
            remind_intervals=INTERVALS,
        )
        session.commit()


def deliver(ctx: AppContext, at: datetime) -> dict[str, int]:
    return drain(
        ctx, settings=OUTBOX, clock=Clock(at), senders={"alert": discover_senders()["alert"]}
    ).as_dict()


def alert_events(ctx: AppContext) -> list[OutboxEvent]:
    with ctx.session_factory() as session:
        return list(
            session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "alert").order_by(OutboxEvent.id))
        )


def test_alert_reaches_telegram_escaped_once_then_reminder_then_resolved(
    alert_ctx: AppContext, telegram: HttpPeer
) -> None:
    hostile = "<script>alert(1)</script> & <b>not bold</b>"
    for minutes in (0, 5, 30):
        raise_at(alert_ctx, T0 + timedelta(minutes=minutes), text=hostile)
        deliver(alert_ctx, T0 + timedelta(minutes=minutes))
    assert len(messages(telegram)) == 1
    request = telegram.requests[0].json()
    assert request["chat_id"] == CHAT_ID and request["parse_mode"] == "HTML"
    text = request["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in text
    assert text.startswith("<b>🔴 [CRITICAL] IP blacklisted (test-engine)</b>")
    assert "<script>" not in text

    raise_at(alert_ctx, T0 + timedelta(minutes=61))
    deliver(alert_ctx, T0 + timedelta(minutes=61))
    with alert_ctx.session_factory() as session:
        resolve_alert(session, key="dnsbl:192.0.2.10", now=T0 + timedelta(minutes=70))
        session.commit()
    deliver(alert_ctx, T0 + timedelta(minutes=70))
    texts = messages(telegram)
    assert len(texts) == 3
    assert "still failing: IP blacklisted" in texts[1]
    assert texts[2].startswith("<b>✅ [CRITICAL] resolved: IP blacklisted")


def test_receiver_down_then_back_delivers_each_alert_once(alert_ctx: AppContext, telegram: HttpPeer) -> None:
    raise_at(alert_ctx, T0, key="a")
    raise_at(alert_ctx, T0, key="b")
    telegram.down()
    report = deliver(alert_ctx, T0)
    assert (report["sent"], report["retried"]) == (0, 2)
    events = alert_events(alert_ctx)
    assert {(e.status, e.attempts) for e in events} == {("pending", 1)}
    assert all(
        e.last_error == "telegram: Telegram unreachable: ConnectError"
        or "unreachable" in (e.last_error or "")
        for e in events
    )
    assert all("TEST-not-a-real-token" not in (e.last_error or "") for e in events), (
        "the token leaked into errors"
    )

    telegram.up()
    telegram.queue(
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5"}, {})
    )
    report = deliver(alert_ctx, T0 + timedelta(minutes=5))
    assert report["sent"] == 0 and report["retried"] == 2  # a 429 pauses the whole batch for Telegram
    assert "429" in (alert_events(alert_ctx)[0].last_error or "")
    report = deliver(alert_ctx, T0 + timedelta(hours=1))
    assert report["sent"] == 2
    assert sorted(text.split("\n")[-1] for text in messages(telegram)) == ["key: a", "key: b"]
    assert deliver(alert_ctx, T0 + timedelta(hours=5))["claimed"] == 0


def test_bad_request_dead_letters_and_wrong_token_retries(alert_ctx: AppContext, telegram: HttpPeer) -> None:
    raise_at(alert_ctx, T0, key="refused")
    telegram.queue((400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, {}))
    assert deliver(alert_ctx, T0)["dead"] == 1
    assert "chat not found" in (alert_events(alert_ctx)[0].last_error or "")
    raise_at(alert_ctx, T0, key="unauthorised")
    telegram.queue((401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}))
    assert deliver(alert_ctx, T0)["retried"] == 1


def test_apprise_json_url_and_partial_failure_is_not_sent_twice(
    alert_ctx: AppContext, telegram: HttpPeer
) -> None:
    with HttpPeer() as hook:
        alert_ctx.settings.install(
            AlertSettings(
                _env_file=None,
                ALERT_APPRISE_URLS=f"json://127.0.0.1:{hook.port}/alerts",
                ALERT_INSTANCE_NAME="t",
            ),  # type: ignore[call-arg]
        )
        hook.queue(503)
        raise_at(alert_ctx, T0, key="partial", text="a & b")
        assert deliver(alert_ctx, T0)["retried"] == 1
        assert len(messages(telegram)) == 1 and len(hook.requests) == 1
        assert deliver(alert_ctx, T0 + timedelta(hours=1))["sent"] == 1
        assert len(messages(telegram)) == 1, "Telegram got the alert a second time"
        posted = json.loads(hook.requests[-1].body)
        assert hook.requests[-1].path == "/alerts"
        assert "partial" in posted["message"] and "a & b" in posted["message"]
        assert posted["title"].startswith("🔴 [CRITICAL] IP blacklisted")


def test_without_any_destination_alerts_go_dead_with_a_sentence(ctx: AppContext) -> None:
    raise_at(ctx, T0, key="nowhere")
    assert deliver(ctx, T0)["dead"] == 1
    error = alert_events(ctx)[0].last_error or ""
    assert "TELEGRAM_BOT_TOKEN" in error and "ALERT_APPRISE_URLS" in error
