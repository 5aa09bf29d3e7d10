"""The preflight item of alerts: Telegram accepts the bot token and the bot can reach the chat."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import httpx

from email_engine.context import AppContext
from email_engine.integrations.alerts.destinations import TelegramDestination
from email_engine.integrations.alerts.settings import AlertSettings
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = ["CHECKS", "check_telegram"]


def check_telegram(ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    token, chat = ctx.settings.telegram_bot_token, ctx.settings.telegram_chat_id
    if token is None or not chat:
        yield Item(
            "telegram",
            "skip",
            "TELEGRAM_BOT_TOKEN / TELEGRAM_CHAT_ID not set",
            "Set them so alerts reach you; `email-engine alerts test` sends a test message.",
        )
        return
    try:
        with httpx.Client() as client:
            reached = TelegramDestination(
                api_url=ctx.settings.telegram_api_url,
                token=token.get_secret_value(),
                chat_id=chat,
                instance=ctx.settings.section(AlertSettings).instance_name,
                timeout=pf.timeout,
                client=client,
            ).reaches_chat()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # no URL in the detail: it holds the token
        yield Item(
            "telegram",
            "fail",
            f"the Bot API did not answer ({type(exc).__name__})",
            "Check TELEGRAM_API_URL and network access to it.",
        )
        return
    if reached:
        yield Item("telegram", "pass", "bot token valid and chat reachable")
    else:
        yield Item(
            "telegram",
            "fail",
            "token or chat refused by the Bot API",
            "Check TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, and that the bot is a member of the chat.",
        )


CHECKS = [PreflightCheck("telegram", check_telegram, order=120)]
