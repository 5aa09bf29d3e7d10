"""Operations page: jobs with "run now" (recorded like any run), dead outbox events retried, the audit
log filtered by who acted."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.service import enqueue_event
from email_engine.platform.models import JobRun, JobStatus
from tests.integration.console.conftest import csrf_of


def _dead_event(ctx: AppContext, key: str) -> int:
    with ctx.session_factory() as session:
        enqueue_event(session, kind="alert", payload={"text": "x"}, idempotency_key=key, now=utcnow())
        session.flush()
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.idempotency_key == key)).one()
        event.status = "dead"
        event.dead_cause = "exhausted"
        event.last_error = "peer answered 503"
        session.commit()
        return event.id


def test_run_a_job_now(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    client = login(Role.OPERATOR)
    page = client.get("/ui/operations").text
    assert "job-runs-prune" in page and "never" in page
    answer = client.post(
        "/ui/operations/jobs/run", data={"csrf_token": csrf_of(page), "job": "job-runs-prune"}
    )
    assert answer.status_code == 303
    page = client.get("/ui/operations").text
    assert "job-runs-prune: ok" in page and '<span class="st-ok">ok</span>' in page
    unknown = client.post("/ui/operations/jobs/run", data={"csrf_token": csrf_of(page), "job": "nope"})
    assert unknown.status_code == 404 and "nope" in unknown.text
    with ctx.session_factory() as session:
        runs = session.scalars(select(JobRun).where(JobRun.job == "job-runs-prune")).all()
    assert [(r.trigger, r.status) for r in runs] == [("manual", "ok")]


def test_a_failed_run_is_shown_as_a_failure(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        now = utcnow()
        session.add(
            JobRun(
                job="job-runs-prune",
                trigger="schedule",
                status=JobStatus.ERROR,
                started_at=now,
                finished_at=now,
                duration_seconds=0.5,
                error="OperationalError: database is locked",
                worker="test",
            )
        )
        session.commit()
    page = login(Role.VIEWER).get("/ui/operations").text
    assert '<span class="st-fail">error</span>' in page and "database is locked" in page


def test_dead_events_are_retried(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    first, second = _dead_event(ctx, "a"), _dead_event(ctx, "b")
    client = login(Role.OPERATOR)
    page = client.get("/ui/operations").text
    assert "peer answered 503" in page and "Retry every dead event" in page
    token = csrf_of(page)
    assert (
        client.post(
            "/ui/operations/outbox/retry", data={"csrf_token": token, "event_id": str(first)}
        ).status_code
        == 303
    )
    assert f"Event {first} (alert) is queued again." in client.get("/ui/operations").text
    assert client.post("/ui/operations/outbox/retry", data={"csrf_token": token}).status_code == 303
    assert "1 dead event queued again." in client.get("/ui/operations").text
    with ctx.session_factory() as session:
        assert {e.id: e.status for e in session.scalars(select(OutboxEvent))} == {
            first: "pending",
            second: "pending",
        }


def test_viewer_reads_jobs_and_audit_but_cannot_act(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    _dead_event(ctx, "c")
    client = login(Role.VIEWER)
    page = client.get("/ui/operations").text
    assert ">Run now<" not in page and ">Retry<" not in page and "Retry every dead event" not in page
    assert (
        client.post(
            "/ui/operations/jobs/run", data={"csrf_token": csrf_of(page), "job": "health"}
        ).status_code
        == 403
    )
    audit = client.get("/ui/operations?actor=viewer").text
    assert "/ui/login" in audit and "/ui/operations/jobs/run" in audit and "403" in audit
    assert "No audit entries by nobody" in client.get("/ui/operations?actor=nobody").text
