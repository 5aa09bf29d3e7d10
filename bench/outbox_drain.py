"""Outbox throughput: enqueue in transactions, then drain to a real local HTTP receiver.

    .venv/bin/python bench/outbox_drain.py [--events 20000] [--batch 100] [--backend sqlite|postgresql]

Prints events enqueued per second (one transaction per 500 events, as an ingest batch would) and
events delivered per second by one worker and by two concurrent workers (threads, each with its own
connections), with the receiver counting every idempotency key to confirm none arrived twice.
PostgreSQL needs the local server used by the tests (TEST_POSTGRES_ADMIN_URL).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.databases import throwaway_postgres
from tests.support.http_peers import HttpPeer

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import AppContext, build_context
from email_engine.logging import configure_logging
from email_engine.migrate import upgrade_database
from email_engine.outbox.contract import SendResult
from email_engine.outbox.delivery import drain
from email_engine.outbox.models import OutboxEvent
from email_engine.outbox.service import enqueue_event
from email_engine.outbox.settings import OutboxSettings
from email_engine.plugins import import_all_models


def make_sender(url: str, client: httpx.Client):  # type: ignore[no-untyped-def]
    def send(_ctx: AppContext, events: Sequence[OutboxEvent]) -> Sequence[SendResult]:
        body = {"events": [{"key": e.idempotency_key, "payload": e.payload} for e in events]}
        response = client.post(url, json=body, timeout=10)
        return [SendResult(e.id, ok=response.is_success) for e in events]

    return send


def enqueue(ctx: AppContext, count: int, prefix: str) -> float:
    started = time.perf_counter()
    now = utcnow()
    for offset in range(0, count, 500):
        with ctx.session_factory() as session:
            for index in range(offset, min(count, offset + 500)):
                enqueue_event(
                    session,
                    kind="bench",
                    payload={"rcpt_domain": "example.com", "category": "bad-mailbox", "n": index},
                    idempotency_key=f"{prefix}-{index}",
                    now=now,
                )
            session.commit()
    return count / (time.perf_counter() - started)


def deliver(ctx: AppContext, peer: HttpPeer, workers: int, batch: int) -> float:
    settings = OutboxSettings(_env_file=None, OUTBOX_BATCH_SIZE=batch)  # type: ignore[call-arg]
    clients = [httpx.Client() for _ in range(workers)]
    threads = [
        threading.Thread(
            target=drain,
            args=(ctx,),
            kwargs={
                "settings": settings,
                "clock": utcnow,
                "senders": {"bench": make_sender(peer.url + "/feedback", clients[i])},
                "worker": f"bench-{i}",
                "budget_seconds": 3600,
            },
        )
        for i in range(workers)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return elapsed


def run(url: str, events: int, batch: int) -> dict[str, object]:
    upgrade_database(url)
    settings = Settings(_env_file=None, DATABASE_URL=url, ENVIRONMENT="test", LOG_LEVEL="WARNING")  # type: ignore[call-arg]
    configure_logging(settings)
    ctx = build_context(settings)
    figures: dict[str, object] = {"backend": ctx.engine.dialect.name, "events": events, "batch": batch}
    try:
        with HttpPeer() as peer:
            for workers in (1, 2):
                peer.clear()
                figures[f"enqueue_per_s_{workers}"] = round(enqueue(ctx, events, f"w{workers}"))
                elapsed = deliver(ctx, peer, workers, batch)
                keys = Counter(e["key"] for r in peer.requests for e in json.loads(r.body)["events"])
                assert len(keys) == events and set(keys.values()) == {1}, "missing or doubled events"
                figures[f"delivered_per_s_{workers}_worker"] = round(events / elapsed)
    finally:
        ctx.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    import_all_models()
    if args.backend == "postgresql":
        with throwaway_postgres() as url:
            print(json.dumps(run(url, args.events, args.batch)))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(run(f"sqlite:///{Path(folder) / 'bench.db'}", args.events, args.batch)))


if __name__ == "__main__":
    main()
