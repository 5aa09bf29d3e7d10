"""Where alerts go: Telegram's Bot API (sendMessage, HTML) and any Apprise URL.

Each destination sends one message and answers a :class:`Delivery`; errors never include the
bot token or an Apprise URL (both hold secrets).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from email_engine.integrations.alerts.message import AlertMessage, plain_body, plain_title, telegram_html

__all__ = ["AppriseDestination", "Delivery", "Destination", "TelegramDestination"]


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    error: str | None = None
    retryable: bool = True


class Destination(Protocol):
    name: str

    def send(self, message: AlertMessage) -> Delivery: ...


class TelegramDestination:
    name = "telegram"

    def __init__(
        self, *, api_url: str, token: str, chat_id: str, instance: str, timeout: float, client: httpx.Client
    ) -> None:
        self._bot = f"{api_url.rstrip('/')}/bot{token}"
        self._chat_id = chat_id
        self._instance = instance
        self._timeout = timeout
        self._client = client

    def send(self, message: AlertMessage) -> Delivery:
        body = {
            "chat_id": self._chat_id,
            "text": telegram_html(message, self._instance),
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        try:
            response = self._client.post(f"{self._bot}/sendMessage", json=body, timeout=self._timeout)
        except httpx.HTTPError as exc:  # str(exc) could carry the URL, and so the token
            return Delivery(False, f"Telegram unreachable: {type(exc).__name__}")
        answer: dict[str, Any] = {}
        try:
            parsed = response.json()
            answer = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            pass
        if response.is_success and answer.get("ok") is True:
            return Delivery(True)
        description = str(answer.get("description", ""))[:300] or response.reason_phrase
        error = f"Telegram answered {response.status_code}: {description}"
        # 400 means this message itself is refused (retrying it cannot help); 401/403/404 are
        # configuration problems the operator can fix, so those events wait and retry.
        return Delivery(False, error, retryable=response.status_code != 400)

    def reaches_chat(self) -> bool:
        """The Bot API accepts the token (getMe) and the bot sees the chat (getChat); sends nothing.

        Raises ``httpx.HTTPError`` (or ``httpx.InvalidURL``) when the API does not answer, and
        ``ValueError`` when it answers something that is not JSON; their text may hold the token.
        """
        me = self._client.get(f"{self._bot}/getMe", timeout=self._timeout).json()
        chat = self._client.get(
            f"{self._bot}/getChat", params={"chat_id": self._chat_id}, timeout=self._timeout
        ).json()
        return all(isinstance(answer, dict) and answer.get("ok") is True for answer in (me, chat))


class AppriseDestination:
    def __init__(self, url: str, *, instance: str, timeout: float) -> None:
        self._url = url
        self._instance = instance
        self._timeout = timeout
        self.name = "apprise:" + hashlib.sha256(url.encode()).hexdigest()[:12]

    def send(self, message: AlertMessage) -> Delivery:
        with warnings.catch_warnings():
            # Apprise 2.2 loads its plugins lazily and one imports the stdlib's deprecated imghdr.
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._send(message)

    def _send(self, message: AlertMessage) -> Delivery:
        import apprise

        notifier = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        if not notifier.add(self._url):
            return Delivery(False, f"{self.name}: Apprise does not understand this URL", retryable=False)
        kind = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING}.get(
            message.severity, apprise.NotifyType.INFO
        )
        if message.state == "resolved":
            kind = apprise.NotifyType.SUCCESS
        result = notifier.notify(
            body=plain_body(message),
            title=plain_title(message, self._instance),
            notify_type=kind,
            body_format=apprise.NotifyFormat.TEXT,
            timeout=self._timeout,
        )
        if bool(result):
            return Delivery(True)
        return Delivery(False, f"{self.name}: the Apprise notification failed")
