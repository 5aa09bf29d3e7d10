"""Hard bounces and complaints reach MailWizz through the outbox, off by default."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import InvalidInput
from email_engine.integrations.alerts.models import AlertState
from email_engine.integrations.mailwizz.senders import SENDERS, send_suppressions
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.integrations.mailwizz.sync import SYNC_KIND, enqueue_suppression_sync
from email_engine.outbox.models import OutboxEvent
from tests.support.mailwizz_http import FakeMailwizz, running_mailwizz

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LIST = "ab123cd456ef7"
ON = MailwizzSettings(
    _env_file=None, MAILWIZZ_SYNC_SUPPRESSIONS=True, MAILWIZZ_API_KEY="test-api-key-0123456789"
)  # type: ignore[call-arg]


@pytest.fixture
def fake() -> Iterator[FakeMailwizz]:
    with running_mailwizz(FakeMailwizz()) as server:
        server.add(LIST, "gone@example.com", "sub0000000001")
        server.add("zz999yy888xx7", "gone@example.com", "sub0000000002")
        yield server


def _events(session: Session) -> list[OutboxEvent]:
    return list(
        session.scalars(select(OutboxEvent).where(OutboxEvent.kind == SYNC_KIND).order_by(OutboxEvent.id))
    )


def test_off_by_default(session: Session) -> None:
    off = MailwizzSettings(_env_file=None)  # type: ignore[call-arg]
    assert off.sync_suppressions is False
    assert not enqueue_suppression_sync(
        session, settings=off, email="gone@example.com", reason="hard_bounce", now=NOW
    )
    assert _events(session) == []


def test_enqueue_is_idempotent_and_validated(session: Session) -> None:
    assert enqueue_suppression_sync(
        session, settings=ON, email="Gone@Example.com", reason="complaint", now=NOW
    )
    assert not enqueue_suppression_sync(
        session, settings=ON, email="gone@example.com", reason="complaint", now=NOW
    )
    for email, reason, uids in (
        ("not an address", "complaint", ()),
        ("a@example.com\r\nX: y", "complaint", ()),
        ("a@example.com", "spam", ()),
        ("a@example.com", "complaint", ("../customers",)),
    ):
        with pytest.raises(InvalidInput):
            enqueue_suppression_sync(
                session, settings=ON, email=email, reason=reason, list_uids=uids, now=NOW
            )  # type: ignore[arg-type]
    session.commit()
    assert len(_events(session)) == 1


def test_sender_unsubscribes_in_mailwizz(ctx: AppContext, session: Session, fake: FakeMailwizz) -> None:
    assert SENDERS[SYNC_KIND] is send_suppressions
    ctx.settings.install(ON.model_copy(update={"api_url": fake.base_url}))
    enqueue_suppression_sync(session, settings=ON, email="gone@example.com", reason="complaint", now=NOW)
    enqueue_suppression_sync(
        session, settings=ON, email="gone@example.com", reason="hard_bounce", list_uids=[LIST], now=NOW
    )
    enqueue_suppression_sync(session, settings=ON, email="unknown@example.org", reason="complaint", now=NOW)
    session.commit()
    results = send_suppressions(ctx, _events(session))
    assert [r.ok for r in results] == [True, True, True]
    assert fake.status_of(LIST, "gone@example.com") == "unsubscribed"
    assert fake.status_of("zz999yy888xx7", "gone@example.com") == "unsubscribed"


def test_unreachable_mailwizz_is_retryable_and_bad_config_is_not(ctx: AppContext, session: Session) -> None:
    ctx.settings.install(ON)
    enqueue_suppression_sync(session, settings=ON, email="gone@example.com", reason="complaint", now=NOW)
    session.commit()
    events = _events(session)
    [unconfigured] = send_suppressions(ctx, events)
    assert (
        not unconfigured.ok
        and not unconfigured.retryable
        and "MAILWIZZ_API_URL" in (unconfigured.error or "")
    )
    with running_mailwizz(FakeMailwizz()) as server:
        url = server.base_url
    ctx.settings.install(ON.model_copy(update={"api_url": url}))  # the server is gone now
    [down] = send_suppressions(ctx, events)
    assert not down.ok and down.retryable


def test_a_refused_key_keeps_the_syncs_and_raises_an_alert(
    ctx: AppContext, session: Session, fake: FakeMailwizz
) -> None:
    """MailWizz answers a wrong key with HTTP 400: a credential error, never "not found". The syncs
    stay queued (nothing is lost) and the operator is told at once."""
    ctx.settings.install(
        MailwizzSettings(
            _env_file=None,
            MAILWIZZ_API_URL=fake.base_url,
            MAILWIZZ_SYNC_SUPPRESSIONS=True,
            MAILWIZZ_API_KEY="wrong",
        )
    )  # type: ignore[call-arg]
    enqueue_suppression_sync(session, settings=ON, email="gone@example.com", reason="complaint", now=NOW)
    enqueue_suppression_sync(session, settings=ON, email="also@example.com", reason="complaint", now=NOW)
    session.commit()
    results = send_suppressions(ctx, _events(session))
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, True)]
    assert "Invalid API key" in (results[0].error or "")
    assert fake.calls == [
        ("PUT", "/lists/subscribers/unsubscribe-by-email-from-all-lists")
    ]  # one try, not two
    with ctx.session_factory() as check:
        alert = check.scalar(select(AlertState).where(AlertState.key == "health:mailwizz_api_credentials"))
    assert alert is not None and alert.status == "firing" and alert.severity == "critical"
    assert fake.status_of(LIST, "gone@example.com") == "confirmed"


def test_a_refused_key_fails_the_health_check_and_the_job_raises_then_resolves_the_alert(
    ctx: AppContext, fake: FakeMailwizz
) -> None:
    from email_engine.integrations.alerts.jobs import run_health

    url = fake.base_url
    ctx.settings.install(MailwizzSettings(_env_file=None, MAILWIZZ_API_URL=url, MAILWIZZ_API_KEY="wrong"))  # type: ignore[call-arg]
    assert run_health(ctx, NOW)["checks"]["mailwizz_api_credentials"] == "not_configured"  # sync is off
    ctx.settings.install(
        MailwizzSettings(
            _env_file=None, MAILWIZZ_API_URL=url, MAILWIZZ_SYNC_SUPPRESSIONS=True, MAILWIZZ_API_KEY="wrong"
        )
    )  # type: ignore[call-arg]
    first = run_health(ctx, NOW)
    assert first["checks"]["mailwizz_api_credentials"] == "fail"
    assert any("Invalid API key" in issue for issue in first["issues"])
    with ctx.session_factory() as session:
        alert = session.scalar(select(AlertState).where(AlertState.key == "health:mailwizz_api_credentials"))
        assert alert is not None and alert.status == "firing" and alert.severity == "critical"
    # the address check too: MailWizz refuses an IP outside its allowed list with a 400 as well
    ctx.settings.install(ON.model_copy(update={"api_url": url}))
    fake.allowed_ips = ("203.0.113.9",)
    assert run_health(ctx, NOW)["checks"]["mailwizz_api_credentials"] == "fail"
    fake.allowed_ips = None
    second = run_health(ctx, NOW)
    assert second["checks"]["mailwizz_api_credentials"] == "ok"
    with ctx.session_factory() as session:
        alert = session.scalar(select(AlertState).where(AlertState.key == "health:mailwizz_api_credentials"))
        assert alert is not None and alert.status == "resolved"
