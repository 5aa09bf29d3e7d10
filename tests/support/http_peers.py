"""A real local HTTP server standing in for an outbound peer (Telegram, scraper-pro, PowerMTA, MailWizz).

    with HttpPeer() as peer:                 # listens on 127.0.0.1, a free port
        peer.url                             # "http://127.0.0.1:PORT"
        peer.reply(200, {"ok": True})        # default answer (dict/list → JSON, str/bytes → as is)
        peer.queue(503, 503, 200)            # the next answers, in order, before the default
        peer.handler = lambda req: (200, {"echo": req.json()}, {})   # or compute answers
        peer.down(); peer.up()               # connection refused, then back on the same port
        peer.requests                        # RecordedRequest(method, path, query, headers, body)
        peer.wait_for(3, timeout=5)          # until 3 requests arrived

Answers given while a status other than 2xx is configured are still recorded, so a test can tell
"tried and refused" from "never tried".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["HttpPeer", "RecordedRequest"]

Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    answered: int = 0

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class _State:
    default: Answer = (200, {"ok": True}, {})
    scripted: list[Answer] = field(default_factory=list)
    handler: Callable[[RecordedRequest], Answer | None] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)


def _encode(body: Any, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    if isinstance(body, bytes):
        return body, headers
    if isinstance(body, str):
        return body.encode(), {"Content-Type": "text/plain; charset=utf-8", **headers}
    return json.dumps(body).encode(), {"Content-Type": "application/json", **headers}


def _make_handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
            )
            answer: Answer | None = None
            with state.lock:
                handler = state.handler
                if state.scripted:
                    answer = state.scripted.pop(0)
            if answer is None and handler is not None:
                answer = handler(request)
            if answer is None:
                with state.lock:
                    answer = state.default
            status, payload, headers = answer
            data, headers = _encode(payload, dict(headers))
            with state.arrived:
                state.requests.append(
                    RecordedRequest(
                        request.method, request.path, request.query, request.headers, body, status
                    )
                )
                state.arrived.notify_all()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler


class HttpPeer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._state = _State()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------
    def up(self) -> HttpPeer:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self._host, self._port), _make_handler(self._state))
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening: clients get "connection refused" until :meth:`up`."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> HttpPeer:
        return self.up()

    def __exit__(self, *_exc: object) -> None:
        self.down()

    # behaviour -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def reply(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> None:
        with self._state.lock:
            self._state.default = (status, {"ok": status < 400} if body is None else body, headers or {})

    def queue(self, *statuses: int | Answer) -> None:
        """Answers for the next requests, in order (a bare status answers ``{"ok": status < 400}``)."""
        with self._state.lock:
            for item in statuses:
                answer = (item, {"ok": item < 400}, {}) if isinstance(item, int) else item
                self._state.scripted.append(answer)

    @property
    def handler(self) -> Callable[[RecordedRequest], Answer | None] | None:
        return self._state.handler

    @handler.setter
    def handler(self, value: Callable[[RecordedRequest], Answer | None] | None) -> None:
        with self._state.lock:
            self._state.handler = value

    # observation -----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._state.arrived:
            while len(self._state.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} requests, got {len(self._state.requests)}")
                self._state.arrived.wait(remaining)
            return list(self._state.requests)
