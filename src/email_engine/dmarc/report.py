"""DMARC aggregate reports read from XML. Pure: bytes in, a summary out (no I/O, no clock).

The format is RFC 7489 Appendix C (``<feedback>`` with ``report_metadata``, ``policy_published`` and
one ``record`` per source IP and result) and its successor, the DMARCbis aggregate format
(draft-ietf-dmarc-aggregate-reporting, namespace ``urn:ietf:params:xml:ns:dmarc-2.0``, adding
``np``, ``testing``, ``discovery_method`` and a ``pass`` disposition). Both are read the same way:
elements are matched by local name, whatever their namespace.

Safety: the XML is parsed by the C ElementTree parser, which never fetches external entities. On top of that any document declaring a DTD (``<!DOCTYPE``) or an entity (``<!ENTITY``)
is refused before a byte of it is parsed: a DMARC report never needs one, and refusing them is what
defusedxml's ``forbid_dtd``/``forbid_entities`` do (DEVELOPING.md says why defusedxml's own,
pure-Python parser is not used here). Reports up to 8 MiB of XML are parsed whole; larger ones in a
stream where each ``record`` is dropped once read, so memory stays flat whatever the size.

Records of one report are summed by (source IP, header-from, disposition, DKIM/SPF alignment and
raw results): what is stored is one row per distinct combination, with its message count.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple, cast

__all__ = [
    "AggregateReport",
    "Disposition",
    "ReportError",
    "ReportMetadata",
    "RowKey",
    "parse_aggregate_report",
    "report_day",
]

MAX_COUNT = 1_000_000_000  # messages in one record; anything larger is a broken report
# Reports up to this size are parsed whole (quicker), larger ones in a stream (flat memory).
TREE_BYTES = 8 * 1024 * 1024
PEEK_BYTES = 4096  # where the metadata of a report is looked for before a full parse
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_LONGEST_FORBIDDEN = max(len(token) for token in _FORBIDDEN)
# ikea.com's reporter wraps <feedback> in an unclosed <xs:schema …> start tag; parsedmarc strips it
# too (parsedmarc/__init__.py, "Remove invalid schema tags").
_XS_SCHEMA_START = re.compile(rb"<xs:schema[^>]*>")
_PROLOG_BYTES = 4096


class ReportError(ValueError):
    """The input is not a readable DMARC aggregate report; the message says what is wrong."""


class Disposition(StrEnum):
    """``policy_evaluated/disposition``: what the receiver did (RFC 7489 C; DMARCbis adds ``pass``)."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"
    PASS = "pass"  # noqa: S105 - a DMARC disposition, not a password


@dataclass(frozen=True, slots=True)
class ReportMetadata:
    org_name: str
    email: str
    report_id: str
    begin: datetime
    end: datetime
    policy_domain: str
    policy: str | None
    version: str | None

    @property
    def reporter(self) -> str:
        """Who sent the report: its ``org_name``, or the domain of its ``email`` when that is empty."""
        if self.org_name:
            return self.org_name
        return self.email.rpartition("@")[2] or "unknown"


class RowKey(NamedTuple):
    # In the column order of dmarc_record (dmarc/service.py writes a key as it is).
    source_ip: str
    header_from: str
    disposition: Disposition
    dkim_aligned: bool
    spf_aligned: bool
    dkim_result: str
    spf_result: str


@dataclass(slots=True)
class AggregateReport:
    metadata: ReportMetadata
    records: int  # <record> elements read
    rows: dict[RowKey, int] = field(default_factory=dict)  # summed message counts
    skipped: bool = False  # the caller's ``skip`` said so after the metadata: records not read

    @property
    def messages(self) -> int:
        return sum(self.rows.values())


