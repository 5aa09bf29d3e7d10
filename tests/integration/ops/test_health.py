"""Health checks against real local peers (PowerMTA status page, MailWizz API, scraper-pro) and real files."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from email_engine.context import AppContext, build_context
from email_engine.integrations.mailwizz import health as mailwizz_health
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.integrations.powermta import health as powermta_health
from email_engine.integrations.scraper_pro import health as scraper_pro_health
from email_engine.ops import health
from email_engine.ops.settings import HealthSettings
from email_engine.outbox.service import enqueue_event
from email_engine.outbox.settings import OutboxSettings
from email_engine.platform.healthcheck import CheckResult
from email_engine.platform.job_runner import run_job
from email_engine.platform.leader_lease import DatabaseLease
from tests.conftest import make_settings
from tests.integration.ops.conftest import scheduler_settings
from tests.support import scheduler_jobs
from tests.support.http_peers import HttpPeer

PMTA_STATUS = {"status": {"version": "5.5r1", "uptime": "3d", "queue": {"smtp": {"rcp": 1234, "dom": 7}}}}


def run(check: Callable[[AppContext], Awaitable[CheckResult]], ctx: AppContext) -> CheckResult:
    return asyncio.run(check(ctx))


def health_settings(**values: object) -> HealthSettings:
    return HealthSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    with HttpPeer() as server:
        yield server


def test_powermta_status_page_ok_refused_down_and_not_configured(ctx: AppContext, peer: HttpPeer) -> None:
    assert run(powermta_health.check_powermta, ctx).status == "not_configured"
    ctx.settings.install(health_settings(PMTA_STATUS_URL=f"{peer.url}/status?format=json"))
    peer.reply(200, PMTA_STATUS)
    result = run(powermta_health.check_powermta, ctx)
    assert result.status == "ok" and result.data == {
        "version": "5.5r1",
        "uptime": "3d",
        "queued_recipients": 1234,
    }
    assert peer.requests[-1].path == "/status" and peer.requests[-1].query == {"format": ["json"]}
    peer.reply(403, "<html>Forbidden</html>")
    refused = run(powermta_health.check_powermta, ctx)
    assert refused.status == "fail" and "403" in refused.detail and "http-mgmt-allow" in refused.detail
    peer.down()
    down = run(powermta_health.check_powermta, ctx)
    assert down.status == "fail" and "unreachable" in down.detail


@pytest.mark.slow
def test_powermta_status_command(ctx: AppContext) -> None:
    good = f"{sys.executable} -c \"print('PowerMTA v5.5 running')\""
    ctx.settings.install(health_settings(PMTA_STATUS_COMMAND=good))
    assert run(powermta_health.check_powermta, ctx) == CheckResult(
        "ok", "PowerMTA status command succeeded: PowerMTA v5.5 running"
    )
    ctx.settings.install(
        health_settings(
            PMTA_STATUS_COMMAND=f"{sys.executable} -c \"import sys; print('pmta not running'); sys.exit(3)\""
        ),
    )
    failed = run(powermta_health.check_powermta, ctx)
    assert failed.status == "fail" and "exited 3" in failed.detail and "pmta not running" in failed.detail
    ctx.settings.install(health_settings(PMTA_STATUS_COMMAND="/nonexistent/pmta show status"))
    assert "cannot be started" in run(powermta_health.check_powermta, ctx).detail
    ctx.settings.install(health_settings(PMTA_STATUS_COMMAND="pmta 'unbalanced"))
    assert "cannot be parsed" in run(powermta_health.check_powermta, ctx).detail
    ctx.settings.install(
        health_settings(
            PMTA_STATUS_COMMAND=f'{sys.executable} -c "import time; time.sleep(5)"', HEALTH_CHECK_TIMEOUT=0.5
        ),
    )
    assert "did not finish" in run(powermta_health.check_powermta, ctx).detail


def test_mailwizz_api_and_scraper_pro_reachability(ctx: AppContext, peer: HttpPeer) -> None:
    assert run(mailwizz_health.check_mailwizz_api, ctx).status == "not_configured"
    assert run(scraper_pro_health.check_scraper_pro, ctx).status == "not_configured"
    configured = build_context(
        make_settings(
            ctx.settings.database_url,
            ctx.settings.redis_url,
            SCRAPER_PRO_BOUNCE_URL=f"{peer.url}/hooks/bounces?token=secret-in-query",
            SCRAPER_PRO_DELIVERY_URL="http://127.0.0.1:9/closed",
        )
    )
    configured.settings.install(
        MailwizzSettings(_env_file=None, MAILWIZZ_API_URL=f"{peer.url}/api/index.php")
    )  # type: ignore[call-arg]
    try:
        peer.reply(401, {"status": "error", "error": "Unauthorized"})
        mailwizz = run(mailwizz_health.check_mailwizz_api, configured)
        assert mailwizz.status == "ok" and "HTTP 401" in mailwizz.detail
        scraper = run(scraper_pro_health.check_scraper_pro, configured)
        assert scraper.status == "fail" and "127.0.0.1:9" in scraper.detail  # the delivery URL is down
        assert "secret-in-query" not in scraper.detail
        peer.reply(502)
        assert run(mailwizz_health.check_mailwizz_api, configured).status == "fail"
    finally:
        configured.close()


def test_disk_space_thresholds(ctx: AppContext, tmp_path: object) -> None:
    ctx.settings.install(health_settings(DATA_DIR=str(tmp_path)))
    ok = run(health.check_disk, ctx)
    assert ok.data["path"] == str(tmp_path)
    free = ok.data["free_percent"]
    # The defaults (warn below 10 %, fail below 3 %) decide the first verdict.
    assert ok.status == ("fail" if free < 3.0 else "warn" if free < 10.0 else "ok")
    assert f"{free:.1f}% free" in ok.detail
    ctx.settings.install(
        health_settings(DATA_DIR=str(tmp_path), HEALTH_DISK_WARN_PERCENT=min(99.9, free + 0.05))
    )
    assert run(health.check_disk, ctx).status in ("warn", "fail")
    ctx.settings.install(
        health_settings(
            DATA_DIR=str(tmp_path), HEALTH_DISK_WARN_PERCENT=0.01, HEALTH_DISK_FAIL_PERCENT=0.001
        ),
    )
    assert run(health.check_disk, ctx).status == "ok"
    ctx.settings.install(health_settings(DATA_DIR="/nonexistent/data"))
    assert run(health.check_disk, ctx).status == "fail"


def test_scheduler_leader_check(ctx: AppContext) -> None:
    ctx.settings.install(scheduler_settings(SCHEDULER_LEASE_BACKEND="database"))
    assert run(health.check_scheduler, ctx).status == "warn"
    lease = DatabaseLease(ctx.session_factory, identity="host:42:abc", ttl_seconds=30)
    assert lease.acquire_or_renew()
    result = run(health.check_scheduler, ctx)
    assert result.status == "ok" and result.data["holder"] == "host:42:abc"
    short = DatabaseLease(ctx.session_factory, identity="host:42:abc", ttl_seconds=0.01)
    assert short.acquire_or_renew()
    import time

    time.sleep(0.05)
    assert run(health.check_scheduler, ctx).status == "fail"


def test_job_freshness_verdicts() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    jobs = [("health", 300), ("blacklists", 14400)]
    assert health.job_freshness(jobs, {}, {}, now=now, first_run_at=None, stale_factor=3).status == "warn"
    fresh = health.job_freshness(
        jobs,
        {"health": now - timedelta(minutes=4), "blacklists": now - timedelta(hours=5)},
        {"health": ("ok", None), "blacklists": ("ok", None)},
        now=now,
        first_run_at=now - timedelta(days=1),
        stale_factor=3,
    )
    assert fresh.status == "ok"
    stale = health.job_freshness(
        jobs,
        {"health": now - timedelta(minutes=30)},
        {"health": ("ok", None), "blacklists": ("error", "DNS timeout")},
        now=now,
        first_run_at=now - timedelta(days=1),
        stale_factor=3,
    )
    assert stale.status == "warn"
    assert (
        "health last succeeded 30 min ago" in stale.detail
        and "blacklists failed: DNS timeout" in stale.detail
    )
    young = health.job_freshness(
        jobs, {}, {}, now=now, first_run_at=now - timedelta(minutes=1), stale_factor=3
    )
    assert young.status == "ok"


def test_jobs_check_reads_real_runs(ctx: AppContext) -> None:
    ctx.settings.install(scheduler_settings(SCHEDULER_ONLY_JOBS="tick,broken"))
    run_job(ctx, scheduler_jobs.JOBS[0], trigger="manual", worker="w")
    run_job(ctx, scheduler_jobs.JOBS[2], trigger="manual", worker="w")
    result = run(health.check_jobs, ctx)
    assert result.status == "warn" and "broken failed: RuntimeError" in result.detail
    assert result.data["tick"]["last_status"] == "ok"
    ctx.settings.install(scheduler_settings(SCHEDULER_ONLY_JOBS="tick,nosuch"))
    misconfigured = run(health.check_jobs, ctx)
    assert misconfigured.status == "fail" and "'nosuch', which does not exist" in misconfigured.detail


def test_outbox_backlog_thresholds_and_dead_events(ctx: AppContext) -> None:
    from email_engine.outbox.health import check_outbox

    ctx.settings.install(OutboxSettings(_env_file=None, OUTBOX_BACKLOG_WARN=2, OUTBOX_BACKLOG_FAIL=4))  # type: ignore[call-arg]
    assert run(check_outbox, ctx).status == "ok"
    now = datetime.now(UTC)
    with ctx.session_factory() as session:
        for index in range(2):
            enqueue_event(session, kind="test", payload={}, idempotency_key=f"k{index}", now=now)
        session.commit()
    assert run(check_outbox, ctx).status == "warn"
    with ctx.session_factory() as session:
        for index in range(2, 4):
            enqueue_event(session, kind="test", payload={}, idempotency_key=f"k{index}", now=now)
        session.commit()
    result = run(check_outbox, ctx)
    assert result.status == "fail" and result.data["backlog"] == {"test": 4}


def test_health_endpoint_lists_every_check(client: TestClient) -> None:
    body = client.get("/health").json()
    for name in (
        "database",
        "redis",
        "scheduler",
        "powermta",
        "mailwizz_api",
        "scraper_pro",
        "disk",
        "jobs",
        "outbox",
    ):
        assert name in body["checks"], name
    assert body["checks"]["powermta"]["status"] == "not_configured"
    assert not any(issue.startswith("powermta") for issue in body["issues"])


def test_health_job_raises_and_resolves_alerts(ctx: AppContext, peer: HttpPeer) -> None:
    from sqlalchemy import select

    from email_engine.integrations.alerts.jobs import run_health
    from email_engine.outbox.models import OutboxEvent

    ctx.settings.install(health_settings(PMTA_STATUS_URL=f"{peer.url}/status"))
    ctx.settings.install(scheduler_settings())
    peer.reply(503)
    now = datetime.now(UTC)
    first = run_health(ctx, now)
    assert first["checks"]["powermta"] == "fail" and first["alerts_queued"] >= 1
    peer.reply(200, PMTA_STATUS)
    second = run_health(ctx, now + timedelta(minutes=5))
    assert second["checks"]["powermta"] == "ok"
    with ctx.session_factory() as session:
        states = [
            e.payload["state"]
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
            if e.payload["key"] == "health:powermta"
        ]
    assert states == ["firing", "resolved"]
