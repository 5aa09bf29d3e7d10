"""PowerMTA accounting CSV → typed records (pure, streaming).

PowerMTA writes RFC 4180 CSV with a header line whose column order follows ``record-fields``, so every
field is looked up by header name. A new header line in the middle of a stream (restart, rotation, changed
``record-fields``) switches the mapping. A line that cannot be read becomes a :class:`DeadLetter` carrying
its line number, a reason a person can act on and the raw text; the stream always continues.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from types import MappingProxyType
from typing import Final, NamedTuple

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_LINE_CHARS",
    "RECORD_TYPES",
    "AccountingRecord",
    "DeadLetter",
    "clean_diagnostic",
    "is_header_row",
    "parse_accounting",
    "parse_time",
    "record_key",
    "split_quoted",
    "split_status",
]

#: Record types PowerMTA writes: delivered, bounced, transient (per recipient), transient (per queue),
#: received, feedback loop, remote bounce, remote status.
RECORD_TYPES: Final = frozenset({"d", "b", "t", "tq", "r", "f", "rb", "rs"})
#: Types that describe one recipient, so a record without ``rcpt`` is unusable.
_NEEDS_RCPT: Final = frozenset({"d", "b", "t", "f", "rb", "rs"})

#: A field longer than this is truncated (hostile or runaway input must not blow up memory downstream).
MAX_FIELD_CHARS: Final = 8192
#: A logical record (several physical lines when a quoted field holds line breaks) longer than this is
#: set aside.
MAX_LINE_CHARS: Final = 128 * 1024
#: How many physical lines one quoted field may span before the opening line is declared broken.
MAX_RECORD_LINES: Final = 32
#: How much raw text a dead letter keeps.
MAX_RAW_CHARS: Final = 8192


_NO_COLUMNS: Final[Mapping[str, str]] = MappingProxyType({})
_new_record: Final = tuple.__new__


class AccountingRecord(NamedTuple):
    """One accounting record. Strings are "" when the column is absent or empty; times are tz-aware.

    A named tuple rather than a frozen dataclass: the parser builds one per record, and a tuple is built
    about four times faster than 28 frozen-attribute assignments.
    """

    type: str
    time_logged: datetime | None = None
    time_queued: datetime | None = None
    orig: str = ""
    rcpt: str = ""
    orcpt: str = ""
    #: The bare enhanced status code (``5.1.1``), or "" when the field holds none.
    dsn_status: str = ""
    #: The remote server's response with the diagnostic type (``smtp;``) removed.
    dsn_diag: str = ""
    bounce_cat: str = ""
    dlv_size: int | None = None
    feedback_type: str = ""
    #: ``header_<Name>`` columns, keyed by ``<Name>`` as written in the header line.
    headers: Mapping[str, str] = _NO_COLUMNS
    #: Physical line where the record starts (0 when it did not come from a file, e.g. a DSN message).
    line_number: int = 0
    #: Text after the code in ``dsnStatus`` (``bad destination mailbox address``).
    dsn_status_text: str = ""
    #: ``dsnDiag`` exactly as logged.
    dsn_diag_raw: str = ""
    #: Columns this parser has no attribute for (``dlvEsmtpAvailable``, ``rcvMxHostname``…), by header name.
    extra: Mapping[str, str] = _NO_COLUMNS
    # The fields from here on are stored as logged (_PASSTHROUGH); the parser appends them as one slice.
    dsn_action: str = ""
    dsn_mta: str = ""
    src_type: str = ""
    src_mta: str = ""
    dlv_type: str = ""
    dlv_source_ip: str = ""
    dlv_destination_ip: str = ""
    vmta: str = ""
    vmta_pool: str = ""
    job_id: str = ""
    env_id: str = ""
    queue: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A line set aside: where it was, why, and what it said (truncated to MAX_RAW_CHARS)."""

    line_number: int
    reason: str
    raw: str


