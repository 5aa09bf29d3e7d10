"""GET /api/v1/jobs, runs history, POST /api/v1/jobs/{name}/run, and the scheduler started by the app lifespan."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.main import create_app
from email_engine.ops.lifespan import running_scheduler
from email_engine.platform.models import JobRun, SchedulerLease
from tests.integration.ops.conftest import scheduler_settings


def test_jobs_list_and_manual_runs(
    ctx: AppContext, viewer_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    ctx.settings.install(scheduler_settings(SCHEDULER_ENABLED=False, SCHEDULER_DISABLED_JOBS="slow"))
    with TestClient(create_app(ctx=ctx)) as client:
        body = client.get("/api/v1/jobs", headers=viewer_headers).json()
        jobs = {job["name"]: job for job in body["jobs"]}
        assert body["this_worker"] == {"scheduler_enabled": False, "is_leader": False}
        assert body["leader"] is None
        assert jobs["tick"]["interval_seconds"] == 2 and jobs["tick"]["last_run"] is None
        assert jobs["slow"]["enabled"] is False and jobs["slow"]["next_run_at"] is None

        assert client.post("/api/v1/jobs/tick/run", headers=viewer_headers).status_code == 403
        ran = client.post("/api/v1/jobs/tick/run", headers=operator_headers)
        assert ran.status_code == 200 and ran.json()["status"] == "ok" and "pid" in ran.json()["result"]
        failed = client.post("/api/v1/jobs/broken/run", headers=operator_headers).json()
        assert failed["status"] == "error" and "on purpose" in failed["error"]
        missing = client.post("/api/v1/jobs/nosuch/run", headers=operator_headers)
        assert missing.status_code == 404 and "known jobs" in missing.json()["detail"]
        assert client.post("/api/v1/jobs/bad name!/run", headers=operator_headers).status_code in (404, 422)

        jobs = {job["name"]: job for job in client.get("/api/v1/jobs", headers=viewer_headers).json()["jobs"]}
        assert jobs["tick"]["last_run"]["status"] == "ok" and jobs["tick"]["last_success_at"]
        assert jobs["broken"]["last_run"]["error"] == "RuntimeError: the test job failed on purpose"
        assert jobs["broken"]["last_success_at"] is None
        history = client.get("/api/v1/jobs/tick/runs?limit=5", headers=viewer_headers).json()
        assert [run["trigger"] for run in history] == ["manual"]
        assert client.get("/api/v1/jobs/nosuch/runs", headers=viewer_headers).status_code == 404


def test_lifespan_starts_the_scheduler_which_leads_runs_and_hands_back(ctx: AppContext) -> None:
    ctx.settings.install(scheduler_settings(SCHEDULER_ENABLED=True, SCHEDULER_LEASE_BACKEND="database"))
    with TestClient(create_app(ctx=ctx)):
        scheduler = running_scheduler(ctx)
        assert scheduler is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with ctx.session_factory() as session:
                if session.scalars(select(JobRun).where(JobRun.job == "tick", JobRun.status == "ok")).first():
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the scheduler started by the lifespan never ran the tick job")
        assert scheduler.is_leader
        assert set(scheduler.next_run_times()) == {"tick", "slow", "broken"}
    assert running_scheduler(ctx) is None
    with ctx.session_factory() as session:
        assert session.scalars(select(SchedulerLease)).first() is None, "the lease was not released"


def test_scheduler_is_off_by_default_in_tests(client: TestClient, ctx: AppContext) -> None:
    assert running_scheduler(ctx) is None
