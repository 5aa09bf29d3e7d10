"""A Redis that accepts connections but never answers: the limiter times out and lets the request through (fail
open, logged, as when Redis is down), and while it waits the event loop keeps serving other requests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from email_engine.context import build_context
from email_engine.main import create_app
from email_engine.platform import ratelimit
from tests.conftest import make_settings


@dataclass
class SilentRedis:
    url: str
    accepted: threading.Event = field(default_factory=threading.Event)
    #: Per accepted connection, in order: set once the client hung up (redis-py does after a timeout).
    hung_up: list[threading.Event] = field(default_factory=list)


@pytest.fixture
def silent_redis() -> Iterator[SilentRedis]:
    """A TCP listener that accepts and reads but never replies."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    silent = SilentRedis(f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    stop = threading.Event()
    connections: list[socket.socket] = []

    def drain(connection: socket.socket, hung_up: threading.Event) -> None:
        while connection.recv(4096):
            pass
        hung_up.set()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            hung_up = threading.Event()
            silent.hung_up.append(hung_up)
            threading.Thread(target=drain, args=(connection, hung_up), daemon=True).start()
            silent.accepted.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield silent
    finally:
        stop.set()
        thread.join()
        for connection in connections:
            connection.close()
        server.close()


@pytest.mark.timeout(60)
def test_requests_are_served_while_redis_never_answers(
    database_url: str, silent_redis: SilentRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long limiter timeout makes the window in which /metrics must be served wide on a busy machine.
    monkeypatch.setattr(ratelimit, "_REDIS_TIMEOUT_SECONDS", 5.0)
    settings = make_settings(database_url, silent_redis.url, RATE_LIMIT_ENABLED=True)
    ctx = build_context(settings)
    statuses: list[int] = []
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            # /health has a budget, so it asks the silent Redis first and waits there.
            waiting = threading.Thread(target=lambda: statuses.append(client.get("/health").status_code))
            waiting.start()
            assert silent_redis.accepted.wait(30)
            # /metrics has no budget: it is served while the limiter's connection is still waiting.
            metrics = client.get("/metrics")
            limiter_still_waiting = not silent_redis.hung_up[0].is_set()
            waiting.join()
    finally:
        ctx.close()
    assert metrics.status_code == 200
    assert limiter_still_waiting, "the event loop was blocked by the limiter's Redis call"
    assert statuses and statuses[0] in (200, 503)  # let through (503 only if /health finds Redis down)
    assert silent_redis.hung_up[0].is_set()  # the limiter gave up on its own timeout
