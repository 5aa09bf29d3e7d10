"""Delivery: batches to a real local HTTP peer, backoff, dead letters, crash recovery, no double send."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from email_engine.context import AppContext
from email_engine.outbox.contract import SendResult
from email_engine.outbox.delivery import deliver_batch, drain
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.service import enqueue_event
from email_engine.outbox.settings import OutboxSettings
from tests.integration.outbox.conftest import http_sender
from tests.support.http_peers import HttpPeer

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def outbox_settings(**values: object) -> OutboxSettings:
    defaults: dict[str, object] = {
        "OUTBOX_BATCH_SIZE": 10,
        "OUTBOX_MAX_ATTEMPTS": 3,
        "OUTBOX_BACKOFF_BASE_SECONDS": 60,
        "OUTBOX_BACKOFF_MAX_SECONDS": 600,
    }
    defaults.update(values)
    return OutboxSettings(_env_file=None, **defaults)  # type: ignore[call-arg]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def enqueue(ctx: AppContext, count: int, *, kind: str = "test", prefix: str = "e") -> None:
    with ctx.session_factory() as session:
        for index in range(count):
            enqueue_event(
                session, kind=kind, payload={"n": index}, idempotency_key=f"{prefix}{index}", now=T0
            )
        session.commit()


def events(ctx: AppContext) -> list[OutboxEvent]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def received_keys(peer: HttpPeer) -> list[str]:
    return [
        event["key"]
        for request in peer.requests
        if request.answered < 300
        for event in request.json()["events"]
    ]


def test_due_events_are_sent_in_batches_and_marked_sent(ctx: AppContext) -> None:
    enqueue(ctx, 25)
    with HttpPeer() as peer:
        report = drain(
            ctx, settings=outbox_settings(), clock=Clock(T0), senders={"test": http_sender(peer.url)}
        )
        assert report.as_dict() == {
            "claimed": 25,
            "sent": 25,
            "retried": 0,
            "dead": 0,
            "batches": 3,
            "revived": 0,
        }
        assert sorted(received_keys(peer)) == sorted(f"e{i}" for i in range(25))
        assert [len(r.json()["events"]) for r in peer.requests] == [10, 10, 5]
        again = drain(
            ctx, settings=outbox_settings(), clock=Clock(T0), senders={"test": http_sender(peer.url)}
        )
        assert again.claimed == 0 and len(peer.requests) == 3
    assert {(e.status, e.attempts, e.sent_at) for e in events(ctx)} == {("sent", 1, T0)}


def test_peer_down_backs_off_then_delivers_when_back(ctx: AppContext) -> None:
    enqueue(ctx, 3)
    peer = HttpPeer().up()
    peer.down()
    clock = Clock(T0)
    sender = {"test": http_sender(peer.url)}
    try:
        report = drain(ctx, settings=outbox_settings(), clock=clock, senders=sender, rng=random.Random(1))
        assert (report.retried, report.sent) == (3, 0)
        rows = events(ctx)
        assert {(e.status, e.attempts) for e in rows} == {("pending", 1)}
        assert all("unreachable" in (e.last_error or "") for e in rows)
        # Equal jitter: first retry between base/2 and base seconds later.
        delays = [(e.next_attempt_at - T0).total_seconds() for e in rows]
        assert all(30 <= d <= 60 for d in delays)
        assert len(set(delays)) > 1

        peer.up()
        assert drain(ctx, settings=outbox_settings(), clock=clock, senders=sender).claimed == 0  # not due yet
        clock.now = T0 + timedelta(seconds=61)
        assert drain(ctx, settings=outbox_settings(), clock=clock, senders=sender).sent == 3
        assert sorted(received_keys(peer)) == ["e0", "e1", "e2"]
    finally:
        peer.down()
    assert {(e.status, e.attempts, e.last_error) for e in events(ctx)} == {("sent", 2, None)}


def test_dead_letter_after_max_attempts_and_on_permanent_refusal(ctx: AppContext) -> None:
    enqueue(ctx, 1, prefix="retry")
    enqueue(ctx, 1, kind="strict", prefix="refused")
    clock = Clock(T0)
    with HttpPeer() as peer, HttpPeer() as strict:
        peer.reply(503)
        strict.reply(400, {"error": "bad"})
        senders = {"test": http_sender(peer.url), "strict": http_sender(strict.url)}
        for _ in range(3):
            drain(ctx, settings=outbox_settings(), clock=clock, senders=senders)
            clock.now += timedelta(hours=1)
        assert len(peer.requests) == 3 and len(strict.requests) == 1
    by_key = {e.idempotency_key: e for e in events(ctx)}
    assert (by_key["retry0"].status, by_key["retry0"].attempts) == ("dead", 3)
    assert by_key["retry0"].last_error == "peer answered 503"
    assert (by_key["refused0"].status, by_key["refused0"].attempts) == ("dead", 1)


def test_a_sender_that_raises_or_forgets_an_event_fails_it_retryably(ctx: AppContext) -> None:
    enqueue(ctx, 2, kind="boom", prefix="b")
    enqueue(ctx, 2, kind="partial", prefix="p")

    def boom(_ctx: AppContext, _events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
        raise RuntimeError("peer client bug")

    def partial(_ctx: AppContext, batch: Sequence[OutboxEvent]) -> Sequence[SendResult]:
        return [SendResult(batch[0].id, ok=True), SendResult(999_999, ok=True)]  # unknown ids are ignored

    report = drain(
        ctx, settings=outbox_settings(), clock=Clock(T0), senders={"boom": boom, "partial": partial}
    )
    assert (report.sent, report.retried) == (1, 3)
    by_key = {e.idempotency_key: e for e in events(ctx)}
    assert "raised RuntimeError: peer client bug" in (by_key["b0"].last_error or "")
    assert by_key["p0"].status == "sent"
    assert by_key["p1"].last_error == "the partial sender returned no result"


def test_events_of_kinds_without_a_sender_wait(ctx: AppContext) -> None:
    enqueue(ctx, 2, kind="nobody")
    assert (
        drain(
            ctx, settings=outbox_settings(), clock=Clock(T0), senders={"test": http_sender("http://x")}
        ).claimed
        == 0
    )
    assert {e.status for e in events(ctx)} == {"pending"}


def test_an_expired_claim_of_a_crashed_worker_is_taken_again(ctx: AppContext) -> None:
    enqueue(ctx, 1)
    with ctx.session_factory() as session:
        session.execute(
            update(OutboxEvent).values(
                status="sending", claimed_by="dead-worker", locked_until=T0 + timedelta(minutes=5)
            )
        )
        session.commit()
    with HttpPeer() as peer:
        sender = {"test": http_sender(peer.url)}
        assert drain(ctx, settings=outbox_settings(), clock=Clock(T0), senders=sender).claimed == 0
        report = drain(
            ctx, settings=outbox_settings(), clock=Clock(T0 + timedelta(minutes=6)), senders=sender
        )
        assert report.sent == 1 and received_keys(peer) == ["e0"]


@pytest.mark.parametrize("workers", [3])
def test_concurrent_workers_never_send_an_event_twice(ctx: AppContext, workers: int) -> None:
    total = 300
    enqueue(ctx, total)
    with HttpPeer() as peer:
        sender = {"test": http_sender(peer.url)}
        start = threading.Barrier(workers)
        reports = []
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                start.wait()
                reports.append(
                    drain(
                        ctx,
                        settings=outbox_settings(OUTBOX_BATCH_SIZE=7),
                        clock=Clock(T0),
                        senders=sender,
                        worker=name,
                    )
                )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        counts = Counter(received_keys(peer))
    assert sorted(counts) == sorted(f"e{i}" for i in range(total))
    assert set(counts.values()) == {1}, "an event was sent twice"
    assert sum(r.sent for r in reports) == total
    workers_used = {e.claimed_by for e in events(ctx)}
    assert len(workers_used) >= 2, "the batches were not shared between workers"


def test_deliver_batch_with_no_senders_does_nothing(ctx: AppContext) -> None:
    enqueue(ctx, 1)
    assert deliver_batch(ctx, settings=outbox_settings(), clock=Clock(T0), senders={}).claimed == 0


def test_one_drain_tries_a_failing_event_once_even_with_a_tiny_backoff(ctx: AppContext) -> None:
    enqueue(ctx, 2)
    with HttpPeer() as peer:
        peer.reply(503)
        clock = Clock(T0)
        settings = outbox_settings(OUTBOX_BACKOFF_BASE_SECONDS=0.000001, OUTBOX_MAX_ATTEMPTS=50)

        def advancing() -> datetime:
            clock.now += timedelta(milliseconds=1)
            return clock.now

        report = drain(ctx, settings=settings, clock=advancing, senders={"test": http_sender(peer.url)})
        assert (report.claimed, report.retried) == (2, 2)
        assert len(peer.requests) == 1
    assert {e.attempts for e in events(ctx)} == {1}