# Header name (lower-cased) → attribute; the values stay strings until _build converts them.
_COLUMNS: Final[dict[str, str]] = {
    "type": "type",
    "timelogged": "time_logged",
    "timequeued": "time_queued",
    "orig": "orig",
    "rcpt": "rcpt",
    "orcpt": "orcpt",
    "dsnaction": "dsn_action",
    "dsnstatus": "dsn_status",
    "dsndiag": "dsn_diag",
    "dsnmta": "dsn_mta",
    "bouncecat": "bounce_cat",
    "srctype": "src_type",
    "srcmta": "src_mta",
    "dlvtype": "dlv_type",
    "dlvsourceip": "dlv_source_ip",
    "dlvdestinationip": "dlv_destination_ip",
    "dlvsize": "dlv_size",
    "vmta": "vmta",
    "vmtapool": "vmta_pool",
    "jobid": "job_id",
    "envid": "env_id",
    "queue": "queue",
    "feedbacktype": "feedback_type",
    "feedback-type": "feedback_type",
}
_ATTRS: Final = tuple(dict.fromkeys(_COLUMNS.values()))
#: Attributes copied from the row unchanged, in record order (a contiguous run of AccountingRecord's fields).
_PASSTHROUGH: Final = (
    "dsn_action",
    "dsn_mta",
    "src_type",
    "src_mta",
    "dlv_type",
    "dlv_source_ip",
    "dlv_destination_ip",
    "vmta",
    "vmta_pool",
    "job_id",
    "env_id",
    "queue",
)
#: Attributes the parser converts or checks, in the order _build unpacks them.
_CONVERTED: Final = (
    "type",
    "time_logged",
    "time_queued",
    "orig",
    "rcpt",
    "orcpt",
    "dsn_status",
    "dsn_diag",
    "bounce_cat",
    "dlv_size",
    "feedback_type",
)
_HEADER_CELL = re.compile(r"[A-Za-z_][\w.-]*")

# One complete RFC 4180 record, and one whose last field opens a quote that the line does not close.
_FIELD = r'(?:"[^"]*+(?:""[^"]*+)*+"|[^",\r\n]*+)'
_COMPLETE = re.compile(rf"{_FIELD}(?:,{_FIELD})*+\r?\n?")
_OPEN = re.compile(rf'(?:{_FIELD},)*+"[^"]*+(?:""[^"]*+)*+')

_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b\s*(.*)", re.DOTALL)
_OFFSET_GAP = re.compile(r"\s+([+-]\d{2}:?\d{2})$")
_DIAG_TYPE = re.compile(r"\s*[A-Za-z][A-Za-z0-9-]*\s*;\s*")


@lru_cache(maxsize=4096)
def split_status(value: str) -> tuple[str, str]:
    """``"5.1.1 (bad destination mailbox address)"`` → ``("5.1.1", "bad destination mailbox address")``."""
    match = _STATUS.match(value)
    if match is None:
        return "", value.strip()
    text = match.group(2).strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return match.group(1), text


def clean_diagnostic(value: str) -> str:
    """Drop the RFC 3464 diagnostic type (``smtp;``, ``x-postfix;``) and surrounding blanks."""
    if value.startswith("smtp;"):  # nearly every record: skip the regex
        return value[5:].strip()
    match = _DIAG_TYPE.match(value)
    return (value[match.end() :] if match else value).strip()


@lru_cache(maxsize=4096)
def parse_time(value: str) -> datetime | None:
    """PowerMTA (``2026-11-24 10:00:01-0500``), ISO 8601 or UNIX seconds → aware datetime.

    ``<acct-file>`` writes ISO times unless ``iso-times no`` asks for "UNIX time_t, i.e. the number of
    seconds since midnight on January 1, 1970" (PowerMTA User's Guide §3.3.11.7, §11.2.9; its sample
    file has ``d,1178807903,…``). Text without an offset means UTC. Returns None for "" and raises
    ValueError for text that is no time. Cached: a busy log repeats each second.
    """
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return _unix_time(text)
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # "2026-11-24 10:00:01 -0500": a blank before the offset.
        parsed = datetime.fromisoformat(_OFFSET_GAP.sub(r"\1", text))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_MAX_UNIX_SECONDS: Final = 253_402_300_799  # 9999-12-31T23:59:59Z


def _unix_time(text: str) -> datetime:
    seconds = int(text)
    if seconds > _MAX_UNIX_SECONDS:
        raise ValueError(f"{text} seconds is beyond the year 9999")
    return datetime.fromtimestamp(seconds, tz=UTC)