def report_day(begin: datetime, end: datetime) -> date:
    """The UTC day a report covers: the day of the middle of its date range.

    Most reporters cover midnight to midnight UTC; some use their local midnight (ikea.com: 22:00 to
    22:00 UTC), where the first day would be wrong and the middle is right.
    """
    middle = begin + (max(end, begin) - begin) / 2
    return middle.date()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Tags:
    """Element names with the document's namespace prefix, built once per report (C-level ``find``
    with a plain tag is much quicker than comparing local names in Python)."""

    def __init__(self, namespace: str) -> None:
        for name in (
            "record",
            "row",
            "source_ip",
            "count",
            "policy_evaluated",
            "disposition",
            "dkim",
            "spf",
            "identifiers",
            "header_from",
            "auth_results",
            "result",
            "report_metadata",
            "policy_published",
            "version",
            "org_name",
            "email",
            "report_id",
            "date_range",
            "begin",
            "end",
            "domain",
            "p",
        ):
            setattr(self, name, namespace + name)

    record: str
    row: str
    source_ip: str
    count: str
    policy_evaluated: str
    disposition: str
    dkim: str
    spf: str
    identifiers: str
    header_from: str
    auth_results: str
    result: str
    report_metadata: str
    policy_published: str
    version: str
    org_name: str
    email: str
    report_id: str
    date_range: str
    begin: str
    end: str
    domain: str
    p: str


def _namespace(tag: str) -> str:
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _find_text(element: ET.Element | None, tag: str) -> str:
    if element is None:
        return ""
    found = element.find(tag)
    if found is None or found.text is None:
        return ""
    return found.text.strip()


def _domain(value: str) -> str:
    return value.strip().lower().rstrip(".")[:253]


def _epoch(text: str, what: str) -> datetime:
    try:
        seconds = int(float(text))
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ReportError(f"report_metadata/date_range/{what} is {text!r}, not a Unix time.") from None


def _metadata(
    metadata: ET.Element | None, policy: ET.Element | None, version: str | None, tags: _Tags
) -> ReportMetadata:
    if metadata is None:
        raise ReportError("The report has no <report_metadata>; it is not a DMARC aggregate report.")
    if policy is None:
        raise ReportError("The report has no <policy_published>; it is not a DMARC aggregate report.")
    report_id = _find_text(metadata, tags.report_id)
    if not report_id:
        raise ReportError(
            "report_metadata/report_id is empty; a report without an id cannot be deduplicated."
        )
    date_range = metadata.find(tags.date_range)
    begin = _epoch(_find_text(date_range, tags.begin), "begin")
    end = _epoch(_find_text(date_range, tags.end), "end")
    policy_domain = _domain(_find_text(policy, tags.domain))
    if not policy_domain:
        raise ReportError(
            "policy_published/domain is empty; the report does not say which domain it is about."
        )
    return ReportMetadata(
        org_name=_find_text(metadata, tags.org_name)[:255],
        email=_find_text(metadata, tags.email)[:320],
        report_id=report_id[:255],
        begin=begin,
        end=end,
        policy_domain=policy_domain,
        policy=(_find_text(policy, tags.p).lower() or None),
        version=version,
    )


def _result(auth: ET.Element | None, tag: str, result_tag: str) -> str:
    """The best raw result among auth_results/dkim (or spf) entries: pass wins, else the first."""
    if auth is None:
        return "none"
    results = [(item.findtext(result_tag) or "").strip().lower()[:16] for item in auth.findall(tag)]
    if "pass" in results:
        return "pass"
    return next((result for result in results if result), "none")


# A canonical dotted quad (no leading zeros) is already what ipaddress would print: skip the parse.
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_DISPOSITIONS = {item.value: item for item in Disposition}


def _source_ip(raw: str, number: int) -> str:
    if _IPV4.fullmatch(raw):
        return raw
    try:
        return ipaddress.ip_address(raw).compressed
    except ValueError:
        raise ReportError(f"record {number}: source_ip {raw[:60]!r} is not an IP address.") from None


