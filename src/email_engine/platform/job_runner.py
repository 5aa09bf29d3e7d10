"""Run one job and record it in ``job_run``, holding the job's lock so runs never overlap.

The lock (``job_lock`` row) is a lease (``platform.lease``), renewed by a heartbeat thread while
the job runs, and released at the end; a crashed run's lock expires after ``LOCK_SECONDS``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.db import session_scope
from email_engine.platform.job_metrics import JOB_DURATION, JOB_RUNS
from email_engine.platform.jobspec import JobSpec
from email_engine.platform.lease import take_lease
from email_engine.platform.models import JobLock, JobRun, JobStatus

__all__ = [
    "LOCK_SECONDS",
    "RunOutcome",
    "acquire_job_lock",
    "check_as_of",
    "parse_as_of",
    "release_job_lock",
    "run_job",
]

log = structlog.get_logger("email_engine.jobs")

LOCK_SECONDS = 60.0
HEARTBEAT_SECONDS = 15.0
MAX_ERROR = 4000
ORPHAN_ERROR = "The process running this job stopped before the run finished (killed or crashed)."
Trigger = Literal["schedule", "manual", "as_of"]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """``status`` is ok, error or skipped (recorded), or duplicate (a scheduled run another leader
    already did this period; not recorded)."""

    run_id: int | None
    job: str
    status: JobStatus
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    result: dict[str, Any] | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": self.duration_seconds,
            "result": self.result,
            "error": self.error,
        }


def acquire_job_lock(
    session: Session, *, job: str, holder: str, now: datetime, ttl: float = LOCK_SECONDS
) -> bool:
    return take_lease(
        session,
        key=JobLock.job,
        name=job,
        holder=JobLock.holder,
        identity=holder,
        expires=JobLock.locked_until,
        now=now,
        renew={"locked_until": now + timedelta(seconds=ttl)},
    )


def release_job_lock(session: Session, *, job: str, holder: str) -> None:
    session.execute(
        update(JobLock)
        .where(JobLock.job == job, JobLock.holder == holder)
        .values(holder=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )


class _Heartbeat:
    """Keeps extending the job lock while the run lasts (the job may take longer than the TTL)."""

    def __init__(self, ctx: AppContext, job: str, holder: str) -> None:
        self._ctx, self._job, self._holder = ctx, job, holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"job-lock-{job}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with session_scope(self._ctx.session_factory) as session:
                    acquire_job_lock(session, job=self._job, holder=self._holder, now=utcnow())
            except Exception as exc:  # a missed heartbeat only shortens the lock
                log.warning("job_lock_heartbeat_failed", job=self._job, error=type(exc).__name__)


def _json_safe(value: object) -> dict[str, Any]:
    try:
        data = json.loads(json.dumps(value, default=str, allow_nan=False))
    except ValueError:  # NaN/infinity: JSON columns refuse them
        return {"value": repr(value)[:MAX_ERROR]}
    return data if isinstance(data, dict) else {"value": data}


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 time with its offset (``2026-03-02T06:00:00Z``); ``InvalidInput`` otherwise."""
    from email_engine.errors import InvalidInput

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not an ISO 8601 time (use e.g. 2026-03-02T06:00:00Z).") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{text!r} has no time zone; add one (Z for UTC, or +01:00).")
    return value


def check_as_of(spec: JobSpec, as_of: datetime, *, environment: str, force: bool) -> None:
    """Evaluating a state-changing job as of another time acts on today's inventory with another
    day's clock: refused in production unless forced (``Conflict``); a naive time is ``InvalidInput``."""
    from email_engine.errors import Conflict, InvalidInput

    if as_of.tzinfo is None:
        raise InvalidInput("The time to evaluate the job at needs a time zone (Z for UTC).")
    if environment == "production" and spec.changes_state and not force:
        raise Conflict(
            f"The job {spec.name} changes state (MailWizz, the inventory, alerts); evaluating it as of "
            f"{as_of.isoformat()} in production is refused unless forced (--force, or force=true)."
        )


