"""run_job records every run; locks prevent overlap; duplicate scheduled runs are dropped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, NotFound
from email_engine.ops.registry import all_jobs, find_job
from email_engine.platform.job_runner import acquire_job_lock, run_job
from email_engine.platform.jobspec import JobSpec
from email_engine.platform.models import JobRun
from tests.integration.ops.conftest import scheduler_settings, with_scheduler
from tests.support import scheduler_jobs


def runs(ctx: AppContext) -> list[JobRun]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_ok_and_error_runs_are_recorded(ctx: AppContext) -> None:
    tick, broken = scheduler_jobs.JOBS[0], scheduler_jobs.JOBS[2]
    ok = run_job(ctx, tick, trigger="manual", worker="w1")
    failed = run_job(ctx, broken, trigger="schedule", worker="w1")
    assert ok.status == "ok" and ok.result is not None and "pid" in ok.result
    assert failed.status == "error" and failed.error == "RuntimeError: the test job failed on purpose"
    rows = runs(ctx)
    assert [(r.job, r.trigger, r.status) for r in rows] == [
        ("tick", "manual", "ok"),
        ("broken", "schedule", "error"),
    ]
    assert all(r.finished_at is not None and r.duration_seconds is not None for r in rows)
    assert rows[0].result == ok.result and rows[1].error == failed.error


def test_a_second_run_while_one_is_in_progress_is_skipped(ctx: AppContext) -> None:
    started, release = threading.Event(), threading.Event()

    def blocking(_ctx: AppContext, _now: datetime) -> dict[str, object]:
        started.set()
        release.wait(10)
        return {}

    spec = JobSpec("blocking", blocking, 60, "test")
    thread = threading.Thread(
        target=run_job, args=(ctx, spec), kwargs={"trigger": "schedule", "worker": "w1"}
    )
    thread.start()
    assert started.wait(10)
    second = run_job(ctx, spec, trigger="manual", worker="w2")
    release.set()
    thread.join(10)
    assert second.status == "skipped" and "still in progress" in (second.error or "")
    assert sorted(r.status for r in runs(ctx)) == ["ok", "skipped"]
    # The lock was released: the next run goes ahead.
    assert run_job(ctx, spec, trigger="manual", worker="w2").status == "ok"


def test_an_expired_lock_of_a_crashed_run_is_taken(ctx: AppContext) -> None:
    t0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with ctx.session_factory() as session:
        assert acquire_job_lock(session, job="tick", holder="crashed", now=t0, ttl=60)
        assert not acquire_job_lock(session, job="tick", holder="other", now=t0 + timedelta(seconds=30))
        assert acquire_job_lock(session, job="tick", holder="other", now=t0 + timedelta(seconds=61))
        session.commit()


def test_scheduled_duplicate_within_the_period_is_dropped_unrecorded(ctx: AppContext) -> None:
    tick = scheduler_jobs.JOBS[0]
    assert run_job(ctx, tick, trigger="schedule", worker="leader-1", min_gap_seconds=60).status == "ok"
    duplicate = run_job(ctx, tick, trigger="schedule", worker="leader-2", min_gap_seconds=60)
    assert duplicate.status == "duplicate" and duplicate.run_id is None
    assert run_job(ctx, tick, trigger="manual", worker="cli").status == "ok"  # manual runs always go
    assert len(runs(ctx)) == 2


def test_results_are_made_json_safe(ctx: AppContext) -> None:
    spec = JobSpec("odd", lambda _c, now: {"at": now, "nan": float("nan")}, 60, "test")  # type: ignore[arg-type,return-value]
    outcome = run_job(ctx, spec, trigger="manual", worker="w")
    assert outcome.status == "ok" and outcome.result is not None and "value" in outcome.result


def test_registry_applies_overrides_and_refuses_unknown_or_duplicate_names() -> None:
    jobs = all_jobs(with_scheduler(SCHEDULER_JOB_INTERVALS="tick=7"))
    assert [j.name for j in jobs] == ["broken", "slow", "tick"]
    assert find_job(jobs, "tick").interval_seconds == 7
    everything = all_jobs(with_scheduler(SCHEDULER_ONLY_JOBS="", SCHEDULER_DISABLED_JOBS="slow"))
    assert {"health", "outbox", "tick", "job-runs-prune"} <= {j.name for j in everything}
    assert "slow" not in {j.name for j in everything}
    with pytest.raises(ConfigurationError, match="does not exist"):
        all_jobs(with_scheduler(SCHEDULER_JOB_INTERVALS="nosuch=5"))
    with pytest.raises(ConfigurationError, match="Two jobs"):
        all_jobs(
            with_scheduler(SCHEDULER_JOB_MODULES="tests.support.scheduler_jobs,tests.support.scheduler_jobs")
        )
    with pytest.raises(ConfigurationError, match="cannot be imported"):
        all_jobs(with_scheduler(SCHEDULER_JOB_MODULES="tests.support.no_such_module"))
    with pytest.raises(NotFound, match="known jobs"):
        find_job(jobs, "nosuch")


@pytest.mark.parametrize(
    "values",
    [
        {"SCHEDULER_JOB_INTERVALS": "tick"},
        {"SCHEDULER_JOB_INTERVALS": "tick=0"},
        {"SCHEDULER_LEASE_SECONDS": 3, "SCHEDULER_RENEW_SECONDS": 2},
    ],
)
def test_bad_scheduler_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="SCHEDULER_"):
        scheduler_settings(**values)


def test_a_run_left_running_by_a_killed_process_is_closed_as_an_error(ctx: AppContext) -> None:
    t0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with ctx.session_factory() as session:
        session.add(JobRun(job="tick", trigger="schedule", status="running", started_at=t0, worker="killed"))
        session.commit()
    assert run_job(ctx, scheduler_jobs.JOBS[0], trigger="manual", worker="w").status == "ok"
    orphan = runs(ctx)[0]
    assert orphan.status == "error" and "stopped before the run finished" in (orphan.error or "")
