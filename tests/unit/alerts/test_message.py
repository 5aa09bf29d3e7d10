"""Alert text: Telegram HTML is escaped and bounded; malformed payloads still read."""

from __future__ import annotations

import html

import pytest

from email_engine.integrations.alerts.message import TELEGRAM_LIMIT, read_message, telegram_html
from email_engine.integrations.alerts.settings import AlertSettings

BASE = {
    "key": "dnsbl:192.0.2.1",
    "state": "firing",
    "severity": "critical",
    "title": "Listed on zen.spamhaus.org",
    "text": "192.0.2.1 is listed (127.0.0.2: SBL)",
    "first_raised_at": "2026-11-24T12:00:00+00:00",
    "at": "2026-11-24T12:00:00+00:00",
}


@pytest.mark.parametrize(
    "hostile",
    ["<b>bold</b>", "a & b < c > d", "</b><a href='x'>click</a>", "&amp; already escaped", "<<<>>>&&&"],
)
def test_everything_is_escaped_for_html_parse_mode(hostile: str) -> None:
    text = telegram_html(read_message({**BASE, "title": hostile, "text": hostile}), "eng<1>")
    body = text.removeprefix("<b>").replace("</b>\n", "\n", 1)
    assert "<" not in body and ">" not in body
    assert html.unescape(body).count(hostile) == 2
    assert "eng&lt;1&gt;" in text


def test_states_read_differently() -> None:
    assert "still failing: " in telegram_html(read_message({**BASE, "state": "reminder"}), "e")
    resolved = telegram_html(read_message({**BASE, "state": "resolved"}), "e")
    assert resolved.startswith("<b>✅") and "Cleared at" in resolved
    assert "🟠 [WARNING]" in telegram_html(read_message({**BASE, "severity": "warning"}), "e")


def test_long_messages_fit_telegram_limit_without_broken_entities() -> None:
    text = telegram_html(read_message({**BASE, "text": "&" * 10_000}), "e")
    assert len(text) <= TELEGRAM_LIMIT
    assert text.rstrip("…").endswith("&amp;")


@pytest.mark.parametrize("payload", [{}, {"severity": "fatal", "state": 3, "title": None, "text": ["x"]}])
def test_malformed_payloads_still_produce_a_message(payload: dict[str, object]) -> None:
    message = read_message(payload)
    assert message.severity == "warning" and message.state == "firing" and message.title == "Alert"
    assert telegram_html(message, "e").startswith("<b>🟠 [WARNING] Alert (e)</b>")


def test_apprise_urls_split_like_apprise_does() -> None:
    settings = AlertSettings(_env_file=None, ALERT_APPRISE_URLS="json://a/x, form://b/y;  mailto://c")  # type: ignore[call-arg]
    assert settings.apprise_urls == ["json://a/x", "form://b/y", "mailto://c"]
