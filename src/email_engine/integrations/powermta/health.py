"""``/health`` check of PowerMTA: its http-mgmt status page (``PMTA_STATUS_URL``) or a status command
(``PMTA_STATUS_COMMAND``) answers (not critical; a failing one raises an alert through the ``health`` job)."""

from __future__ import annotations

from typing import Any

from email_engine.context import AppContext
from email_engine.ops.settings import HealthSettings
from email_engine.platform.healthcheck import CheckResult, HealthCheck
from email_engine.platform.probes import http_get, redact_url, run_command

__all__ = ["CHECKS", "check_powermta"]


def _pmta_summary(body: Any) -> dict[str, Any]:
    """Pick a few well-known figures from PowerMTA's JSON status, whatever its nesting."""
    if not isinstance(body, dict):
        return {}
    status = body.get("status")
    if status is None and isinstance(body.get("data"), dict):
        status = body["data"].get("status")
    if status is None:
        status = body
    if not isinstance(status, dict):
        return {}
    summary: dict[str, Any] = {}
    for key in ("version", "uptime"):
        if key in status:
            summary[key] = status[key]
    queue = status.get("queue")
    if isinstance(queue, dict) and isinstance(queue.get("smtp"), dict):
        summary["queued_recipients"] = queue["smtp"].get("rcp")
    return summary


async def check_powermta(ctx: AppContext) -> CheckResult:
    settings = ctx.settings.section(HealthSettings)
    if settings.pmta_status_url:
        answer = await http_get(settings.pmta_status_url, timeout=settings.check_timeout_seconds)
        where = redact_url(settings.pmta_status_url)
        if answer.error:
            return CheckResult("fail", f"PowerMTA status interface: {answer.error}")
        if answer.status is None or not 200 <= answer.status < 300:
            return CheckResult(
                "fail",
                f"PowerMTA status interface at {where} answered HTTP {answer.status}; check http-mgmt-allow.",
            )
        return CheckResult("ok", f"PowerMTA answers at {where}", _pmta_summary(answer.body))
    if settings.pmta_status_command:
        result = await run_command(settings.pmta_status_command, timeout=settings.check_timeout_seconds)
        if result.error:
            return CheckResult("fail", f"PowerMTA status command: {result.error}")
        first = next((line.strip() for line in result.output.splitlines() if line.strip()), "")
        if result.returncode != 0:
            return CheckResult(
                "fail", f"`{settings.pmta_status_command}` exited {result.returncode}: {first[:200]}"
            )
        return CheckResult("ok", f"PowerMTA status command succeeded: {first[:200]}")
    return CheckResult(
        "not_configured",
        "Set PMTA_STATUS_URL (http-mgmt status page) or PMTA_STATUS_COMMAND to watch PowerMTA.",
    )


CHECKS = [HealthCheck("powermta", check_powermta)]
