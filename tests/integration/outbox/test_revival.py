"""An outbox that heals: dead events come back when their peer answers again, exactly once, signed;
operators can retry in bulk; an alert fires when events go dead and resolves when they are revived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.integrations.alerts.models import AlertState
from email_engine.outbox.contract import SendResult
from email_engine.outbox.delivery import drain
from email_engine.outbox.jobs import run_outbox
from email_engine.outbox.models import OutboxEvent, OutboxStatus
from email_engine.outbox.service import enqueue_event
from email_engine.outbox.settings import OutboxSettings
from tests.support.cli_runner import run_cli
from tests.support.scraper_pro_receiver import ScraperProReceiver

SECRET = "scraper-pro shared secret for the revival tests"
BOUNCE = "scraper_pro.bounce"


def _options(**values: Any) -> OutboxSettings:
    base: dict[str, Any] = {"OUTBOX_MAX_ATTEMPTS": 1, "OUTBOX_BATCH_SIZE": 1}
    base.update(values)
    return OutboxSettings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def receiver(ctx: AppContext) -> Iterator[ScraperProReceiver]:
    with ScraperProReceiver(SECRET) as peer:
        ctx.settings = ctx.settings.model_copy(
            update={
                "scraper_pro_bounce_url": peer.bounce_url,
                "scraper_pro_delivery_url": peer.delivery_url,
                "scraper_pro_hmac_secret": ctx.settings.api_key.__class__(SECRET),  # a SecretStr
            }
        )
        ctx.settings.install(_options())
        yield peer


def _enqueue_bounces(ctx: AppContext, count: int, start: int = 0) -> list[str]:
    keys = []
    with ctx.session_factory() as session:
        for index in range(start, start + count):
            key = f"bounce-{index:03d}"
            bounce = {"idempotency_key": key, "email": f"gone{index}@example.org", "type": "hard"}
            assert enqueue_event(
                session,
                kind=BOUNCE,
                payload={"bounces": [bounce]},
                idempotency_key=f"row-{key}",
                now=utcnow(),
            )
            keys.append(key)
        session.commit()
    return keys


def _statuses(ctx: AppContext) -> dict[str, str]:
    with ctx.session_factory() as session:
        return {
            e.idempotency_key: e.status
            for e in session.scalars(select(OutboxEvent).where(OutboxEvent.kind == BOUNCE))
        }


def _alert(ctx: AppContext) -> str | None:
    with ctx.session_factory() as session:
        state = session.scalar(select(AlertState).where(AlertState.key == "outbox_dead:scraper-pro"))
        return state.status if state else None


def test_dead_events_are_delivered_once_signed_in_the_cycle_after_the_peer_returns(
    ctx: AppContext, receiver: ScraperProReceiver
) -> None:
    receiver.down()
    keys = _enqueue_bounces(ctx, 3)
    report = run_outbox(ctx, utcnow())
    assert report["dead"] == 3 and report["dead_by_destination"] == {"scraper-pro": 3}
    assert set(_statuses(ctx).values()) == {"dead"}
    assert _alert(ctx) == "firing"
    assert run_outbox(ctx, utcnow())["sent"] == 0  # still down: nothing revived, nothing lost

    receiver.up()
    report = run_outbox(ctx, utcnow())  # one cycle: the probe answers, the events are revived and sent
    assert report["revived"] == 3 and report["sent"] == 3
    assert set(_statuses(ctx).values()) == {"sent"}
    assert list(receiver.events[BOUNCE]) == keys  # oldest first, each once
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert _alert(ctx) == "resolved"
    run_outbox(ctx, utcnow())
    assert receiver.duplicates == 0 and len(receiver.events[BOUNCE]) == 3


def test_the_next_successful_delivery_revives_the_destination(
    ctx: AppContext, receiver: ScraperProReceiver
) -> None:
    receiver.down()
    old = _enqueue_bounces(ctx, 2)
    drain(ctx, settings=_options(), clock=utcnow)
    assert set(_statuses(ctx).values()) == {"dead"}
    receiver.up()
    new = _enqueue_bounces(ctx, 1, start=10)
    report = drain(ctx, settings=_options(), clock=utcnow)  # no probe: the delivery itself revives
    assert report.revived == 2 and report.sent == 3
    assert sorted(receiver.events[BOUNCE]) == sorted(old + new)


def test_refused_events_and_capped_revivals_wait_for_an_operator(
    ctx: AppContext, receiver: ScraperProReceiver
) -> None:
    _enqueue_bounces(ctx, 1)

    def refuse(_ctx: AppContext, events: Any) -> list[SendResult]:
        return [SendResult(e.id, ok=False, error="HTTP 422", retryable=False) for e in events]

    drain(ctx, settings=_options(), clock=utcnow, senders={BOUNCE: refuse})
    with ctx.session_factory() as session:
        refused = session.scalars(select(OutboxEvent)).one()
        assert (refused.status, refused.dead_cause) == ("dead", "refused")
    _enqueue_bounces(ctx, 1, start=5)
    report = drain(ctx, settings=_options(), clock=utcnow)
    assert report.sent == 1 and report.revived == 0  # a refused event is not sent again by itself
    assert _statuses(ctx)["row-bounce-000"] == "dead"

    receiver.down()
    _enqueue_bounces(ctx, 1, start=7)
    drain(ctx, settings=_options(), clock=utcnow)
    receiver.up()
    report = run_outbox(ctx, utcnow())
    assert report["revived"] == 1
    capped = _options(OUTBOX_MAX_REVIVALS=0)
    receiver.down()
    _enqueue_bounces(ctx, 1, start=8)
    drain(ctx, settings=capped, clock=utcnow)
    receiver.up()
    ctx.settings.install(capped)
    assert run_outbox(ctx, utcnow())["revived"] == 0
    assert _statuses(ctx)["row-bounce-008"] == "dead"


@pytest.mark.slow
def test_bulk_retry_by_api_and_cli(
    ctx: AppContext,
    receiver: ScraperProReceiver,
    client: TestClient,
    operator_headers: dict[str, str],
    viewer_headers: dict[str, str],
    database_url: str,
) -> None:
    receiver.down()
    _enqueue_bounces(ctx, 3)
    drain(ctx, settings=_options(), clock=utcnow)
    url = "/api/v1/outbox/retry"
    assert client.post(url, params={"destination": "scraper-pro"}, headers=viewer_headers).status_code == 403
    assert client.post(url, params={"state": "sent"}, headers=operator_headers).status_code == 422
    other = client.post(url, params={"destination": "alerts", "state": "dead"}, headers=operator_headers)
    assert other.json() == {"requeued": 0, "destination": "alerts", "state": "dead"}
    done = client.post(url, params={"destination": "scraper-pro", "state": "dead"}, headers=operator_headers)
    assert done.status_code == 200 and done.json()["requeued"] == 3
    assert set(_statuses(ctx).values()) == {"pending"}
    overview = client.get("/api/v1/outbox", headers=viewer_headers).json()
    assert overview["backlog"] == {BOUNCE: 3}

    drain(ctx, settings=_options(), clock=utcnow)  # still down: dead again
    cli = run_cli("outbox", "retry", "--all", "--json", database_url=database_url)
    assert cli.returncode == 0, cli.stderr
    assert '"requeued": 3' in cli.stdout
    assert run_cli("outbox", "retry", database_url=database_url).returncode != 0  # ID or --all
    receiver.up()
    assert drain(ctx, settings=_options(), clock=utcnow).sent == 3
    with ctx.session_factory() as session:
        keys = [e.idempotency_key for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
    assert keys == ["row-bounce-000", "row-bounce-001", "row-bounce-002"]  # the same events, same keys
    assert receiver.duplicates == 0 and len(receiver.events[BOUNCE]) == 3
    assert OutboxStatus.SENT in _statuses(ctx).values()
