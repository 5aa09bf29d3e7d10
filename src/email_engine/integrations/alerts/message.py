"""How an alert reads (pure): plain title/body for Apprise, HTML for Telegram.

Telegram's HTML parse mode needs only ``<``, ``>`` and ``&`` escaped; everything from an alert is
escaped, so text such as ``<script>`` or ``a & b`` arrives verbatim and never breaks the message.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AlertMessage", "read_message", "telegram_html"]

TELEGRAM_LIMIT = 4096
ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
STATE_LABEL = {
    "firing": "",
    "reminder": "still failing: ",
    "escalated": "escalated: ",
    "resolved": "resolved: ",
    "test": "",
}


@dataclass(frozen=True, slots=True)
class AlertMessage:
    key: str
    state: str
    severity: str
    title: str
    text: str
    first_raised_at: str
    at: str


def _text(payload: Mapping[str, Any], name: str, default: str) -> str:
    value = payload.get(name, default)
    return value if isinstance(value, str) else default


def read_message(payload: Mapping[str, Any]) -> AlertMessage:
    """Tolerant reading: a malformed payload still produces a readable message."""
    severity = _text(payload, "severity", "warning")
    state = _text(payload, "state", "firing")
    return AlertMessage(
        key=_text(payload, "key", "unknown"),
        state=state if state in STATE_LABEL else "firing",
        severity=severity if severity in ICONS else "warning",
        title=_text(payload, "title", "Alert"),
        text=_text(payload, "text", ""),
        first_raised_at=_text(payload, "first_raised_at", ""),
        at=_text(payload, "at", ""),
    )


def plain_title(message: AlertMessage, instance: str) -> str:
    icon = "✅" if message.state == "resolved" else ICONS[message.severity]
    return f"{icon} [{message.severity.upper()}] {STATE_LABEL[message.state]}{message.title} ({instance})"


def plain_body(message: AlertMessage) -> str:
    lines = [message.text] if message.text else []
    if message.state == "resolved":
        lines.append(f"Cleared at {message.at}; first raised {message.first_raised_at}.")
    elif message.state in ("reminder", "escalated"):
        lines.append(f"Failing since {message.first_raised_at}.")
    lines.append(f"key: {message.key}")
    return "\n".join(lines)


def telegram_html(message: AlertMessage, instance: str) -> str:
    title = html.escape(plain_title(message, instance), quote=False)
    body = html.escape(plain_body(message), quote=False)
    text = f"<b>{title}</b>\n{body}"
    if len(text) > TELEGRAM_LIMIT:
        # Cut the body, never inside an entity or tag: re-escape a clipped raw body.
        room = TELEGRAM_LIMIT - len(title) - 20
        raw = plain_body(message)
        while len(html.escape(raw, quote=False)) > room:
            raw = raw[: max(0, len(raw) - max(16, len(raw) // 10))]
        text = f"<b>{title}</b>\n{html.escape(raw, quote=False)}…"
    return text