def _row(record: ET.Element, tags: _Tags, number: int, fallback_domain: str) -> tuple[RowKey, int]:
    # findtext with a plain tag runs in C; this is the hot loop of an import (one call per record).
    row = record.find(tags.row)
    if row is None:
        raise ReportError(f"record {number} has no <row>.")
    source_ip = _source_ip((row.findtext(tags.source_ip) or "").strip(), number)
    raw_count = (row.findtext(tags.count) or "").strip()
    if not raw_count.isdigit() or len(raw_count) > 10 or int(raw_count) > MAX_COUNT:
        raise ReportError(f"record {number}: count {raw_count[:30]!r} is not a whole number of messages.")
    evaluated = row.find(tags.policy_evaluated)
    if evaluated is None:
        raw_disposition, dkim, spf = "none", "", ""
    else:
        raw_disposition = (evaluated.findtext(tags.disposition) or "none").strip().lower() or "none"
        dkim = (evaluated.findtext(tags.dkim) or "").strip().lower()
        spf = (evaluated.findtext(tags.spf) or "").strip().lower()
    disposition = _DISPOSITIONS.get(raw_disposition)
    if disposition is None:
        raise ReportError(
            f"record {number}: disposition {raw_disposition[:30]!r} is not one of none, quarantine, "
            "reject or pass."
        )
    identifiers = record.find(tags.identifiers)
    header_from = identifiers.findtext(tags.header_from) if identifiers is not None else None
    auth = record.find(tags.auth_results)
    # policy_evaluated/dkim and /spf are the DMARC verdicts: "pass" means authenticated AND aligned.
    key = RowKey(
        source_ip,
        _domain(header_from) if header_from else fallback_domain,
        disposition,
        dkim == "pass",
        spf == "pass",
        _result(auth, tags.dkim, tags.result),
        _result(auth, tags.spf, tags.result),
    )
    return key, int(raw_count)


def _refuse_dtd(window: bytes) -> None:
    for token in _FORBIDDEN:
        if token in window:
            raise ReportError(
                f"The report declares a DTD or an entity ({token.decode()} …). DTDs and entities are "
                "refused: they enable external-entity (XXE) and entity-expansion attacks, and a DMARC "
                "report never needs one."
            )


def _checked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, refused as soon as a DTD or entity declaration shows up (even across a chunk
    boundary); the prolog loses leading blanks and the stray <xs:schema> wrapper."""
    tail = b""
    prolog = b""
    started = False
    for piece in chunks:
        chunk = piece
        if not started:
            prolog += piece
            if len(prolog) < _PROLOG_BYTES:
                continue
            chunk, prolog, started = _clean_prolog(prolog), b"", True
        window = tail + chunk
        _refuse_dtd(window)
        tail = window[-(_LONGEST_FORBIDDEN - 1) :]
        yield chunk
    if not started and prolog:
        chunk = _clean_prolog(prolog)
        _refuse_dtd(chunk)
        yield chunk


def _clean_prolog(data: bytes) -> bytes:
    data = data.lstrip(b" \t\r\n")
    head = data[:_PROLOG_BYTES]
    feedback = head.find(b"<feedback")
    wrapper = _XS_SCHEMA_START.search(head)
    if wrapper is not None and (feedback == -1 or wrapper.start() < feedback):
        data = data[: wrapper.start()] + data[wrapper.end() :]
    return data


def _already_known(data: bytes, skip: Callable[[ReportMetadata], bool]) -> ReportMetadata | None:
    """The metadata when ``skip`` says the report is known, read from the head of the document only
    (it comes before the records), so a duplicate costs no full parse. None: read it all."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    metadata_element: ET.Element | None = None
    try:
        parser.feed(data[:PEEK_BYTES])
        for event in parser.read_events():
            element = cast(ET.Element, event[-1])
            name = _local(element.tag)
            if name == "report_metadata":
                metadata_element = element
            elif name == "policy_published":
                tags = _Tags(_namespace(element.tag))
                metadata = _metadata(metadata_element, element, None, tags)
                return metadata if skip(metadata) else None
            elif name == "record":
                return None
    except (ET.ParseError, ReportError):
        return None  # the full parse says what is wrong
    return None


