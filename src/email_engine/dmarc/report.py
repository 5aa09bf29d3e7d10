"""DMARC aggregate reports read from XML. Pure: bytes in, a summary out (no I/O, no clock).

The format is RFC 7489 Appendix C (``<feedback>`` with ``report_metadata``, ``policy_published`` and
one ``record`` per source IP and result) and its successor, the DMARCbis aggregate format
(draft-ietf-dmarc-aggregate-reporting, namespace ``urn:ietf:params:xml:ns:dmarc-2.0``, adding
``np``, ``testing``, ``discovery_method`` and a ``pass`` disposition). Both are read the same way:
elements are matched by local name, whatever their namespace.

Safety: the XML is parsed in a stream by the C ElementTree parser, which never fetches external
entities. On top of that any document declaring a DTD (``<!DOCTYPE``) or an entity (``<!ENTITY``)
is refused before a byte of it is parsed: a DMARC report never needs one, and refusing them is what
defusedxml's ``forbid_dtd``/``forbid_entities`` do (DEVELOPING.md says why defusedxml's own,
pure-Python parser is not used here). Memory stays flat: each ``record`` is dropped once read.

Records of one report are summed by (source IP, header-from, disposition, DKIM/SPF alignment and
raw results): what is stored is one row per distinct combination, with its message count.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
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


def _text(element: ET.Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _domain(value: str) -> str:
    return value.strip().lower().rstrip(".")[:253]


def _epoch(text: str, what: str) -> datetime:
    try:
        seconds = int(float(text))
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ReportError(f"report_metadata/date_range/{what} is {text!r}, not a Unix time.") from None


def _metadata(metadata: ET.Element | None, policy: ET.Element | None, version: str | None) -> ReportMetadata:
    if metadata is None:
        raise ReportError("The report has no <report_metadata>; it is not a DMARC aggregate report.")
    if policy is None:
        raise ReportError("The report has no <policy_published>; it is not a DMARC aggregate report.")
    report_id = _text(_child(metadata, "report_id"))
    if not report_id:
        raise ReportError(
            "report_metadata/report_id is empty; a report without an id cannot be deduplicated."
        )
    date_range = _child(metadata, "date_range")
    begin = _epoch(_text(_child(date_range, "begin")), "begin")
    end = _epoch(_text(_child(date_range, "end")), "end")
    policy_domain = _domain(_text(_child(policy, "domain")))
    if not policy_domain:
        raise ReportError(
            "policy_published/domain is empty; the report does not say which domain it is about."
        )
    return ReportMetadata(
        org_name=_text(_child(metadata, "org_name"))[:255],
        email=_text(_child(metadata, "email"))[:320],
        report_id=report_id[:255],
        begin=begin,
        end=end,
        policy_domain=policy_domain,
        policy=(_text(_child(policy, "p")).lower() or None),
        version=version,
    )


def _result(elements: list[ET.Element]) -> str:
    """The best raw result among auth_results/dkim (or spf) entries: pass wins, else the first."""
    results = [_text(_child(item, "result")).lower()[:16] for item in elements]
    if "pass" in results:
        return "pass"
    return next((result for result in results if result), "none")


def _row(record: ET.Element, number: int, fallback_domain: str) -> tuple[RowKey, int]:
    row = _child(record, "row")
    if row is None:
        raise ReportError(f"record {number} has no <row>.")
    raw_ip = _text(_child(row, "source_ip"))
    try:
        source_ip = ipaddress.ip_address(raw_ip).compressed
    except ValueError:
        raise ReportError(f"record {number}: source_ip {raw_ip[:60]!r} is not an IP address.") from None
    raw_count = _text(_child(row, "count"))
    if not raw_count.isdigit() or int(raw_count) > MAX_COUNT:
        raise ReportError(f"record {number}: count {raw_count[:30]!r} is not a whole number of messages.")
    evaluated = _child(row, "policy_evaluated")
    raw_disposition = _text(_child(evaluated, "disposition")).lower() or "none"
    try:
        disposition = Disposition(raw_disposition)
    except ValueError:
        raise ReportError(
            f"record {number}: disposition {raw_disposition[:30]!r} is not one of none, quarantine, "
            "reject or pass."
        ) from None
    identifiers = _child(record, "identifiers")
    header_from = _domain(_text(_child(identifiers, "header_from"))) or fallback_domain
    auth = _child(record, "auth_results")
    key = RowKey(
        source_ip=source_ip,
        header_from=header_from,
        disposition=disposition,
        # policy_evaluated/dkim and /spf are the DMARC verdicts: "pass" means authenticated AND aligned.
        dkim_aligned=_text(_child(evaluated, "dkim")).lower() == "pass",
        spf_aligned=_text(_child(evaluated, "spf")).lower() == "pass",
        dkim_result=_result(_children(auth, "dkim")),
        spf_result=_result(_children(auth, "spf")),
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


def parse_aggregate_report(chunks: Iterable[bytes]) -> AggregateReport:
    """Read one aggregate report from its XML, given as byte chunks (any split).

    Raises :class:`ReportError` with a sentence for anything unreadable: not XML, not a DMARC
    report, a DTD, a record without an IP or count.
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    metadata_element: ET.Element | None = None
    policy_element: ET.Element | None = None
    version: str | None = None
    root_seen = False
    pending: list[ET.Element] = []  # records read before the metadata (out of schema order)
    rows: dict[RowKey, int] = {}
    count = 0
    fallback = ""

    def consume(element: ET.Element) -> None:
        nonlocal count
        count += 1
        key, messages = _row(element, count, fallback)
        rows[key] = rows.get(key, 0) + messages

    try:
        for chunk in _checked(chunks):
            parser.feed(chunk)
            for event in parser.read_events():
                element = cast(ET.Element, event[-1])
                name = _local(element.tag)
                if name == "record":
                    if policy_element is None:
                        pending.append(element)
                        continue
                    consume(element)
                    element.clear()
                elif name == "report_metadata":
                    metadata_element = element
                elif name == "policy_published":
                    policy_element = element
                    fallback = _domain(_text(_child(element, "domain")))
                elif name == "version" and version is None:
                    version = _text(element)[:16] or None
                elif name == "feedback":
                    root_seen = True
        parser.close()
        for event in parser.read_events():
            if _local(cast(ET.Element, event[-1]).tag) == "feedback":
                root_seen = True
    except ET.ParseError as exc:
        raise ReportError(f"The report is not well-formed XML ({exc}).") from None
    if not root_seen:
        raise ReportError("The XML has no <feedback> element; it is not a DMARC aggregate report.")
    metadata = _metadata(metadata_element, policy_element, version)
    fallback = metadata.policy_domain
    for element in pending:
        consume(element)
    return AggregateReport(metadata=metadata, records=count, rows=rows)
