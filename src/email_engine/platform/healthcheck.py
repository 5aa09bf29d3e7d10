"""The shape of a health check and how their results add up to one status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from email_engine.context import AppContext

CheckStatus = Literal["ok", "warn", "fail", "not_configured"]
OverallStatus = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: CheckStatus
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """A named check. ``critical`` failures make the service unhealthy, others only degraded."""

    name: str
    run: Callable[[AppContext], Awaitable[CheckResult]]
    critical: bool = False


def overall_status(results: dict[str, tuple[HealthCheck, CheckResult]]) -> tuple[OverallStatus, list[str]]:
    issues: list[str] = []
    status: OverallStatus = "healthy"
    for name, (check, result) in results.items():
        if result.status == "fail":
            issues.append(f"{name}: {result.detail}")
            if check.critical:
                status = "unhealthy"
            elif status == "healthy":
                status = "degraded"
        elif result.status == "warn":
            issues.append(f"{name}: {result.detail}")
            if status == "healthy":
                status = "degraded"
    return status, issues
