"""The cluster scheduler: every worker competes for the leader lease; only the leader runs jobs.

A lease thread calls ``lease.acquire_or_renew()`` every ``SCHEDULER_RENEW_SECONDS``. On winning,
the process schedules every job in an APScheduler ``BackgroundScheduler`` (``max_instances=1``,
``coalesce``, misfire grace), continuing from the last recorded run so a leader change neither
skips nor repeats a period. On losing the lease (or failing to renew it) it pauses at once.
Runs go through :func:`email_engine.platform.job_runner.run_job` (job lock + ``job_run`` record), which also
drops a scheduled run that another leader already made this period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy import func, select

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.job_metrics import SCHEDULER_LEADER
from email_engine.platform.job_runner import run_job
from email_engine.platform.jobspec import JobSpec
from email_engine.platform.leader_lease import DatabaseLease, Lease, RedisLease, process_identity
from email_engine.platform.models import JobRun, JobStatus

__all__ = ["ClusterScheduler", "make_lease", "next_due_times"]

log = structlog.get_logger("email_engine.scheduler")

# A scheduled run closer than this fraction of the interval to the previous one is a duplicate.
DUPLICATE_GAP = 0.5


def make_lease(ctx: AppContext, settings: SchedulerSettings, identity: str) -> Lease:
    backend = settings.lease_backend
    if backend == "auto":
        backend = "redis" if ctx.redis is not None else "database"
    if backend == "redis":
        if ctx.redis is None:
            from email_engine.errors import ConfigurationError

            raise ConfigurationError("SCHEDULER_LEASE_BACKEND=redis needs REDIS_URL.")
        key = f"{ctx.settings.redis_key_prefix}scheduler:leader"
        return RedisLease(ctx.redis, key=key, identity=identity, ttl_seconds=settings.lease_seconds)
    return DatabaseLease(ctx.session_factory, identity=identity, ttl_seconds=settings.lease_seconds)


def next_due_times(ctx: AppContext, jobs: Sequence[JobSpec], now: datetime) -> dict[str, datetime]:
    """When each job is next due: its last scheduled start plus its interval, or now."""
    with ctx.session_factory() as session:
        rows = session.execute(
            select(JobRun.job, func.max(JobRun.started_at))
            .where(JobRun.trigger == "schedule", JobRun.status != JobStatus.SKIPPED)
            .group_by(JobRun.job)
        ).all()
    last = {job: started for job, started in rows}
    due: dict[str, datetime] = {}
    for spec in jobs:
        previous = last.get(spec.name)
        if previous is not None and previous.tzinfo is None:
            previous = previous.replace(tzinfo=UTC)
        due[spec.name] = max(now, previous + timedelta(seconds=spec.interval_seconds)) if previous else now
    return due


class ClusterScheduler:
    def __init__(
        self,
        ctx: AppContext,
        *,
        jobs: Sequence[JobSpec],
        settings: SchedulerSettings,
        lease: Lease | None = None,
        identity: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ctx = ctx
        self.jobs = list(jobs)
        self.settings = settings
        self.identity = identity or process_identity()
        self.lease = lease or make_lease(ctx, settings, self.identity)
        self._clock = clock
        self._stop = threading.Event()
        self._leader = threading.Event()
        self._state_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="scheduler-lease", daemon=True)
        self._aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=max(2, min(8, len(self.jobs))))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_seconds,
            },
        )

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    def start(self) -> None:
        self._aps.start(paused=True)
        self._thread.start()
        log.info("scheduler_started", worker=self.identity, backend=self.lease.backend, jobs=len(self.jobs))

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop competing, let running jobs finish (``wait``), and hand the lease back."""
        self._stop.set()
        self._thread.join(timeout=self.settings.renew_seconds + 10)
        with self._state_lock:
            self._step_down()
        self._aps.shutdown(wait=wait)
        try:
            self.lease.release()
        except Exception as exc:  # the lease then simply expires
            log.warning("scheduler_release_failed", error=type(exc).__name__)
        log.info("scheduler_stopped", worker=self.identity)

    def tick(self) -> bool:
        """One lease round: acquire or renew, then start or stop running jobs. True if leader."""
        try:
            held = self.lease.acquire_or_renew()
        except Exception as exc:  # an unreachable lease store means we cannot be sure we lead
            log.warning("scheduler_lease_error", worker=self.identity, error=type(exc).__name__)
            held = False
        with self._state_lock:
            if self._stop.is_set():
                return False
            if held and not self.is_leader:
                self._become_leader()
            elif not held and self.is_leader:
                self._step_down()
        return held

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # e.g. the database fails while scheduling; try again next round
                log.error(
                    "scheduler_tick_failed", worker=self.identity, error=type(exc).__name__, exc_info=exc
                )
            self._stop.wait(self.settings.renew_seconds)

    def _become_leader(self) -> None:
        due = next_due_times(self.ctx, self.jobs, self._clock())
        for spec in self.jobs:
            self._aps.add_job(
                self._run_scheduled,
                IntervalTrigger(seconds=spec.interval_seconds, timezone=UTC),
                args=[spec],
                id=spec.name,
                name=spec.name,
                next_run_time=due[spec.name],
                replace_existing=True,
            )
        self._leader.set()
        self._aps.resume()
        SCHEDULER_LEADER.set(1)
        log.info("scheduler_leader_acquired", worker=self.identity, backend=self.lease.backend)

    def _step_down(self) -> None:
        if not self.is_leader:
            return
        self._leader.clear()
        self._aps.pause()
        self._aps.remove_all_jobs()
        SCHEDULER_LEADER.set(0)
        log.warning("scheduler_leader_lost", worker=self.identity)

    def _run_scheduled(self, spec: JobSpec) -> None:
        if not self.is_leader or self._stop.is_set():
            return
        outcome = run_job(
            self.ctx,
            spec,
            trigger="schedule",
            worker=self.identity,
            clock=self._clock,
            min_gap_seconds=spec.interval_seconds * DUPLICATE_GAP,
        )
        if outcome.status == JobStatus.DUPLICATE:
            log.info("job_duplicate_dropped", job=spec.name, worker=self.identity)

    def next_run_times(self) -> dict[str, datetime | None]:
        """Next fire time of each job in this process (only the leader has any)."""
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}