def is_header_row(cells: Sequence[str]) -> bool:
    """Whether split cells are an accounting header line (names only, one of them ``type``)."""
    # A data row always carries a time, which has blanks or colons, so it can never look like this.
    return (
        len(cells) > 1
        and any(cell.strip().lower() == "type" for cell in cells)
        and all(_HEADER_CELL.fullmatch(cell.strip()) for cell in cells)
    )


_COMPILED_COLUMNS_MAX: Final = 64


def _dict_builder(columns: Sequence[tuple[int, str]]) -> Callable[[list[str]], Mapping[str, str]]:
    """A function row → {name: row[index]} for these columns.

    Runs for every record, so for a usual number of columns it is a compiled dict display (four times
    faster than dict(zip(...))). Only integers go into the source text; the names, which come from the
    input's header line, are passed as a tuple.
    """
    if not columns:
        return lambda row: _NO_COLUMNS
    names = tuple(name for _, name in columns)
    if len(columns) > _COMPILED_COLUMNS_MAX:  # a hostile header line must not cost a huge compile
        indexes = [index for index, _ in columns]
        return lambda row: dict(zip(names, [row[i] for i in indexes], strict=True))
    entries = ", ".join(f"names[{n}]: row[{index}]" for n, (index, _) in enumerate(columns))
    built: Callable[[list[str]], Mapping[str, str]] = eval(  # noqa: S307 - integers only, see above
        f"lambda row, names=names: {{{entries}}}", {"names": names}
    )
    return built


class _Mapping:
    """Where each attribute sits in rows written under one header line."""

    __slots__ = (
        "converted",
        "extra_columns",
        "header_columns",
        "passthrough",
        "reads_absent",
        "width",
    )

    def __init__(self, cells: Sequence[str]) -> None:
        self.width = len(cells)
        positions: dict[str, int] = {}
        headers: list[tuple[int, str]] = []
        extras: list[tuple[int, str]] = []
        for index, raw_name in enumerate(cells):
            name = raw_name.strip()
            attr = _COLUMNS.get(name.lower())
            if attr is not None:
                positions.setdefault(attr, index)
            elif name.lower().startswith("header_"):
                headers.append((index, name[len("header_") :]))
            else:
                extras.append((index, name))
        # Absent columns read the "" appended at index `width`: one itemgetter call fetches each group.
        self.reads_absent = len(positions) < len(_ATTRS)
        self.converted = itemgetter(*(positions.get(attr, self.width) for attr in _CONVERTED))
        self.passthrough = itemgetter(*(positions.get(attr, self.width) for attr in _PASSTHROUGH))
        self.header_columns = _dict_builder(headers)
        self.extra_columns = _dict_builder(extras)


@lru_cache(maxsize=64)
def _mapping_for(cells: tuple[str, ...]) -> _Mapping:
    # Cached: a stream that repeats its header line (one per restart or rotation) reuses the compiled getters.
    return _Mapping(cells)


class _Feeder:
    """An iterator the csv reader pulls exactly one logical record from at a time."""

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: str | None = None

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        item, self.item = self.item, None
        if item is None:
            raise StopIteration
        return item


def split_quoted(body: str) -> list[str] | None:
    """Split one CSV line (no line end) at its commas and quotes; None when it is not plain RFC 4180.

    The quotes cut the line into unquoted and quoted segments; a quoted segment must fill a whole field (start
    after a comma or at the line start, end before a comma or at the line end), and an empty segment between
    two quoted ones is a doubled (escaped) quote. Anything else returns None and the caller lets the csv
    module parse the line and name the error.
    """
    segments = body.split('"')
    count = len(segments)
    if count % 2 == 0:
        return None  # an odd number of quotes: a field is never closed
    fields = segments[0].split(",")
    index = 1
    while index < count:
        if fields[-1]:
            return None  # text before the opening quote, e.g. a"b"
        value = segments[index]
        after = segments[index + 1]
        while not after and index + 2 < count:
            index += 2  # "" inside a quoted field
            value = f'{value}"{segments[index]}'
            after = segments[index + 1]
        fields[-1] = value
        if after:
            if after[0] != ",":
                return None  # text after the closing quote
            fields.extend(after[1:].split(","))
        index += 2
    return fields


def _truncate(value: str) -> str:
    return value if len(value) <= MAX_FIELD_CHARS else value[:MAX_FIELD_CHARS]