def _read_tree(data: bytes, skip: Callable[[ReportMetadata], bool] | None) -> AggregateReport:
    known = _already_known(data, skip) if skip is not None else None
    if known is not None:
        return AggregateReport(metadata=known, records=0, skipped=True)
    try:
        root = ET.fromstring(data)  # noqa: S314 - _checked refused any DTD or entity before this
    except ET.ParseError as exc:
        raise ReportError(f"The report is not well-formed XML ({exc}).") from None
    if _local(root.tag) != "feedback":
        found = next((item for item in root.iter() if _local(item.tag) == "feedback"), None)
        if found is None:
            raise ReportError("The XML has no <feedback> element; it is not a DMARC aggregate report.")
        root = found
    tags = _Tags(_namespace(root.tag))
    metadata = _metadata(
        root.find(tags.report_metadata),
        root.find(tags.policy_published),
        _find_text(root, tags.version)[:16] or None,
        tags,
    )
    report = AggregateReport(metadata=metadata, records=0)
    if skip is not None and skip(metadata):
        report.skipped = True
        return report
    rows = report.rows
    fallback = metadata.policy_domain
    for number, record in enumerate(root.iterfind(tags.record), start=1):
        key, messages = _row(record, tags, number, fallback)
        rows[key] = rows.get(key, 0) + messages
        report.records = number
    return report


def _read_stream(
    head: bytes, rest: Iterator[bytes], skip: Callable[[ReportMetadata], bool] | None
) -> AggregateReport:
    """Large reports: parsed in a stream, each record dropped once read (memory stays flat)."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    tags: _Tags | None = None
    metadata_element: ET.Element | None = None
    policy_element: ET.Element | None = None
    metadata: ReportMetadata | None = None
    version: str | None = None
    root_seen = False
    pending: list[ET.Element] = []  # records read before the metadata (out of schema order)
    report: AggregateReport | None = None
    count = 0
    rows: dict[RowKey, int] = {}

    def start(element: ET.Element) -> _Tags:
        return _Tags(_namespace(element.tag))

    try:
        for chunk in itertools.chain((head,), rest):
            parser.feed(chunk)
            for event in parser.read_events():
                element = cast(ET.Element, event[-1])
                tags = tags or start(element)
                tag = element.tag
                if tag == tags.record:
                    if metadata is None:
                        pending.append(element)
                        continue
                    count += 1
                    key, messages = _row(element, tags, count, metadata.policy_domain)
                    rows[key] = rows.get(key, 0) + messages
                    element.clear()
                elif tag == tags.report_metadata:
                    metadata_element = element
                elif tag == tags.policy_published:
                    policy_element = element
                    metadata = _metadata(metadata_element, policy_element, version, tags)
                    if skip is not None and skip(metadata):
                        report = AggregateReport(metadata=metadata, records=0, skipped=True)
                        return report
                elif tag == tags.version and version is None:
                    version = (element.text or "").strip()[:16] or None
                elif _local(tag) == "feedback":
                    root_seen = True
        parser.close()
        for event in parser.read_events():
            if _local(cast(ET.Element, event[-1]).tag) == "feedback":
                root_seen = True
    except ET.ParseError as exc:
        raise ReportError(f"The report is not well-formed XML ({exc}).") from None
    if not root_seen or tags is None:
        raise ReportError("The XML has no <feedback> element; it is not a DMARC aggregate report.")
    if metadata is None:
        metadata = _metadata(metadata_element, policy_element, version, tags)
    for element in pending:
        count += 1
        key, messages = _row(element, tags, count, metadata.policy_domain)
        rows[key] = rows.get(key, 0) + messages
    return AggregateReport(metadata=metadata, records=count, rows=rows)


def parse_aggregate_report(
    chunks: Iterable[bytes], *, skip: Callable[[ReportMetadata], bool] | None = None
) -> AggregateReport:
    """Read one aggregate report from its XML, given as byte chunks (any split).

    ``skip(metadata)`` is asked as soon as the report's metadata is read; when it says yes (the
    report is a duplicate) the records are not read and the report comes back with ``skipped``.
    Reports up to ``TREE_BYTES`` are parsed whole (quicker); larger ones in a stream.
    Raises :class:`ReportError` with a sentence for anything unreadable: not XML, not a DMARC
    report, a DTD, a record without an IP or count.
    """
    stream = _checked(chunks)
    head = bytearray()
    for chunk in stream:
        head += chunk
        if len(head) > TREE_BYTES:
            return _read_stream(bytes(head), stream, skip)
    if not head.strip():
        raise ReportError("The report is empty.")
    return _read_tree(bytes(head), skip)
