"""A real scraper-pro stand-in: a local HTTP server that verifies every signature and dedupes events.

    with ScraperProReceiver(secret) as receiver:
        receiver.bounce_url / receiver.delivery_url
        receiver.events["scraper_pro.bounce"]  # {idempotency_key: payload}, each stored once
        receiver.duplicates, receiver.bad_signatures
        receiver.down(); receiver.up()        # connection refused meanwhile

It behaves as the documented contract asks a receiver to: refuse a bad or stale signature with 401,
store each event once by its idempotency key, and answer 2xx only after storing the whole batch.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from email_engine.platform.signing import SignatureProblem, verify_signature
from tests.support.http_peers import HttpPeer, RecordedRequest

__all__ = ["ScraperProReceiver"]


class ScraperProReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.peer = HttpPeer()
        self.peer.handler = self._handle
        self.events: dict[str, dict[str, Any]] = {"scraper_pro.bounce": {}, "scraper_pro.delivery": {}}
        self.duplicates = 0
        self.bad_signatures = 0
        self.batches = 0
        self._lock = threading.Lock()

    def __enter__(self) -> ScraperProReceiver:
        self.peer.up()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.peer.down()

    def up(self) -> None:
        self.peer.up()

    def down(self) -> None:
        self.peer.down()

    @property
    def bounce_url(self) -> str:
        return f"{self.peer.url}/api/bounces"

    @property
    def delivery_url(self) -> str:
        return f"{self.peer.url}/api/deliveries"

    def _handle(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        try:
            verify_signature(
                self.secret,
                timestamp=request.headers.get("x-timestamp"),
                signature=request.headers.get("x-signature"),
                body=request.body,
                now=time.time(),
            )
        except SignatureProblem as exc:
            with self._lock:
                self.bad_signatures += 1
            return 401, {"error": str(exc)}, {}
        batch = json.loads(request.body)
        kind = batch["kind"]
        expected_path = "/api/bounces" if kind == "scraper_pro.bounce" else "/api/deliveries"
        if request.path != expected_path:
            return 404, {"error": "wrong endpoint for this kind"}, {}
        with self._lock:
            self.batches += 1
            store = self.events[kind]
            for event in batch["events"]:
                key = event["idempotency_key"]
                if key in store:
                    self.duplicates += 1
                store[key] = event
        return 200, {"ok": True, "stored": len(batch["events"])}, {}
