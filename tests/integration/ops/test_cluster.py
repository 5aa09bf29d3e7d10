"""Three scheduler processes against one database: each period runs once; a killed leader is replaced.

The processes are real (`email-engine scheduler run`), the lease lives in the test database (or in
Redis for the Redis variant), and runs are counted in ``job_run``.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.platform.leader_lease import DatabaseLease, LeaseHolder, RedisLease
from email_engine.platform.models import JobRun
from tests.integration.ops.conftest import TEST_JOBS
from tests.support.databases import REDIS_URL, backend

pytestmark = pytest.mark.slow  # starts three schedulers

REPO = Path(__file__).resolve().parents[3]
TICK_SECONDS = 2
LEASE_SECONDS = 3


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def tick_runs(ctx: AppContext) -> list[JobRun]:
    with ctx.session_factory() as session:
        return list(
            session.scalars(
                select(JobRun).where(JobRun.job == "tick", JobRun.status == "ok").order_by(JobRun.started_at)
            )
        )


def pid_of(holder: LeaseHolder | None) -> int | None:
    return int(holder.holder.split(":")[1]) if holder and holder.live else None


# The Redis lease runs with the PostgreSQL suite (the production shape); SQLite keeps the row lease.
LEASES = ["database", "redis"] if backend() == "postgresql" else ["database"]


@pytest.fixture(params=LEASES)
def cluster(
    request: pytest.FixtureRequest, ctx: AppContext, tmp_path: Path
) -> Iterator[tuple[list[subprocess.Popen[bytes]], Callable[[], LeaseHolder | None]]]:
    prefix = f"ee-test-{uuid.uuid4().hex[:10]}:"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),  # this checkout's code
        "ENVIRONMENT": "test",
        "DATABASE_URL": ctx.settings.database_url,
        "REDIS_URL": REDIS_URL if request.param == "redis" else "",
        "REDIS_KEY_PREFIX": prefix,
        "SCHEDULER_LEASE_BACKEND": request.param,
        "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "SCHEDULER_RENEW_SECONDS": "0.5",
        "SCHEDULER_JOB_MODULES": TEST_JOBS,
        "SCHEDULER_ONLY_JOBS": "tick",
        "TEST_TICK_SECONDS": str(TICK_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        observer_lease = RedisLease(
            client, key=f"{prefix}scheduler:leader", identity="observer", ttl_seconds=1
        )
        observe: Callable[[], LeaseHolder | None] = observer_lease.current
    else:
        observe = DatabaseLease(ctx.session_factory, identity="observer", ttl_seconds=1).current
    command = [sys.executable, "-c", "from email_engine.cli import main; main()", "scheduler", "run"]
    processes = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    try:
        yield processes, observe
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
        if request.param == "redis":
            client.delete(f"{prefix}scheduler:leader")
            client.close()


def assert_once_per_period(starts: list[datetime]) -> None:
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(gap >= TICK_SECONDS * 0.5 for gap in gaps), f"runs closer than half a period: {gaps}"


def test_each_period_runs_once_and_a_killed_leader_is_replaced(
    cluster: tuple[list[subprocess.Popen[bytes]], Callable[[], LeaseHolder | None]], ctx: AppContext
) -> None:
    processes, observe = cluster
    wait_until(lambda: tick_runs(ctx), timeout=60, what="the first tick run")
    window_start = time.monotonic()
    time.sleep(4 * TICK_SECONDS)
    assert all(p.poll() is None for p in processes), "a scheduler process exited"
    runs = tick_runs(ctx)
    elapsed = time.monotonic() - window_start
    # Three processes: without a leader lease this would be about 3x as many runs.
    assert 3 <= len(runs) <= elapsed / TICK_SECONDS + 2, [r.started_at for r in runs]
    assert len({r.worker for r in runs}) == 1, "runs came from more than one process while the leader lived"
    assert_once_per_period([r.started_at for r in runs])

    leader_pid = wait_until(lambda: pid_of(observe()), timeout=10, what="a live leader")
    assert leader_pid in {p.pid for p in processes}
    assert str(leader_pid) == runs[-1].worker.split(":")[1]
    os.kill(int(str(leader_pid)), signal.SIGKILL)
    killed_at = time.monotonic()
    new_pid = wait_until(
        lambda: (pid := pid_of(observe())) and pid != leader_pid and pid,
        timeout=60,
        what="another process to take the lease over",
    )
    takeover = time.monotonic() - killed_at
    assert new_pid in {p.pid for p in processes if p.pid != leader_pid}
    assert takeover < 60, f"takeover took {takeover:.1f} s"

    before = len(tick_runs(ctx))
    wait_until(
        lambda: any(r.worker.split(":")[1] == str(new_pid) for r in tick_runs(ctx)[before - 1 :]),
        timeout=30,
        what="a tick run by the new leader",
    )
    assert_once_per_period([r.started_at for r in tick_runs(ctx)])

    # A clean stop hands the lease back.
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        if process.pid != leader_pid:
            assert process.wait(timeout=30) == 0, process.stderr.read().decode() if process.stderr else ""
    assert observe() is None or not observe().live  # type: ignore[union-attr]
