"""What ``GET /api/v1/jobs`` and ``email-engine jobs list`` show: each job's last run and next run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from email_engine.platform.jobspec import JobSpec
from email_engine.platform.models import JobRun, JobStatus

__all__ = ["job_overview", "last_result", "last_runs", "run_history"]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _latest(session: Session, *conditions: Any) -> dict[str, JobRun]:
    newest = (
        select(JobRun.job, func.max(JobRun.id).label("id")).where(*conditions).group_by(JobRun.job).subquery()
    )
    rows = session.scalars(select(JobRun).join(newest, and_(JobRun.id == newest.c.id)))
    return {row.job: row for row in rows}


def last_runs(session: Session) -> tuple[dict[str, JobRun], dict[str, JobRun], dict[str, JobRun]]:
    """(last run of any kind, last successful run, last scheduled non-skipped run) per job."""
    return (
        _latest(session),
        _latest(session, JobRun.status == JobStatus.OK),
        _latest(session, JobRun.trigger == "schedule", JobRun.status != JobStatus.SKIPPED),
    )


def last_result(session: Session, job: str) -> dict[str, Any]:
    """What the newest successful run of ``job`` returned ({} when it never succeeded)."""
    result = session.scalar(
        select(JobRun.result)
        .where(JobRun.job == job, JobRun.status == JobStatus.OK)
        .order_by(JobRun.started_at.desc())
        .limit(1)
    )
    return result if isinstance(result, dict) else {}


def _run_dict(run: JobRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
        "result": run.result,
        "error": run.error,
        "worker": run.worker,
    }


def job_overview(
    session: Session,
    jobs: Sequence[JobSpec],
    *,
    now: datetime,
    disabled: Sequence[str] = (),
    live_next: dict[str, datetime | None] | None = None,
) -> list[dict[str, Any]]:
    """One entry per job. ``next_run_at`` is the leader's own schedule when this process leads,
    otherwise last scheduled start + interval (``now`` when overdue or never run)."""
    last, last_ok, last_scheduled = last_runs(session)
    entries = []
    for spec in jobs:
        scheduled = last_scheduled.get(spec.name)
        next_run: datetime | None
        if spec.name in disabled:
            next_run = None
        elif live_next and live_next.get(spec.name):
            next_run = live_next[spec.name]
        elif scheduled is not None:
            started = _aware(scheduled.started_at)
            assert started is not None
            next_run = max(now, started + timedelta(seconds=spec.interval_seconds))
        else:
            next_run = now
        ok = last_ok.get(spec.name)
        entries.append(
            {
                "name": spec.name,
                "description": spec.description,
                "interval_seconds": spec.interval_seconds,
                "enabled": spec.name not in disabled,
                "last_run": _run_dict(last.get(spec.name)),
                "last_success_at": ok.started_at.isoformat() if ok else None,
                "next_run_at": next_run.isoformat() if next_run else None,
            }
        )
    return entries


def run_history(session: Session, *, job: str, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id.desc()).limit(limit))
    return [entry for entry in (_run_dict(row) for row in rows) if entry is not None]
