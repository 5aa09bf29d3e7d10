"""Scraper-pro feedback through the real outbox and a real signed HTTP receiver that goes down and up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.records import IngestRecord
from email_engine.outbox.delivery import drain
from email_engine.outbox.models import OutboxEvent, OutboxStatus
from email_engine.outbox.settings import OutboxSettings
from tests.integration.feedback.conftest import SCRAPER_SECRET
from tests.support.scraper_pro_receiver import ScraperProReceiver

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _record(
    index: int, kind: str, status: str = "", diag: str = "", domain: str = "example.com"
) -> IngestRecord:
    return IngestRecord(
        key=f"key-{kind}-{index:05d}",
        type=kind,
        time_logged=T0 + timedelta(seconds=index),
        rcpt=f"person.{index}@{domain}",
        orig="news@sender.example.com",
        vmta="vmta-a",
        source_ip="192.0.2.10",
        dsn_status=status or None,
        dsn_diag=diag or None,
    )


def _records() -> list[IngestRecord]:
    records: list[IngestRecord] = []
    for index in range(40):
        records.append(
            _record(index, "b", "5.1.1", "550 5.1.1 <x>: Recipient address rejected: User unknown")
        )
    for index in range(40, 70):
        records.append(
            _record(index, "b", "5.7.1", "550 5.7.1 Client host [192.0.2.10] blocked using zen.spamhaus.org")
        )
    for index in range(70, 90):
        records.append(_record(index, "b", "4.2.2", "452 4.2.2 Mailbox full"))
    for index in range(90, 100):
        records.append(_record(index, "f"))
    for index in range(100, 400):
        records.append(
            _record(index, "d", "2.0.0", "250 ok", domain=("example.org", "example.net")[index % 2])
        )
    return records


def _settings() -> OutboxSettings:
    return OutboxSettings(
        _env_file=None,  # type: ignore[call-arg]
        OUTBOX_BATCH_SIZE=25,
        OUTBOX_BACKOFF_BASE_SECONDS=10,
        OUTBOX_BACKOFF_MAX_SECONDS=60,
        OUTBOX_MAX_ATTEMPTS=20,
    )


def test_outbox_delivers_each_event_once_signed_after_an_outage(ctx: AppContext, session: Session) -> None:
    with ScraperProReceiver(SCRAPER_SECRET) as receiver:
        ctx.settings = ctx.settings.model_copy(
            update={
                "scraper_pro_bounce_url": receiver.bounce_url,
                "scraper_pro_delivery_url": receiver.delivery_url,
            }
        )
        forward = ForwardPolicy(bounces=True, deliveries=True, diag_max_chars=40)
        result = ingest_batch(session, _records(), source="test", now=T0, forward=forward)
        session.commit()
        assert result.bounce_events == 50  # 40 hard bounces + 10 complaints; blocks and soft never
        assert result.delivery_events == 2  # one per recipient domain for this batch

        receiver.down()
        clock = {"now": T0 + timedelta(minutes=1)}
        outage = drain(ctx, settings=_settings(), clock=lambda: clock["now"], budget_seconds=5)
        assert outage.sent == 0 and outage.retried > 0
        pending = session.scalars(select(OutboxEvent)).all()
        assert all(event.status == OutboxStatus.PENDING and event.attempts >= 1 for event in pending)

        receiver.up()
        with structlog.testing.capture_logs() as logs:
            for _ in range(6):  # later attempts, each after the backoff has passed
                clock["now"] += timedelta(minutes=2)
                drain(ctx, settings=_settings(), clock=lambda: clock["now"], budget_seconds=5)
        session.expire_all()
        events = session.scalars(select(OutboxEvent)).all()
        assert {event.status for event in events} == {OutboxStatus.SENT}

    bounces = receiver.events["scraper_pro.bounce"]
    assert receiver.bad_signatures == 0 and receiver.duplicates == 0
    assert len(bounces) == 50
    assert {event["type"] for event in bounces.values()} == {"hard", "complaint"}
    assert all(
        int(event["email"].split(".")[1].split("@")[0]) not in range(40, 90) for event in bounces.values()
    )
    hard = next(event for event in bounces.values() if event["type"] == "hard")
    assert hard["category"] == "bad-mailbox" and hard["dsn_status"] == "5.1.1"
    assert hard["source_ip"] == "192.0.2.10" and hard["vmta"] == "vmta-a" and len(hard["diagnostic"]) <= 40
    deliveries = receiver.events["scraper_pro.delivery"]
    assert sorted((event["domain"], event["delivered"]) for event in deliveries.values()) == [
        ("example.net", 150),
        ("example.org", 150),
    ]
    names = [entry["event"] for entry in logs]
    assert names.count("bounce_forwarded") == 50 and names.count("delivery_forwarded") == 2
    assert all("email" not in entry and "rcpt" not in entry for entry in logs)


def test_wrong_secret_holds_events_until_fixed_and_malformed_batches_dead_letter(
    ctx: AppContext, session: Session
) -> None:
    with ScraperProReceiver("a-different-secret-than-the-engine-uses-000") as receiver:
        ctx.settings = ctx.settings.model_copy(update={"scraper_pro_bounce_url": receiver.bounce_url})
        record = _record(1, "b", "5.1.1", "550 5.1.1 User unknown")
        ingest_batch(session, [record], source="test", now=T0, forward=ForwardPolicy(bounces=True))
        session.commit()
        report: Any = drain(
            ctx, settings=_settings(), clock=lambda: T0 + timedelta(minutes=1), budget_seconds=5
        )
        assert report.retried == 1 and receiver.bad_signatures == 1  # 401: held, not lost
        receiver.secret = SCRAPER_SECRET  # the operator fixes the secret on one side
        report = drain(ctx, settings=_settings(), clock=lambda: T0 + timedelta(minutes=5), budget_seconds=5)
        assert report.sent == 1 and len(receiver.events["scraper_pro.bounce"]) == 1

        receiver.peer.queue(422)
        ingest_batch(session, [_record(2, "f")], source="test", now=T0, forward=ForwardPolicy(bounces=True))
        session.commit()
        report = drain(ctx, settings=_settings(), clock=lambda: T0 + timedelta(minutes=6), budget_seconds=5)
        assert report.dead == 1  # refused for good: visible in GET /api/v1/outbox
