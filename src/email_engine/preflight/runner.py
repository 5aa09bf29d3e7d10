"""Runs the checklist: the engine's own items and every domain's ``preflight.py`` ``CHECKS``, in their
declared order. A check that crashes is a failed item under its name, never a crash of the whole list."""

from __future__ import annotations

from datetime import datetime

from email_engine.context import AppContext
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings
from email_engine.plugins import domain_modules
from email_engine.preflight import configuration, host

__all__ = ["all_checks", "run_preflight"]


def all_checks() -> list[PreflightCheck]:
    discovered = [check for module in domain_modules("preflight") for check in module.CHECKS]
    return sorted([*configuration.CHECKS, *host.CHECKS, *discovered], key=lambda check: check.order)


def _redact(text: str, ctx: AppContext) -> str:
    """An exception's text may quote a URL or a setting: never print a secret (any ``SecretStr``
    setting, core or section)."""
    for value in ctx.settings.secret_values():
        text = text.replace(value, "[redacted]")
    return text


def run_preflight(ctx: AppContext, pf: PreflightSettings, now: datetime) -> list[Item]:
    items: list[Item] = []
    for check in all_checks():
        try:
            items.extend(check.run(ctx, pf, now))
        except Exception as exc:  # a broken check is a failed check, never a crash of the whole list
            items.append(
                Item(
                    check.name,
                    "fail",
                    f"the check itself failed: {type(exc).__name__}: {_redact(str(exc), ctx)}"[:300],
                    "Fix the cause named in the detail and run preflight again.",
                )
            )
    return items
