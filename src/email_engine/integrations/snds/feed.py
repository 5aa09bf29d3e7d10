"""The two SNDS automated-access feeds, read defensively. Pure: text in, rows and problems out.

References: the SNDS FAQ (https://sendersupport.olc.protection.outlook.com/snds/FAQ.aspx) and its
"Automated Data Access" page (…/snds/auto.aspx) describe both feeds; sndslib (undersfx/sndslib,
tests/conftest.py) shows the same shapes as served:

- ``data.aspx?key=K[&date=MMDDYY]``: one CSV line per IP and day, no header line, columns in this
  order: IP address, activity start, activity end, RCPT commands, DATA commands, message recipients,
  filter result (GREEN / YELLOW / RED), complaint rate ("< 0.1%" or "2.4%"), trap message start,
  trap message end, trap hits, sample HELO, JMR P1 sender, comments.
- ``ipStatus.aspx?key=K``: one CSV line per blocked range: first IP, last IP, blocked ("Yes"),
  the reason.

The format has changed over the years, so nothing is assumed beyond that order: a header line, if
one appears, maps columns by name; columns past the known ones are kept (``extra``); missing
trailing columns are empty; a line that cannot be read becomes a :class:`FeedProblem` and the
others still count.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "DATA_COLUMNS",
    "BlockedRange",
    "FeedProblem",
    "FilterResult",
    "SndsDay",
    "parse_data_feed",
    "parse_ip_status",
    "parse_rate",
]

DATA_COLUMNS = (
    "ip_address",
    "activity_start",
    "activity_end",
    "rcpt_commands",
    "data_commands",
    "message_recipients",
    "filter_result",
    "complaint_rate",
    "trap_message_start",
    "trap_message_end",
    "trap_hits",
    "sample_helo",
    "jmr_p1_sender",
    "comments",
)
_STATUS_COLUMNS = ("first_ip", "last_ip", "blocked", "reason")
_TIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")
_RATE = re.compile(r"^\s*(<|&lt;)?\s*(\d+(?:\.\d+)?)\s*%\s*$")
MAX_TEXT = 255


class FilterResult(StrEnum):
    """SNDS's verdict on the IP's mail that day: GREEN (up to 10 % spam), YELLOW (10-90 %), RED (more)."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclass(frozen=True, slots=True)
class FeedProblem:
    line: int
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class SndsDay:
    ip: str
    day: date
    activity_start: str | None
    activity_end: str | None
    rcpt_commands: int | None
    data_commands: int | None
    message_recipients: int | None
    filter_result: FilterResult | None
    complaint_rate: float | None  # a fraction; "< 0.1%" gives 0.001 with ``complaint_below``
    complaint_below: bool
    complaint_text: str | None
    trap_message_start: str | None
    trap_message_end: str | None
    trap_hits: int | None
    sample_helo: str | None
    jmr_p1_sender: str | None
    comments: str | None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BlockedRange:
    first_ip: str
    last_ip: str
    blocked: bool
    reason: str

    def covers(self, address: str) -> bool:
        try:
            target = ipaddress.ip_address(address)
            low, high = ipaddress.ip_address(self.first_ip), ipaddress.ip_address(self.last_ip)
        except ValueError:
            return False
        return target.version == low.version and int(low) <= int(target) <= int(high)


def parse_rate(text: str) -> tuple[float | None, bool]:
    """``"< 0.1%"`` → (0.001, True); ``"2.4%"`` → (0.024, False); anything else → (None, False)."""
    match = _RATE.match(text)
    if match is None:
        return None, False
    return float(match.group(2)) / 100, match.group(1) is not None


def _time(text: str) -> datetime | None:
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
    return None


def _count(text: str, name: str) -> int | None:
    value = text.strip().replace(",", "")
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"{name} {text[:30]!r} is not a number")
    return int(value)


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


_ALIASES = {
    "ip": "ip_address",
    "ip_address": "ip_address",
    "activity_start": "activity_start",
    "activity_period_start": "activity_start",
    "activity_end": "activity_end",
    "activity_period_end": "activity_end",
    "rcpt_commands": "rcpt_commands",
    "data_commands": "data_commands",
    "message_recipients": "message_recipients",
    "filter_result": "filter_result",
    "complaint_rate": "complaint_rate",
    "trap_message_start": "trap_message_start",
    "trap_message_period_start": "trap_message_start",
    "trap_message_end": "trap_message_end",
    "trap_message_period_end": "trap_message_end",
    "trap_hits": "trap_hits",
    "sample_helo": "sample_helo",
    "jmr_p1_sender": "jmr_p1_sender",
    "sample_mail_from": "jmr_p1_sender",
    "comments": "comments",
}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def _rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n")))
    return [(number, row) for number, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)]


