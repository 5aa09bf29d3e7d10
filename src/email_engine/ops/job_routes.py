"""``GET /api/v1/jobs``, ``GET /api/v1/jobs/{name}/runs``, ``POST /api/v1/jobs/{name}/run`` (operator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import Conflict
from email_engine.ops.job_status import job_overview, run_history
from email_engine.ops.lifespan import running_scheduler
from email_engine.ops.registry import all_jobs, find_job
from email_engine.ops.scheduler import make_lease
from email_engine.ops.schemas import JobRunPublic, JobsReport, RunOutcomePublic
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.job_runner import check_as_of, parse_as_of, run_job
from email_engine.platform.leader_lease import process_identity
from email_engine.platform.models import JobStatus

jobs_router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def leader_summary(ctx: ContextDep) -> dict[str, Any] | None:
    settings = ctx.settings.section(SchedulerSettings)
    scheduler = running_scheduler(ctx)
    lease = scheduler.lease if scheduler else make_lease(ctx, settings, "observer")
    holder = lease.current()
    return holder.as_dict() if holder else None


def jobs_report(ctx: AppContext, session: Session) -> dict[str, Any]:
    """The leader, this worker's scheduler, and every job with its last and next run (API and console)."""
    settings = ctx.settings.section(SchedulerSettings)
    jobs = all_jobs(ctx.settings, include_disabled=True)
    scheduler = running_scheduler(ctx)
    live = scheduler.next_run_times() if scheduler and scheduler.is_leader else None
    return {
        "leader": leader_summary(ctx),
        "this_worker": {
            "scheduler_enabled": scheduler is not None,
            "is_leader": bool(scheduler and scheduler.is_leader),
        },
        "jobs": job_overview(
            session,
            jobs,
            now=utcnow(),
            disabled=[j.name for j in jobs if settings.is_disabled(j.name)],
            live_next=live,
        ),
    }


def run_now(ctx: AppContext, name: str, *, at: str | None = None, force: bool = False) -> dict[str, Any]:
    """Run one job in this worker and record the run (as of ``at`` when given; see the API route);
    Conflict when it is running already. The API and the console's "Run now" call this."""
    spec = find_job(all_jobs(ctx.settings, include_disabled=True), name)
    as_of = None
    if at is not None:
        as_of = parse_as_of(at)
        check_as_of(spec, as_of, environment=ctx.settings.environment, force=force)
    outcome = run_job(ctx, spec, trigger="manual", worker=process_identity(), as_of=as_of)
    if outcome.status == JobStatus.SKIPPED:
        raise Conflict(
            f"The job {name} is already running; try again when it finishes.", run_id=outcome.run_id
        )
    return outcome.as_dict()


@jobs_router.get("", summary="Periodic jobs: interval, last run, duration, result, error, next run")
def list_jobs(ctx: ContextDep, session: SessionDep) -> JobsReport:
    return JobsReport.model_validate(jobs_report(ctx, session))


@jobs_router.get("/{name}/runs", summary="Recent runs of one job, newest first")
def job_runs(
    name: JobName,
    ctx: ContextDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobRunPublic]:
    find_job(all_jobs(ctx.settings, include_disabled=True), name)
    return [JobRunPublic.model_validate(run) for run in run_history(session, job=name, limit=limit)]


@jobs_router.post(
    "/{name}/run",
    summary="Run a job now in this worker and record the run (operator)",
    description="With `at`, the job is evaluated as of that time (ISO 8601 with its offset) for replays and "
    "simulated days; the run is recorded with trigger `as_of` and `result.as_of`. In production a job "
    "that changes state is refused (409) with `at` unless `force=true`.",
)
def run_job_now(
    name: JobName,
    ctx: ContextDep,
    _operator: OperatorDep,
    at: Annotated[
        str | None, Query(max_length=64, description="Evaluate as of this time, e.g. 2026-03-02T06:00:00Z.")
    ] = None,
    force: Annotated[bool, Query(description="Allow `at` for a state-changing job in production.")] = False,
) -> RunOutcomePublic:
    return RunOutcomePublic.model_validate(run_now(ctx, name, at=at, force=force))
