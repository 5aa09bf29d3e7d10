"""The local HTTP peer used by integration tests behaves as documented."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http_peers import HttpPeer


def test_records_requests_and_answers_scripted_then_default() -> None:
    with HttpPeer() as peer:
        peer.queue(503, (201, {"id": 7}, {"X-Test": "1"}))
        with httpx.Client(base_url=peer.url) as client:
            first = client.post("/hook?a=1", json={"n": 1})
            second = client.post("/hook", content=b"raw")
            third = client.get("/status")
        assert (first.status_code, second.status_code, third.status_code) == (503, 201, 200)
        assert second.json() == {"id": 7} and second.headers["x-test"] == "1"
        recorded = peer.requests
        assert [(r.method, r.path, r.answered) for r in recorded] == [
            ("POST", "/hook", 503),
            ("POST", "/hook", 201),
            ("GET", "/status", 200),
        ]
        assert recorded[0].query == {"a": ["1"]} and recorded[0].json() == {"n": 1}


def test_down_refuses_connections_and_up_serves_on_the_same_port() -> None:
    peer = HttpPeer().up()
    try:
        port = peer.port
        peer.down()
        with pytest.raises(httpx.ConnectError):
            httpx.get(peer.url + "/x", timeout=2)
        peer.up()
        assert peer.port == port
        peer.handler = lambda request: (202, {"path": request.path}, {})
        assert httpx.get(peer.url + "/y", timeout=2).json() == {"path": "/y"}
        assert len(peer.wait_for(1, timeout=2)) == 1
    finally:
        peer.down()