def _clip(value: str) -> str | None:
    value = value.strip()
    return value[:MAX_TEXT] if value else None


def _data_row(cells: dict[str, str], extra: dict[str, str], requested: date | None) -> SndsDay:
    ip_text = cells.get("ip_address", "").strip()
    try:
        ip = ipaddress.ip_address(ip_text).compressed
    except ValueError:
        raise ValueError(f"{ip_text[:45]!r} is not an IP address") from None
    end, start = cells.get("activity_end", ""), cells.get("activity_start", "")
    moment = _time(end) or _time(start)
    day = requested or (moment.date() if moment else None)
    if day is None:
        raise ValueError("the activity period has no readable date (M/D/YYYY h:mm AM)")
    filter_text = cells.get("filter_result", "").strip().upper()
    filter_result: FilterResult | None = None
    if filter_text:
        try:
            filter_result = FilterResult(filter_text)
        except ValueError:
            raise ValueError(f"filter result {filter_text[:20]!r} is not GREEN, YELLOW or RED") from None
    complaint_text = cells.get("complaint_rate", "").strip()
    rate, below = parse_rate(complaint_text) if complaint_text else (None, False)
    if complaint_text and rate is None:
        extra["complaint_rate_unread"] = complaint_text[:MAX_TEXT]
    return SndsDay(
        ip=ip,
        day=day,
        activity_start=_clip(start),
        activity_end=_clip(end),
        rcpt_commands=_count(cells.get("rcpt_commands", ""), "RCPT commands"),
        data_commands=_count(cells.get("data_commands", ""), "DATA commands"),
        message_recipients=_count(cells.get("message_recipients", ""), "message recipients"),
        filter_result=filter_result,
        complaint_rate=rate,
        complaint_below=below,
        complaint_text=_clip(complaint_text),
        trap_message_start=_clip(cells.get("trap_message_start", "")),
        trap_message_end=_clip(cells.get("trap_message_end", "")),
        trap_hits=_count(cells.get("trap_hits", ""), "trap hits"),
        sample_helo=_clip(cells.get("sample_helo", "")),
        jmr_p1_sender=_clip(cells.get("jmr_p1_sender", "")),
        comments=_clip(cells.get("comments", "")),
        extra=extra,
    )


def parse_data_feed(text: str, *, day: date | None = None) -> tuple[list[SndsDay], list[FeedProblem]]:
    """Rows of the IP data feed. ``day``: the date asked for (``date=``), else each row's activity end."""
    rows: list[SndsDay] = []
    problems: list[FeedProblem] = []
    names: list[str] = list(DATA_COLUMNS)
    for number, row in _rows(text):
        if (
            not rows
            and not problems
            and not _is_ip(row[0])
            and any(_normal(cell) in _ALIASES for cell in row)
        ):
            names = [
                _ALIASES.get(_normal(cell), _normal(cell) or f"column_{i + 1}") for i, cell in enumerate(row)
            ]
            continue
        cells: dict[str, str] = {}
        extra: dict[str, str] = {}
        for index, value in enumerate(row):
            name = names[index] if index < len(names) else f"column_{index + 1}"
            if name in DATA_COLUMNS:
                cells[name] = value
            elif value.strip():
                extra[name] = value.strip()[:MAX_TEXT]
        try:
            rows.append(_data_row(cells, extra, day))
        except ValueError as exc:
            problems.append(FeedProblem(number, str(exc), ",".join(row)[:500]))
    return rows, problems


def parse_ip_status(text: str) -> tuple[list[BlockedRange], list[FeedProblem]]:
    """Blocked ranges of the IP status feed; a line that is not two IPs and a flag is a problem."""
    ranges: list[BlockedRange] = []
    problems: list[FeedProblem] = []
    for number, row in _rows(text):
        cells = [cell.strip() for cell in row] + [""] * (len(_STATUS_COLUMNS) - len(row))
        if number == 1 and not _is_ip(cells[0]):
            continue  # a header line
        first, last, flag, *rest = cells
        try:
            low, high = ipaddress.ip_address(first), ipaddress.ip_address(last)
            if low.version != high.version or int(low) > int(high):
                raise ValueError
        except ValueError:
            problems.append(
                FeedProblem(number, "the first two columns are not an IP range", ",".join(row)[:500])
            )
            continue
        ranges.append(
            BlockedRange(
                first_ip=low.compressed,
                last_ip=high.compressed,
                blocked=flag.lower() in ("yes", "true", "1", "blocked"),
                reason=",".join(part for part in rest if part)[:1000],
            )
        )
    return ranges, problems
