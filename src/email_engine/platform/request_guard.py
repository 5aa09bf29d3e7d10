"""The ASGI layer around every request: client address, body limits, rate limits, metrics, audit.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so it adds little per request and can refuse an
oversize body before the application reads it. The audit entry of a write is stored by the writer the
app hands in (``audit=``, auth's), so this layer knows no domain.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
import structlog
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.platform.client_address import client_address
from email_engine.platform.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = structlog.get_logger("email_engine.http")


@dataclass(frozen=True, slots=True)
class AuditedWrite:
    """One write to record. ``principal`` is what authentication put in ``request.state.principal``."""

    principal: object | None
    action: str
    target: str
    status_code: int
    client_address: str
    now: datetime
    details: dict[str, Any] | None


#: Adds the audit entry of a write to the session (the guard commits it).
AuditWriter = Callable[[Session, AuditedWrite], None]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNLIMITED_PATHS = frozenset({"/metrics"})
_UNLIMITED_PREFIXES = ("/ui/static/",)  # the console's own stylesheet and script
_AUDITED_PREFIXES = ("/api/v1/", "/ui/")  # writes through the API and through the console
_NOT_AUDITED_PREFIXES = ("/api/v1/webhooks/",)


# C0 controls and DEL. Paths and query parameters take none of them; JSON bodies keep tab, LF and CR
# (free text such as a note may have lines), everything else (NUL first: PostgreSQL refuses it) is refused.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In JSON text such characters can only arrive escaped (raw ones make the JSON invalid: 400).
_ESCAPED_CONTROL = re.compile(rb"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\[bf]")


def _json_strings(value: Any) -> Iterator[tuple[str, str]]:
    """(location, text) of every key and string in a JSON document."""
    stack: list[tuple[str, Any]] = [("body", value)]
    while stack:
        location, item = stack.pop()
        if isinstance(item, str):
            yield location, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield f"{location}.{key}", key
                stack.append((f"{location}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{location}.{index}", child) for index, child in enumerate(item))


def control_character_problem(path: str, query_string: bytes, json_body: bytes | None) -> str | None:
    """Where a control character (NUL, ESC…) was sent, or None. Checked before any route runs."""
    if _CONTROL.search(path):
        return "path"
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace"):
        if _CONTROL.search(name) or _CONTROL.search(value):
            return f"query.{_CONTROL.sub('?', name)[:64]}"
    if json_body and _ESCAPED_CONTROL.search(json_body):
        try:
            document = json.loads(json_body)
        except ValueError:
            return None  # the route answers 400 malformed_json
        for location, text in _json_strings(document):
            if _BODY_CONTROL.search(text):
                return _CONTROL.sub("?", location)[:200]
    return None


def _is_json(headers: Headers) -> bool:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def budget_for(method: str, path: str) -> str | None:
    """Which rate-limit budget a request spends (None: not limited)."""
    if path in _UNLIMITED_PATHS or path.startswith(_UNLIMITED_PREFIXES):
        return None
    if path.startswith("/api/v1/webhooks/"):
        return "webhook"
    if path.startswith("/api/v1/validation") and method == "POST":
        return "validation"
    return "default"


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _replaying(chunks: list[bytes], receive: Receive) -> Receive:
    """A receive that hands the app the already-read body chunks, then the connection's own messages."""
    pending = deque(chunks or [b""])

    async def replay() -> Message:
        if pending:
            chunk = pending.popleft()
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        return await receive()

    return replay


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, ctx: AppContext, body_limits: dict[str, int], audit: AuditWriter
    ) -> None:
        self.app = app
        self.ctx = ctx
        self.audit = audit
        # Longest prefix first so the most specific limit wins.
        self.body_limits = sorted(body_limits.items(), key=lambda item: -len(item[0]))

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.body_limits:
            if path.startswith(prefix):
                return limit
        return self.ctx.settings.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        peer_info = scope.get("client")
        peer = peer_info[0] if peer_info else None
        client = client_address(
            peer, headers.get("x-forwarded-for"), self.ctx.settings.trusted_proxy_networks
        )
        state = scope.setdefault("state", {})
        state["client_address"] = client
        method, path = scope["method"], scope["path"]
        status_holder = {"status": 500}

        async def send_tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            refused = await self._refuse(scope, client, send_tracking)
            if not refused:
                bounded = await self._bounded_receive(scope, headers, receive, send_tracking)
                if bounded is not None:
                    bounded = await self._clean_input(scope, headers, bounded, send_tracking)
                if bounded is not None:
                    await self.app(scope, bounded, send_tracking)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(method, template, str(status_holder["status"])).inc()
            HTTP_REQUEST_SECONDS.labels(method, template).observe(time.perf_counter() - started)
            if (
                method in _WRITE_METHODS
                and path.startswith(_AUDITED_PREFIXES)
                and not path.startswith(_NOT_AUDITED_PREFIXES)
            ):
                await anyio.to_thread.run_sync(
                    self._audit, state, method, path, status_holder["status"], client
                )

    async def _refuse(self, scope: Scope, client: str, send: Send) -> bool:
        budget = budget_for(scope["method"], scope["path"])
        if budget is None:
            return False
        limiter = self.ctx.limiter
        try:
            # A Redis round trip runs in a worker thread so the event loop keeps serving other requests.
            decision = (
                await anyio.to_thread.run_sync(limiter.hit, budget, client)
                if limiter.remote
                else limiter.hit(budget, client)
            )
        except Exception as exc:  # Redis down: fail open rather than take the API down, but say so
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return False
        if decision.allowed:
            return False
        await send_json(
            send,
            429,
            {
                "error": "rate_limited",
                "detail": f"Too many requests: the limit is {decision.limit} per window for this client. "
                f"Retry in {decision.retry_after} s.",
                "retry_after": decision.retry_after,
            },
            {"Retry-After": str(decision.retry_after)},
        )
        return True

    async def _bounded_receive(
        self, scope: Scope, headers: Headers, receive: Receive, send: Send
    ) -> Receive | None:
        """Refuse bodies over the route's limit with 413; buffer chunked bodies to count them."""
        limit = self._limit_for(scope["path"])
        too_large = {
            "error": "payload_too_large",
            "detail": f"The request body is larger than the {limit} bytes this endpoint accepts.",
            "limit_bytes": limit,
        }
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_json(
                    send, 400, {"error": "bad_request", "detail": "Content-Length is not a number."}
                )
                return None
            if int(declared) > limit:
                await send_json(send, 413, too_large)
                return None
            return receive
        if scope["method"] not in _WRITE_METHODS:
            return receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_json(send, 413, too_large)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return _replaying(chunks, receive)

    async def _clean_input(
        self, scope: Scope, headers: Headers, receive: Receive, send: Send
    ) -> Receive | None:
        """Refuse control characters in the path, the query and JSON bodies with 422 (no route runs)."""
        body: bytes | None = None
        if scope["method"] in _WRITE_METHODS and _is_json(headers):
            chunks = []
            while True:  # already capped by _bounded_receive
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
        location = control_character_problem(scope["path"], scope.get("query_string", b""), body)
        if location is not None:
            problem = "control characters (such as NUL) are not accepted"
            await send_json(
                send,
                422,
                {
                    "error": "validation_error",
                    "detail": f"The request is not valid. {location}: {problem}.",
                    "errors": [{"field": location, "message": problem}],
                },
            )
            return None
        return receive if body is None else _replaying([body], receive)

    def _audit(self, state: dict[str, Any], method: str, path: str, status: int, client: str) -> None:
        """A route may name its own target (``request.state.audit_target``), e.g. a redacted one."""
        write = AuditedWrite(
            principal=state.get("principal"),
            action=method,
            target=state.get("audit_target") or _audited_path(path),
            status_code=status,
            client_address=client,
            now=utcnow(),
            details=state.get("audit_details"),
        )
        try:
            with self.ctx.session_factory() as session:
                self.audit(session, write)
                session.commit()
        except Exception as exc:  # the audit must not turn a done write into an error
            log.error("audit_write_failed", error=type(exc).__name__, path=path)


#: Paths that carry personal data: audited without it (the route names a pseudonym when it runs).
_REDACTED_PATHS = ("/api/v1/privacy/addresses/",)


def _audited_path(path: str) -> str:
    for prefix in _REDACTED_PATHS:
        if path.startswith(prefix):
            return prefix + "(redacted)"
    return path
