"""A local stand-in for Microsoft SNDS's automated data access, serving the feeds as documented.

References (cited by the tests): the SNDS FAQ, https://sendersupport.olc.protection.outlook.com/snds/FAQ.aspx,
and the automated access page, …/snds/auto.aspx: ``data.aspx?key=K[&date=MMDDYY]`` answers one CSV
line per IP and day without a header (IP, activity start, activity end, RCPT commands, DATA commands,
message recipients, filter result, complaint rate, trap message start, trap message end, trap hits,
sample HELO, JMR P1 sender, comments; lines end in CRLF), and ``ipStatus.aspx?key=K`` one line per
blocked range (first IP, last IP, "Yes", reason). The same shapes are in sndslib's test fixtures
(undersfx/sndslib, tests/conftest.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.support.http_peers import HttpPeer, RecordedRequest

__all__ = ["SndsServer", "data_line"]


def data_line(
    ip: str,
    day: date,
    *,
    filter_result: str = "GREEN",
    complaint: str = "< 0.1%",
    trap_hits: int = 0,
    recipients: int = 1200,
    extra: tuple[str, ...] = (),
) -> str:
    stamp = day.strftime("%-m/%-d/%Y")
    traps = (f"{stamp} 9:14 AM", f"{stamp} 3:02 PM") if trap_hits else ("", "")
    cells = [
        ip,
        f"{stamp} 8:00 AM",
        f"{stamp} 9:00 PM",
        str(recipients + 3),
        str(recipients),
        str(recipients),
        filter_result,
        complaint,
        *traps,
        str(trap_hits),
        "mta1.example.com",
        "",
        "",
        *extra,
    ]
    return ",".join(cells)


class SndsServer(HttpPeer):
    """``days``: MMDDYY (or "latest") → the CSV body; ``blocked``: the ipStatus body; ``key``: the key."""

    def __init__(self, key: str = "0f3e5c2a-1d4b-4a8e-9c7f-2b6d8e0a1c3f") -> None:
        super().__init__()
        self.key = key
        self.days: dict[str, str | tuple[int, Any]] = {}
        self.status: str | tuple[int, Any] = ""
        self.handler = self._answer

    def _answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if request.query.get("key") != [self.key]:
            # SNDS answers an unknown key with its sign-in page, not an error status.
            return (
                200,
                "<html><body>Sign in to Smart Network Data Services</body></html>",
                {"Content-Type": "text/html"},
            )
        csv_headers = {"Content-Type": "text/csv; charset=utf-8"}
        if request.path.endswith("/data.aspx"):
            asked = request.query.get("date", ["latest"])[0]
            body = self.days.get(asked, "")
        elif request.path.endswith("/ipStatus.aspx"):
            body = self.status
        else:
            return 404, "not found", {}
        if isinstance(body, tuple):
            return body[0], body[1], {}
        return 200, body.encode(), csv_headers