def _close_quote(first: str, source: Iterator[str]) -> tuple[str | None, list[str]]:
    """Join the lines following ``first`` until its open quoted field closes (RFC 4180 allows line breaks
    inside quotes). Returns the whole record, or None when the field is still open after MAX_RECORD_LINES
    lines or MAX_LINE_CHARS characters; also the lines taken from ``source``."""
    parts = [first]
    size = len(first)
    consumed: list[str] = []
    while len(parts) < MAX_RECORD_LINES and size <= MAX_LINE_CHARS:
        following = next(source, None)
        if following is None:
            break
        consumed.append(following)
        parts.append(following)
        size += len(following)
        joined = "".join(parts)
        if _COMPLETE.fullmatch(joined):
            return joined, consumed
    return None, consumed


def parse_accounting(
    lines: Iterable[str], *, header: Sequence[str] | None = None, first_line_number: int = 1
) -> Iterator[AccountingRecord | DeadLetter]:
    """Parse accounting CSV lines (with or without line ends) lazily, one result per record or broken line.

    ``header`` supplies the column names when the stream does not start with its header line (a replayed
    spool chunk); ``first_line_number`` numbers the first line given.

    This loop runs once per record of every accounting line PowerMTA writes, so the common case (a
    complete line) is kept inline and cheap; everything unusual leaves through a slower, careful path.
    """
    mapping = _mapping_for(tuple(header)) if header is not None else None
    feeder = _Feeder()
    reader = csv.reader(feeder, strict=True)
    source: Iterator[str] = iter(lines)
    number = first_line_number - 1
    while True:
        read_again: list[str] | None = None
        for line in source:
            number += 1
            start = number
            text = line
            # An even number of quotes cannot leave a quoted field open: the common case costs one count().
            if text.count('"') % 2 and _OPEN.fullmatch(text.rstrip("\r\n")):
                joined, consumed = _close_quote(text, source)
                if joined is None:
                    # Set the opening line aside and read what it swallowed again as lines of their own.
                    yield DeadLetter(
                        start, "A quoted field is opened on this line and never closed.", text[:MAX_RAW_CHARS]
                    )
                    read_again = consumed
                    break
                number += len(consumed)
                text = joined
            if len(text) > MAX_LINE_CHARS:
                yield DeadLetter(
                    start,
                    f"The line is {len(text)} characters long; the limit is {MAX_LINE_CHARS}.",
                    text[:MAX_RAW_CHARS],
                )
                continue
            if "\x00" in text:
                text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
            body = text.rstrip("\r\n")
            if not body or body.isspace():
                continue  # a blank line holds no record
            # Most lines need no csv state machine: without quotes RFC 4180 is a split, and quoted fields
            # without doubled quotes can be cut at the quotes. Anything else goes to the csv module.
            row: list[str] | None = None
            if "\r" not in body and "\n" not in body:
                row = body.split(",") if '"' not in body else split_quoted(body)
            if row is None:
                feeder.item = text
                try:
                    row = next(reader)
                except (csv.Error, StopIteration) as exc:
                    feeder.item = None
                    yield DeadLetter(start, f"The line is not valid CSV: {exc}.", text[:MAX_RAW_CHARS])
                    continue
            # Header names hold no colon, and a data row with ISO times always does; with UNIX times
            # (iso-times no) is_header_row still refuses it, its times and type are not all names.
            if ":" not in text and is_header_row(row):
                mapping = _mapping_for(tuple(row))
                continue
            if mapping is None:
                yield DeadLetter(
                    start, "A record arrived before any header line naming the columns.", text[:MAX_RAW_CHARS]
                )
                continue
            if len(row) != mapping.width:
                yield DeadLetter(
                    start,
                    f"The line has {len(row)} fields but the header line names {mapping.width}.",
                    text[:MAX_RAW_CHARS],
                )
                continue
            result = _build(row, mapping, start, len(text) > MAX_FIELD_CHARS)
            yield DeadLetter(start, result, text[:MAX_RAW_CHARS]) if isinstance(result, str) else result
        if read_again is None:
            return
        source = chain(read_again, source)


