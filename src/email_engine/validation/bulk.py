"""Bulk validation jobs: an uploaded CSV validated in the background, resumable after a crash.

Where a job runs: the worker that received the upload starts it at once in a background thread;
the ``validation-jobs`` scheduled job (on the leader) picks up anything pending and any running
job whose lease expired (its worker died), and resumes it from the CSV checkpoint, so no finished
row is validated twice and no job is lost. The lease (``claimed_until``) is taken with a
conditional UPDATE, so two runners never process the same job; the runner extends it per chunk.

Files live under ``VALIDATION_JOBS_DIR/<job id>/`` (input.csv, result.csv and one file per
verdict); with several API hosts that directory must be shared storage.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import Conflict, EmailEngineError, InvalidInput, NotFound
from email_engine.validation.csvfile import RunSummary, inspect_csv, output_paths, validate_csv
from email_engine.validation.models import ValidationJob
from email_engine.validation.service import session_suppression, validator_for
from email_engine.validation.settings import ValidationSettings

__all__ = [
    "JobStatus",
    "accept_upload",
    "claim_job",
    "create_job",
    "get_job",
    "job_progress",
    "list_jobs",
    "purge_expired_jobs",
    "result_path",
    "run_pending_jobs",
    "start_in_background",
    "upload_name",
]

log = structlog.get_logger("email_engine.validation.jobs")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5  # a job that keeps killing its runner is failed, not retried for ever
Clock = Callable[[], datetime]


class JobStatus(StrEnum):
    """A validation job's state; ``validation_job.status`` holds the value."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # finished longer ago than VALIDATION_JOBS_RETENTION_DAYS; files deleted


def _job_dir(options: ValidationSettings, public_id: str) -> Path:
    return options.jobs_dir / public_id


