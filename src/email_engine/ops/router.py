from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from email_engine.deps import ContextDep
from email_engine.ops.collector import StateCollector
from email_engine.ops.job_routes import jobs_router
from email_engine.ops.schemas import HealthReport
from email_engine.ops.service import run_checks
from email_engine.platform.metrics import CONTENT_TYPE_LATEST, render_metrics

public_router = APIRouter(tags=["ops"])
router = APIRouter()  # authenticated ops endpoints (jobs)
router.include_router(jobs_router)


@public_router.get(
    "/health",
    summary="Service health",
    description="200 when healthy or degraded, 503 when unhealthy.",
    response_model_exclude_unset=True,  # a check's `data` only when it has some
    responses={503: {"model": HealthReport, "description": "Unhealthy (the same report)"}},
)
async def health(ctx: ContextDep, response: Response) -> HealthReport:
    report = HealthReport.model_validate(await run_checks(ctx))
    response.status_code = 503 if report.status == "unhealthy" else 200
    return report


@public_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(ctx: ContextDep) -> Response:
    return Response(render_metrics(StateCollector(ctx)), media_type=CONTENT_TYPE_LATEST)
