"""Committed events wake the deliverer at once: LISTEN/NOTIFY across processes on PostgreSQL, an
in-process signal on SQLite. The waker drains only when woken (its poll does nothing by itself)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.outbox.models import OutboxEvent, OutboxStatus
from email_engine.outbox.service import enqueue_event
from email_engine.outbox.settings import OutboxSettings
from email_engine.outbox.wakeup import OutboxWaker
from tests.integration.outbox.conftest import http_sender
from tests.support.cli_runner import REPO
from tests.support.http_peers import HttpPeer


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    with HttpPeer() as server:
        yield server


@pytest.fixture
def waker(ctx: AppContext, peer: HttpPeer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OutboxWaker]:
    # Only the "wake" kind is delivered, by a sender posting to the local peer.
    monkeypatch.setattr(
        "email_engine.outbox.delivery.discover_senders", lambda: {"wake": http_sender(peer.url)}
    )
    settings = OutboxSettings(_env_file=None)  # type: ignore[call-arg]
    leader = {"value": True}
    instance = OutboxWaker(ctx, settings=settings, is_leader=lambda: leader["value"], poll_seconds=0.2)
    instance.leader = leader  # type: ignore[attr-defined]
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def _wait_until_sent(ctx: AppContext, key: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with ctx.session_factory() as session:
            status = session.query(OutboxEvent.status).filter(OutboxEvent.idempotency_key == key).scalar()
        if status == OutboxStatus.SENT:
            return True
        time.sleep(0.05)
    return False


def test_a_commit_in_this_process_wakes_the_deliverer(
    ctx: AppContext, waker: OutboxWaker, peer: HttpPeer
) -> None:
    time.sleep(0.5)  # the listener is connected
    with ctx.session_factory() as session:
        enqueue_event(session, kind="wake", payload={"n": 1}, idempotency_key="wake-1", now=utcnow())
        session.commit()
    assert _wait_until_sent(ctx, "wake-1")
    assert len(peer.requests) == 1


def test_a_rolled_back_event_wakes_nobody_and_a_follower_does_not_deliver(
    ctx: AppContext, waker: OutboxWaker, peer: HttpPeer
) -> None:
    time.sleep(0.5)
    waker.leader["value"] = False  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        enqueue_event(session, kind="wake", payload={"n": 2}, idempotency_key="wake-2", now=utcnow())
        session.commit()
    time.sleep(1.0)
    assert peer.requests == []  # not the leader: the leader (or the poll) delivers
    waker.leader["value"] = True  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        enqueue_event(session, kind="wake", payload={"n": 3}, idempotency_key="wake-3", now=utcnow())
        session.rollback()
        enqueue_event(session, kind="wake", payload={"n": 4}, idempotency_key="wake-4", now=utcnow())
        session.commit()
    assert _wait_until_sent(ctx, "wake-4")
    assert _wait_until_sent(ctx, "wake-2")  # due too, delivered in the same drain


@pytest.mark.slow
def test_a_commit_in_another_process_wakes_the_deliverer(
    ctx: AppContext, waker: OutboxWaker, peer: HttpPeer
) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite another process's commits are picked up by the poll")
    time.sleep(0.5)
    script = (
        "from email_engine.clock import utcnow\n"
        "from email_engine.db import make_engine, make_session_factory\n"
        "from email_engine.outbox.service import enqueue_event\n"
        f"factory = make_session_factory(make_engine({ctx.settings.database_url!r}))\n"
        "with factory() as session:\n"
        "    enqueue_event(session, kind='wake', payload={'n': 5}, idempotency_key='wake-5', now=utcnow())\n"
        "    session.commit()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert _wait_until_sent(ctx, "wake-5")