def _recent_scheduled_start(session: Session, job: str) -> datetime | None:
    return session.scalar(
        select(JobRun.started_at)
        .where(JobRun.job == job, JobRun.trigger == "schedule", JobRun.status != JobStatus.SKIPPED)
        .order_by(JobRun.started_at.desc())
        .limit(1)
    )


def run_job(
    ctx: AppContext,
    spec: JobSpec,
    *,
    trigger: Trigger,
    worker: str,
    clock: Callable[[], datetime] = utcnow,
    min_gap_seconds: float | None = None,
    as_of: datetime | None = None,
) -> RunOutcome:
    """Run ``spec`` once and record the run. Never raises for a failing job: the error is recorded.

    ``min_gap_seconds`` (scheduled runs): if another scheduled run started more recently than
    that, this one is a duplicate from a leader change and is dropped without a record.
    ``as_of``: evaluate the job as of that time (replays, simulated days): the job gets it as its
    ``now``; the run is recorded with the real times, trigger ``as_of`` and ``result["as_of"]``.
    """
    if as_of is not None:
        if as_of.tzinfo is None:
            raise ValueError("as_of must carry a time zone.")
        trigger = "as_of"
    holder = f"{worker}:{uuid.uuid4().hex[:8]}"
    started = clock()
    with session_scope(ctx.session_factory) as session:
        locked = acquire_job_lock(session, job=spec.name, holder=holder, now=started)
        if locked:
            # Holding the lock proves no run is in progress: a "running" row is from a dead process.
            session.execute(
                update(JobRun)
                .where(JobRun.job == spec.name, JobRun.status == JobStatus.RUNNING)
                .values(status=JobStatus.ERROR, finished_at=started, error=ORPHAN_ERROR)
                .execution_options(synchronize_session=False)
            )
        if locked and min_gap_seconds is not None:
            last = _recent_scheduled_start(session, spec.name)
            if last is not None and (started - last).total_seconds() < min_gap_seconds:
                release_job_lock(session, job=spec.name, holder=holder)
                return RunOutcome(None, spec.name, JobStatus.DUPLICATE, started, None, None, None, None)
        run = JobRun(
            job=spec.name,
            trigger=trigger,
            status=JobStatus.RUNNING if locked else JobStatus.SKIPPED,
            started_at=started,
            worker=worker[:128],
        )
        if not locked:
            run.finished_at, run.duration_seconds = started, 0.0
            run.error = "Another run of this job is still in progress; this run was skipped."
        session.add(run)
        session.flush()
        run_id = run.id
    if not locked:
        JOB_RUNS.labels(job=spec.name, status=JobStatus.SKIPPED).inc()
        log.info("job_skipped", job=spec.name, trigger=trigger, reason="locked")
        return RunOutcome(run_id, spec.name, JobStatus.SKIPPED, started, started, 0.0, None, run.error)

    status, result, error = JobStatus.OK, None, None
    began = time.perf_counter()
    try:
        with _Heartbeat(ctx, spec.name, holder):
            result = _json_safe(spec.run(ctx, started if as_of is None else as_of))
        if as_of is not None:
            result = {"as_of": as_of.isoformat(), **result}
    except Exception as exc:  # record every failure; the scheduler must keep going
        status = JobStatus.ERROR
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        result = None if as_of is None else {"as_of": as_of.isoformat()}
        log.error("job_failed", job=spec.name, trigger=trigger, error=error, exc_info=exc)
    duration = time.perf_counter() - began
    finished = clock()
    with session_scope(ctx.session_factory) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(
                status=status, finished_at=finished, duration_seconds=duration, result=result, error=error
            )
            .execution_options(synchronize_session=False)
        )
        release_job_lock(session, job=spec.name, holder=holder)
    JOB_RUNS.labels(job=spec.name, status=status).inc()
    JOB_DURATION.labels(job=spec.name).observe(duration)
    if status == JobStatus.OK:
        log.info("job_finished", job=spec.name, trigger=trigger, duration=round(duration, 3))
    return RunOutcome(run_id, spec.name, status, started, finished, duration, result, error)
