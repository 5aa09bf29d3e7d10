from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from email_engine.deps import ContextDep
from email_engine.ops.collector import StateCollector
from email_engine.ops.healthcheck import CheckResult, HealthCheck, overall_status
from email_engine.ops.job_routes import jobs_router
from email_engine.ops.metrics import CONTENT_TYPE_LATEST, render_metrics
from email_engine.plugins import domain_modules

public_router = APIRouter(tags=["ops"])
router = APIRouter()  # authenticated ops endpoints (jobs)
router.include_router(jobs_router)


def all_checks() -> list[HealthCheck]:
    return [check for module in domain_modules("health") for check in module.CHECKS]


async def run_checks(ctx: ContextDep) -> dict[str, object]:
    checks = all_checks()

    async def guarded(check: HealthCheck) -> CheckResult:
        try:
            return await asyncio.wait_for(check.run(ctx), timeout=10)
        except TimeoutError:
            return CheckResult("fail", "the check did not finish within 10 s")

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


@public_router.get(
    "/health",
    summary="Service health",
    description="200 when healthy or degraded, 503 when unhealthy.",
    responses={
        503: {
            "description": "Unhealthy (the same report)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def health(ctx: ContextDep) -> JSONResponse:
    report = await run_checks(ctx)
    return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)


@public_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(ctx: ContextDep) -> Response:
    return Response(render_metrics(StateCollector(ctx)), media_type=CONTENT_TYPE_LATEST)