def _build(row: list[str], mapping: _Mapping, number: int, long_line: bool) -> AccountingRecord | str:
    """One row → a record, or the reason it is unusable. Only a long line can hold an oversize field."""
    if mapping.reads_absent:
        row.append("")
    if long_line:
        row = [_truncate(cell) for cell in row]
    (
        kind,
        time_logged,
        time_queued,
        orig,
        rcpt,
        orcpt,
        dsn_status,
        dsn_diag,
        bounce_cat,
        dlv_size,
        feedback_type,
    ) = mapping.converted(row)
    if kind not in RECORD_TYPES:
        kind = kind.strip().lower()
        if kind not in RECORD_TYPES:
            shown = kind[:40] or "(empty)"
            return f"Unknown record type {shown!r}; expected one of {', '.join(sorted(RECORD_TYPES))}."
    rcpt = rcpt.strip()
    if not rcpt and kind in _NEEDS_RCPT:
        return f"A {kind!r} record needs a recipient (rcpt) and this one has none."
    try:
        logged_at = parse_time(time_logged if len(time_logged) <= 64 else time_logged[:64])
    except ValueError:
        return (
            f"timeLogged {time_logged[:64]!r} is not a time (expected e.g. 2026-11-24 10:00:01-0500 or "
            "UNIX seconds)."
        )
    try:
        queued_at = parse_time(time_queued if len(time_queued) <= 64 else time_queued[:64])
    except ValueError:
        return f"timeQueued {time_queued[:64]!r} is not a time (expected e.g. 2026-11-24 10:00:01-0500)."
    size: int | None = None
    if dlv_size:
        try:
            size = int(dlv_size) if dlv_size.isdigit() else _signed_size(dlv_size)
        except ValueError:
            return f"dlvSize {dlv_size[:40]!r} is not a whole number of bytes."
        if size is not None and size < 0:
            return f"dlvSize {size} is negative."
    status_code, status_text = split_status(dsn_status) if dsn_status else ("", "")
    converted = (
        kind,
        logged_at,
        queued_at,
        orig.strip(),
        rcpt,
        orcpt.strip(),
        status_code,
        dsn_diag[5:].strip() if dsn_diag.startswith("smtp;") else clean_diagnostic(dsn_diag),
        bounce_cat.strip(),
        size,
        feedback_type.strip(),
        mapping.header_columns(row),
        number,
        status_text,
        dsn_diag,
        mapping.extra_columns(row),
    )
    # tuple.__new__ on one concatenation: the named tuple's own __new__ would take 28 arguments one by one.
    return _new_record(AccountingRecord, converted + mapping.passthrough(row))


def _signed_size(value: str) -> int | None:
    """dlvSize other than plain digits: blank means absent; anything else must be a whole number."""
    if not value.strip():
        return None
    if "_" in value:
        raise ValueError(value)  # int() would read "1_000"
    return int(value)


@lru_cache(maxsize=4096)
def _time_key(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def record_key(record: AccountingRecord) -> str:
    """Idempotency key from the record's content (never its position): a replay maps to the same key.

    Two genuine attempts differ at least in their time or their outcome, so they get different keys.
    Times are compared as instants, so the same moment written with another offset is the same record.
    """
    parts = (
        record.type,
        _time_key(record.time_logged),
        _time_key(record.time_queued),
        record.orig,
        record.rcpt,
        record.orcpt,
        record.dsn_action,
        record.dsn_status,
        record.dsn_status_text,
        record.dsn_diag_raw or record.dsn_diag,
        record.dsn_mta,
        record.bounce_cat,
        record.src_type,
        record.src_mta,
        record.dlv_type,
        record.dlv_source_ip,
        record.dlv_destination_ip,
        "" if record.dlv_size is None else str(record.dlv_size),
        record.vmta,
        record.vmta_pool,
        record.job_id,
        record.env_id,
        record.queue,
        record.feedback_type,
        str(len(record.headers)),
        *(part for item in sorted(record.headers.items()) for part in item),
        *(part for item in sorted(record.extra.items()) for part in item),
    )
    # Joined with NUL, which the parser never leaves in a value, so no value can shift into its neighbour and
    # collide with another record; a record built elsewhere that holds one is length-prefixed instead.
    text = "\x00".join(parts)
    if text.count("\x00") != len(parts) - 1:
        text = "".join(f"{len(part)}:{part}" for part in parts)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
    return digest.hexdigest()
