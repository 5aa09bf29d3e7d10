"""The preflight items of the health checks: GET /health's report, one line per check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from email_engine.context import AppContext
from email_engine.ops.service import run_checks
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = ["CHECKS", "check_components"]


def check_components(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """The health checks (database, Redis, PowerMTA, MailWizz, scraper-pro, outbox, disk, jobs)."""
    report = asyncio.run(run_checks(ctx))
    checks: dict[str, dict[str, str]] = report["checks"]
    for name, check in sorted(checks.items()):
        label = f"health {name}"  # GET /health's names, kept apart from the checklist's own items
        status = check["status"]
        if status == "not_configured":
            yield Item(label, "skip", check["detail"], "Configure it in .env if this deployment uses it.")
        elif status == "fail":
            yield Item(
                label,
                "fail",
                check["detail"],
                f"Fix what the detail says; GET /health shows the {name} check, which must pass before sending.",
            )
        elif status == "warn":  # degraded, not down: listed so the operator sees it, but not a NO-GO
            yield Item(label, "pass", f"warning: {check['detail']}")
        else:
            yield Item(label, "pass", check["detail"])


CHECKS = [PreflightCheck("health", check_components, order=40)]
