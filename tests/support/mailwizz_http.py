"""A local MailWizz REST API for tests: the documented subscriber endpoints, a campaign's view and
pause-unpause, and both auth schemes.

Runs a real ``ThreadingHTTPServer`` on 127.0.0.1, port 0. It checks authentication the way
MailWizz does (``X-Api-Key`` for 2.x/3.x; the 1.x HMAC-SHA1 signature, rebuilt here from the
request as received) and answers ``{"status": ..., ...}`` JSON like MailWizz.

Refusals are MailWizz's own: ``apps/api/components/web/filters/RequestAccessFilter.php`` answers
**HTTP 400** (not 401/403) with ``{"status": "error", "error": "Invalid API key. Please refer to the
documentation."}``, "Invalid API request params…" (no key), "Invalid API request signature…" and
"Your request expired…" (1.x), or "Your IP address is not allowed to access this server." (the
system's or the key's IP list; ``allowed_ips`` here). The 1.x request time frame is MailWizz's
default ``system.api.request_timeframe`` of 900 s.

Campaigns (apps/api/controllers/CampaignsController.php, routes in apps/api/config/main.php):
``GET campaigns/<uid>`` answers ``{"status": "success", "data": {"record": {..., "status"}}}``;
``PUT campaigns/<uid>/pause-unpause`` runs ``Campaign::pauseUnpause()`` (apps/common/models/
Campaign.php): ``paused`` becomes ``sending``, ``sending``/``processing``/``pending-sending`` become
``paused``, anything else stays, and answers ``{"status": "success", "campaign": {"status"}}``; an
unknown uid is 404 "The campaign does not exist.". The statuses live in ``campaigns`` or, when
``campaign_store`` is set (a :class:`~tests.support.mailwizz_db.MailwizzTestDb`), in MailWizz's own
``campaign`` table on MariaDB, as they do for the real API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

_PAUSABLE = ("sending", "processing", "pending-sending")  # Campaign::getCanBePaused()


class CampaignStore(Protocol):
    def campaign_status(self, campaign_uid: str) -> str | None: ...

    def set_campaign_status(self, campaign_uid: str, status: str) -> None: ...


@dataclass
class FakeMailwizz:
    auth: Literal["api-key", "signature"] = "api-key"
    api_key: str = "test-api-key-0123456789"
    public_key: str = "pub-0123456789abcdef"
    private_key: str = "priv-fedcba9876543210"
    # list_uid -> email -> {"subscriber_uid", "status"}
    lists: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    fail_status: int | None = None
    not_json: bool = False
    base_url: str = ""
    #: Addresses the API accepts (MailWizz's "allowed IPs"); None: any.
    allowed_ips: tuple[str, ...] | None = None
    #: campaign_uid -> status (used when ``campaign_store`` is None)
    campaigns: dict[str, str] = field(default_factory=dict)
    campaign_store: CampaignStore | None = None

    def _campaign_status(self, uid: str) -> str | None:
        if self.campaign_store is not None:
            return self.campaign_store.campaign_status(uid)
        return self.campaigns.get(uid)

    def _save_campaign_status(self, uid: str, status: str) -> None:
        if self.campaign_store is not None:
            self.campaign_store.set_campaign_status(uid, status)
        else:
            self.campaigns[uid] = status

    def add(self, list_uid: str, email: str, uid: str, status: str = "confirmed") -> None:
        self.lists.setdefault(list_uid, {})[email] = {"subscriber_uid": uid, "status": status}

    def status_of(self, list_uid: str, email: str) -> str:
        return self.lists[list_uid][email]["status"]

    # --- authentication, as the MailWizz API checks it -----------------------------------------

    def refusal(self, method: str, path: str, headers: Any, body: dict[str, str], client: str) -> str | None:
        """MailWizz's error text when it refuses the caller, else None (RequestAccessFilter order)."""
        if self.allowed_ips is not None and client not in self.allowed_ips:
            return "Your IP address is not allowed to access this server."
        if self.auth == "api-key":
            key = headers.get("X-Api-Key", "")
            if not key:
                return "Invalid API request params. Please refer to the documentation."
            return (
                None
                if hmac.compare_digest(key, self.api_key)
                else "Invalid API key. Please refer to the documentation."
            )
        if not headers.get("X-MW-PUBLIC-KEY") or not headers.get("X-MW-SIGNATURE"):
            return "Invalid API request params. Please refer to the documentation."
        if headers.get("X-MW-PUBLIC-KEY") != self.public_key:
            return "Invalid API key. Please refer to the documentation."
        try:
            if int(headers.get("X-MW-TIMESTAMP", "0")) + 900 < time.time():
                return "Your request expired. Please refer to the documentation."
        except ValueError:
            return "Invalid API request params. Please refer to the documentation."
        if not self._signed(method, path, headers, body):
            return "Invalid API request signature. Please refer to the documentation."
        return None

    def _signed(self, method: str, path: str, headers: Any, body: dict[str, str]) -> bool:
        signature = headers.get("X-MW-SIGNATURE", "")
        parts = urlsplit(path)
        url = self.base_url + parts.path
        separator = "?"
        query = parse_qsl(parts.query, keep_blank_values=True)
        if query:
            url += "?" + urlencode(sorted(query))
            separator = "&"
        params = {
            name: headers.get(name, "") for name in ("X-MW-PUBLIC-KEY", "X-MW-REMOTE-ADDR", "X-MW-TIMESTAMP")
        }
        params.update(body)
        pairs = "".join(f"{quote(k)}={quote(params[k])}&" for k in sorted(params, key=str.lower))
        expected = hmac.new(
            self.private_key.encode(), f"{method} {url}{separator}{pairs}".encode(), hashlib.sha1
        ).hexdigest()
        return hmac.compare_digest(signature, expected)

    # --- endpoints ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        query = dict(parse_qsl(parts.query))
        if method == "GET" and segments == ["lists"]:
            # GET lists?page=&per_page= (the official SDK's Lists::getLists)
            records = [{"general": {"list_uid": uid}} for uid in sorted(self.lists)]
            per_page = max(1, int(query.get("per_page", "10") or 10))
            return 200, {
                "status": "success",
                "data": {
                    "count": str(len(records)),
                    "total_pages": max(1, -(-len(records) // per_page)),
                    "current_page": int(query.get("page", "1") or 1),
                    "next_page": None,
                    "prev_page": None,
                    "records": records[:per_page],
                },
            }
        if (
            method == "GET"
            and len(segments) == 4
            and segments[0] == "lists"
            and segments[2:]
            == [
                "subscribers",
                "search-by-email",
            ]
        ):
            record = self.lists.get(segments[1], {}).get(query.get("EMAIL", ""))
            if record is None:
                return 404, {"status": "error", "error": "The subscriber does not exist in this list."}
            return 200, {"status": "success", "data": dict(record)}
        if method == "PUT" and len(segments) == 5 and segments[0] == "lists" and segments[4] == "unsubscribe":
            for record in self.lists.get(segments[1], {}).values():
                if record["subscriber_uid"] == segments[3]:
                    record["status"] = "unsubscribed"
                    return 200, {"status": "success"}
            return 404, {"status": "error", "error": "The subscriber does not exist in this list."}
        if method == "PUT" and segments == ["lists", "subscribers", "unsubscribe-by-email-from-all-lists"]:
            email = body.get("EMAIL", "")
            found = [lst[email] for lst in self.lists.values() if email in lst]
            if not found:
                return 404, {"status": "error", "error": "The subscriber does not exist."}
            for record in found:
                record["status"] = "unsubscribed"
            return 200, {"status": "success"}
        if segments[:1] == ["campaigns"] and len(segments) in (2, 3) and segments[1].isalnum():
            uid = segments[1]
            status = self._campaign_status(uid) if uid == uid.lower() else None
            if method == "GET" and len(segments) == 2:
                if status is None:
                    return 404, {"status": "error", "error": "The campaign does not exist."}
                record = {"campaign_uid": uid, "name": f"Campaign {uid}", "type": "regular", "status": status}
                return 200, {"status": "success", "data": {"record": record}}
            if method == "PUT" and segments[2:] == ["pause-unpause"]:
                if status is None:
                    return 404, {"status": "error", "error": "The campaign does not exist."}
                if status == "paused":
                    status = "sending"
                elif status in _PAUSABLE:
                    status = "paused"
                self._save_campaign_status(uid, status)
                return 200, {"status": "success", "campaign": {"status": status}}
        return 404, {"status": "error", "error": "Not found."}


def _handler(fake: FakeMailwizz) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            body = dict(parse_qsl(raw, keep_blank_values=True))
            fake.calls.append((method, self.path))
            if fake.fail_status is not None:
                return self._send(fake.fail_status, {"status": "error", "error": "boom"})
            if fake.not_json:
                data = b"<html>maintenance</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            refused = fake.refusal(method, self.path, self.headers, body, self.client_address[0])
            if refused is not None:
                return self._send(400, {"status": "error", "error": refused})
            status, payload = fake.handle(method, self.path, body)
            return self._send(status, payload)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            fake.statuses.append(status)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_PUT(self) -> None:
            self._serve("PUT")

    return Handler


@contextmanager
def running_mailwizz(fake: FakeMailwizz) -> Iterator[FakeMailwizz]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
