"""A Telegram-compatible receiver (real HTTP server) and a context configured to use it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from email_engine.context import AppContext, build_context
from email_engine.integrations.alerts.settings import AlertSettings
from tests.conftest import make_settings
from tests.support.http_peers import HttpPeer, RecordedRequest

BOT_TOKEN = "123456789:TEST-not-a-real-token_abcdefghijkl"
CHAT_ID = "-1001234567890"


def telegram_answer(request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
    """Answer like the Bot API: 404 for a wrong token path, 400 for a missing chat id."""
    if request.path != f"/bot{BOT_TOKEN}/sendMessage":
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
    body = request.json()
    if not body.get("chat_id") or not body.get("text"):
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}, {}
    return 200, {"ok": True, "result": {"message_id": len(body["text"]), "chat": {"id": body["chat_id"]}}}, {}


@pytest.fixture
def telegram() -> Iterator[HttpPeer]:
    with HttpPeer() as peer:
        peer.handler = telegram_answer
        yield peer


def messages(peer: HttpPeer) -> list[str]:
    return [r.json()["text"] for r in peer.requests if r.answered == 200]


@pytest.fixture
def alert_ctx(ctx: AppContext, telegram: HttpPeer) -> Iterator[AppContext]:
    settings = make_settings(
        ctx.settings.database_url,
        ctx.settings.redis_url,
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_CHAT_ID=CHAT_ID,
        TELEGRAM_API_URL=telegram.url,
    )
    context = build_context(settings)
    context.settings.install(AlertSettings(_env_file=None, ALERT_INSTANCE_NAME="test-engine"))  # type: ignore[call-arg]
    try:
        yield context
    finally:
        context.close()
