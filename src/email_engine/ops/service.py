"""Health aggregation: every domain's ``CHECKS``, run together, added up to one report.

``GET /health``, the ``health`` job, preflight and the console all read this same report.
"""

from __future__ import annotations

import asyncio
from typing import Any

from email_engine.context import AppContext
from email_engine.platform.healthcheck import CheckResult, HealthCheck, overall_status
from email_engine.plugins import domain_modules

__all__ = ["CHECK_TIMEOUT_SECONDS", "all_checks", "run_checks"]

CHECK_TIMEOUT_SECONDS = 10


def all_checks() -> list[HealthCheck]:
    return [check for module in domain_modules("health") for check in module.CHECKS]


async def run_checks(ctx: AppContext) -> dict[str, Any]:
    checks = all_checks()

    async def guarded(check: HealthCheck) -> CheckResult:
        try:
            return await asyncio.wait_for(check.run(ctx), timeout=CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            return CheckResult("fail", f"the check did not finish within {CHECK_TIMEOUT_SECONDS} s")

    results = await asyncio.gather(*(guarded(check) for check in checks))
    by_name = {check.name: (check, result) for check, result in zip(checks, results, strict=True)}
    status, issues = overall_status(by_name)
    return {
        "status": status,
        "issues": issues,
        "checks": {
            name: {
                "status": result.status,
                "detail": result.detail,
                **({"data": result.data} if result.data else {}),
            }
            for name, (_check, result) in by_name.items()
        },
    }