def create_job(
    session: Session,
    *,
    options: ValidationSettings,
    upload: Path,
    filename: str,
    column: str | None,
    created_by: str,
    now: datetime,
) -> ValidationJob:
    """Check the uploaded file (readable CSV with an address column), move it into place, record it."""
    plan = inspect_csv(upload, column=column, label=filename)
    public_id = uuid.uuid4().hex
    directory = _job_dir(options, public_id)
    directory.mkdir(parents=True, exist_ok=False)
    shutil.move(str(upload), directory / "input.csv")
    job = ValidationJob(
        public_id=public_id,
        status=JobStatus.PENDING,
        filename=filename[:255],
        email_column=plan.email_column[:255],
        split=True,
        size_bytes=plan.size,
        bytes_processed=0,
        rows_processed=0,
        valid=0,
        invalid=0,
        risky=0,
        unknown=0,
        attempts=0,
        created_by=created_by[:128],
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name, without directories or control characters (it is shown in errors)."""
    name = "".join(ch for ch in (filename or "") if ch.isprintable()).replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip()[:255] or "upload.csv"


def accept_upload(
    session: Session,
    *,
    options: ValidationSettings,
    stream: IO[bytes],
    filename: str | None,
    column: str | None,
    created_by: str,
    now: datetime,
) -> ValidationJob:
    """Store an uploaded file beside the jobs and record the job (the API's and the console's upload).
    The caller commits, then starts it (:func:`start_in_background`) when ``jobs_autostart``."""
    options.jobs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=options.jobs_dir, prefix="upload-", suffix=".csv", delete=False
    ) as temp:
        shutil.copyfileobj(stream, temp, length=1024 * 1024)
    upload = Path(temp.name)
    try:
        return create_job(
            session,
            options=options,
            upload=upload,
            filename=upload_name(filename),
            column=column,
            created_by=created_by,
            now=now,
        )
    finally:
        upload.unlink(missing_ok=True)


def job_progress(job: ValidationJob) -> float:
    """How far a job is, from 0 to 1 (bytes of the input read; 1 when done)."""
    progress = 1.0 if job.status == JobStatus.DONE else job.bytes_processed / max(job.size_bytes, 1)
    return round(min(progress, 1.0), 4)


def list_jobs(session: Session, *, limit: int = 50, offset: int = 0) -> list[ValidationJob]:
    """The newest jobs first."""
    return list(
        session.scalars(select(ValidationJob).order_by(ValidationJob.id.desc()).limit(limit).offset(offset))
    )


def get_job(session: Session, public_id: str) -> ValidationJob:
    job = session.scalar(select(ValidationJob).where(ValidationJob.public_id == public_id))
    if job is None:
        raise NotFound(f"No validation job has the id {public_id!r}.")
    return job


def result_path(options: ValidationSettings, job: ValidationJob, verdict: str | None) -> Path:
    """The finished result file (all rows, or the rows of one verdict)."""
    if job.status != JobStatus.DONE:
        raise Conflict(f"Job {job.public_id} is {job.status}; its result can be downloaded when it is done.")
    paths = output_paths(_job_dir(options, job.public_id) / "result.csv", split=job.split)
    key = verdict or "main"
    if key not in paths:
        raise InvalidInput(
            "verdict must be one of valid, invalid, risky, unknown (or omitted for every row)."
        )
    return paths[key]


def claim_job(session: Session, *, now: datetime) -> ValidationJob | None:
    """Take the lease on the oldest pending job or a running job whose runner died."""
    candidates = session.scalars(
        select(ValidationJob.id)
        .where(
            or_(
                ValidationJob.status == JobStatus.PENDING,
                (ValidationJob.status == JobStatus.RUNNING) & (ValidationJob.claimed_until < now),
            )
        )
        .order_by(ValidationJob.id)
        .limit(5)
    ).all()
    for job_id in candidates:
        claimed = session.execute(
            update(ValidationJob)
            .where(
                ValidationJob.id == job_id,
                or_(
                    ValidationJob.status == JobStatus.PENDING,
                    (ValidationJob.status == JobStatus.RUNNING) & (ValidationJob.claimed_until < now),
                ),
            )
            .values(status=JobStatus.RUNNING, claimed_until=now + LEASE, attempts=ValidationJob.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if getattr(claimed, "rowcount", 0) == 1:
            job = session.get(ValidationJob, job_id)
            if job is not None:
                session.refresh(job)
                if job.started_at is None:
                    job.started_at = now
                    session.commit()
                return job
    return None


def _run_one(ctx: AppContext, options: ValidationSettings, job: ValidationJob, clock: Clock) -> None:
    directory = _job_dir(options, job.public_id)
    job_id = job.id

    def heartbeat(rows: int, position: int) -> None:
        with ctx.session_factory() as progress_session:
            values: dict[str, Any] = {
                "rows_processed": rows,
                "bytes_processed": position,
                "claimed_until": clock() + LEASE,
            }
            progress_session.execute(update(ValidationJob).where(ValidationJob.id == job_id).values(**values))
            progress_session.commit()

    try:
        plan = inspect_csv(directory / "input.csv", column=job.email_column, label=job.filename)
        with ctx.session_factory() as session:
            summary = validate_csv(
                plan,
                directory / "result.csv",
                validator=validator_for(ctx),
                suppression=session_suppression(session, ctx.settings),
                split=job.split,
                resume=True,
                chunk_rows=options.job_chunk_rows,
                on_progress=heartbeat,
            )
    except EmailEngineError as exc:
        _finish(ctx, job_id, status=JobStatus.FAILED, error=exc.detail, now=clock())
        log.warning("validation_job_failed", job=job.public_id, error=exc.detail)
        return
    (directory / "input.csv").unlink(missing_ok=True)  # the result keeps every input column
    _finish(ctx, job_id, status=JobStatus.DONE, error=None, now=clock(), summary=summary)
    log.info("validation_job_done", job=job.public_id, rows=summary.rows)


def _finish(
    ctx: AppContext,
    job_id: int,
    *,
    status: str,
    error: str | None,
    now: datetime,
    summary: RunSummary | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error, "finished_at": now, "claimed_until": None}
    if summary is not None:
        values.update(
            rows_processed=summary.rows + summary.blank_rows,
            valid=summary.valid,
            invalid=summary.invalid,
            risky=summary.risky,
            unknown=summary.unknown,
        )
    with ctx.session_factory() as session:
        session.execute(update(ValidationJob).where(ValidationJob.id == job_id).values(**values))
        if summary is not None:
            job = session.get(ValidationJob, job_id)
            if job is not None:
                job.bytes_processed = job.size_bytes
        session.commit()


def run_pending_jobs(ctx: AppContext, *, clock: Clock, max_jobs: int = 10) -> dict[str, Any]:
    """Run jobs until none is waiting (at most ``max_jobs``); returns what was done."""
    options = ctx.settings.section(ValidationSettings)
    finished: list[str] = []
    for _ in range(max_jobs):
        with ctx.session_factory() as session:
            job = claim_job(session, now=clock())
            if job is None:
                break
            session.expunge(job)
        if job.attempts > MAX_ATTEMPTS:
            _finish(
                ctx,
                job.id,
                status=JobStatus.FAILED,
                now=clock(),
                error=f"Gave up after {MAX_ATTEMPTS} attempts; each run stopped before the end (see the logs).",
            )
            continue
        _run_one(ctx, options, job, clock)
        finished.append(job.public_id)
    return {"jobs": finished}


def purge_expired_jobs(ctx: AppContext, *, now: datetime) -> int:
    """Delete the files of jobs that finished more than the retention period ago; keep their record."""
    options = ctx.settings.section(ValidationSettings)
    cutoff = now - timedelta(days=options.jobs_retention_days)
    purged = 0
    with ctx.session_factory() as session:
        old = session.scalars(
            select(ValidationJob).where(
                ValidationJob.status.in_((JobStatus.DONE, JobStatus.FAILED)),
                ValidationJob.finished_at < cutoff,
            )
        ).all()
        for job in old:
            shutil.rmtree(_job_dir(options, job.public_id), ignore_errors=True)
            job.status = JobStatus.EXPIRED
            purged += 1
        session.commit()
    return purged


def start_in_background(ctx: AppContext, *, clock: Clock) -> threading.Thread:
    """Start processing now in this worker; the scheduled job covers a worker that dies."""

    def target() -> None:
        try:
            run_pending_jobs(ctx, clock=clock)
        except Exception as exc:  # the lease expires and the scheduled job takes over
            log.error("validation_job_runner_failed", error=type(exc).__name__, exc_info=exc)

    thread = threading.Thread(target=target, name="validation-jobs", daemon=True)
    thread.start()
    return thread
