"""Import DMARC aggregate reports, list their sources, keep refused inputs, classify source IPs.

Services flush; the router, CLI or job commits. A report is stored only once it is read whole, so a
bad one never leaves half its rows or undoes another. ``now`` is always a parameter. The same report imported twice (same reporter, report
id, domain and date range) is stored once: the second time it is a ``duplicate`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import dns.asyncresolver
import dns.exception
import dns.resolver
import dns.reversename
import structlog
from sqlalchemy import Connection, Table, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from email_engine.dmarc.archive import Limits, RefusedInput, report_payloads
from email_engine.dmarc.models import DmarcDeadLetter, DmarcRecord, DmarcReport, DmarcSource
from email_engine.dmarc.report import (
    AggregateReport,
    ReportError,
    ReportMetadata,
    parse_aggregate_report,
    report_day,
)
from email_engine.dmarc.sources import SourceClass, classify_ptr, classify_source
from email_engine.errors import InvalidInput
from email_engine.platform.upsert import dialect_insert

__all__ = [
    "PASSED_MESSAGES",
    "FileOutcome",
    "ImportStatus",
    "ReadFile",
    "classify_sources",
    "dead_letters",
    "import_file",
    "is_stored",
    "list_reports",
    "our_addresses",
    "read_file",
    "record_refusal",
    "report_key",
    "source_rows",
    "store_file",
    "store_files",
    "stored_classes",
]

log = structlog.get_logger(__name__)

RAW_KEEP_BYTES = 1024 * 1024  # refused inputs up to this size are kept whole for a retry


# Messages of a row that pass DMARC: DKIM or SPF aligned (RFC 7489 §6.6.2).
PASSED_MESSAGES = case(
    (or_(DmarcRecord.dkim_aligned, DmarcRecord.spf_aligned), DmarcRecord.messages), else_=0
)


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"
    ERROR = "error"


@dataclass(slots=True)
class FileOutcome:
    """What happened to one input file (the contract of ``dmarc import --json``)."""

    file: str
    status: ImportStatus
    records: int = 0  # rows stored (0 for a duplicate or a refused file)
    error: str | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status.value, "records": self.records, "error": self.error}


def report_key(metadata: ReportMetadata) -> str:
    """The identity of a report: reporter, its report id, the domain and the date range."""
    text = "\n".join(
        (
            (metadata.email or metadata.org_name).lower(),
            metadata.report_id,
            metadata.policy_domain,
            str(int(metadata.begin.timestamp())),
            str(int(metadata.end.timestamp())),
        )
    )
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


_COLUMNS = (
    "report_id, day, reporter, source_ip, header_from, disposition, dkim_aligned, spf_aligned, dkim_result, "
    "spf_result, messages"
)
_COPY_RECORDS = f"COPY dmarc_record ({_COLUMNS}) FROM STDIN"
_INSERT_RECORDS = f"INSERT INTO dmarc_record ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 - constant


def is_stored(connection: Connection, key: str) -> bool:
    """Whether the report with this :func:`report_key` is stored already."""
    return connection.execute(_STORED, {"key": key}).first() is not None


_STORED = select(DmarcReport.id).where(DmarcReport.report_key == bindparam("key"))
_REPORT_TABLE = cast(Table, DmarcReport.__table__)
# Built once: a statement made per call would be compiled per call. Run with a list of reports (an
# "executemany" that SQLAlchemy sends as multi-row INSERTs), it answers the id of each report it
# inserted; a report stored before (also by a concurrent importer) is skipped by ON CONFLICT.
_INSERT_REPORTS = {
    dialect: dialect_insert(dialect, _REPORT_TABLE)
    .on_conflict_do_nothing(index_elements=["report_key"])
    .returning(_REPORT_TABLE.c.report_key, _REPORT_TABLE.c.id)
    for dialect in ("postgresql", "sqlite")
}


def _insert_rows(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Report rows, written the quickest way each database offers: COPY on PostgreSQL, one prepared
    statement run for every row on SQLite (a million rows a run must stay cheap)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(_COPY_RECORDS) as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.exec_driver_sql(_INSERT_RECORDS, rows)


def _report_values(
    report: AggregateReport, *, key: str, filename: str, source: str, now: datetime
) -> dict[str, Any]:
    meta = report.metadata
    return dict(
        report_key=key,
        reporter=meta.reporter[:255],
        reporter_email=meta.email,
        external_id=meta.report_id,
        policy_domain=meta.policy_domain,
        policy=meta.policy[:16] if meta.policy else None,
        begin_at=meta.begin,
        end_at=meta.end,
        day=report_day(meta.begin, meta.end),
        records=report.records,
        messages=report.messages,
        source=source[:64],
        filename=filename[-255:],
        imported_at=now,
    )


def _store_reports(
    session: Session, reports: list[tuple[str, AggregateReport, str]], *, source: str, now: datetime
) -> set[str]:
    """Store reports ((key, report, filename), keys distinct) with one INSERT for the reports and one
    load for all their rows (three round trips per report to PostgreSQL cost more than the rows).
    Answers the keys that were new; the others were stored before and change nothing."""
    if not reports:
        return set()
    connection = session.connection()
    inserted: dict[str, int] = dict(
        connection.execute(
            _INSERT_REPORTS[connection.dialect.name],
            [
                _report_values(report, key=key, filename=name, source=source, now=now)
                for key, report, name in reports
            ],
        ).all()
    )
    # The rows in the column order of _COLUMNS: a RowKey is already (source IP … SPF result), and both
    # drivers write a Disposition (a StrEnum) as its value. SQLite keeps dates as ISO text (what
    # SQLAlchemy's Date writes there).
    iso_dates = connection.dialect.name != "postgresql"
    rows: list[tuple[Any, ...]] = []
    for key, report, _name in reports:
        report_id = inserted.get(key)
        if report_id is None:
            continue
        day = report_day(report.metadata.begin, report.metadata.end)
        day_value = day.isoformat() if iso_dates else day
        reporter = report.metadata.reporter[:255]
        rows += [(report_id, day_value, reporter, *row, messages) for row, messages in report.rows.items()]
    if rows:
        _insert_rows(session, rows)
    return set(inserted)


def record_refusal(
    session: Session,
    *,
    name: str,
    key: str,
    reason: str,
    now: datetime,
    source: str = "imap",
    size: int = 0,
    raw: bytes | None = None,
) -> None:
    """Keep a refused input in the dead letters, once per ``key``."""
    digest = hashlib.sha256(key.encode()).hexdigest() if len(key) != 64 else key
    if session.scalar(select(DmarcDeadLetter.id).where(DmarcDeadLetter.dedupe_key == digest)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                DmarcDeadLetter(
                    dedupe_key=digest,
                    filename=name[-255:],
                    source=source[:64],
                    reason=reason[:2000],
                    size=size,
                    raw=raw,
                    created_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        return


@dataclass(slots=True)
class ReadFile:
    """One input read and parsed, not stored yet (what a worker process hands back to the importer)."""

    name: str
    size: int
    digest: str
    reports: list[tuple[str, AggregateReport]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (report name, reason)
    raw: bytes | None = None  # kept only when refused and small enough for the dead letters


def read_file(
    name: str, data: bytes, limits: Limits, *, skip: Callable[[ReportMetadata], bool] | None = None
) -> ReadFile:
    """Unpack and parse every report of one input. Pure (no database): safe in a worker process."""
    read = ReadFile(name=name, size=len(data), digest=hashlib.sha256(data).hexdigest())
    try:
        for payload in report_payloads(name, data, limits):
            try:
                read.reports.append((payload.name, parse_aggregate_report(payload.chunks, skip=skip)))
            except (ReportError, RefusedInput) as exc:
                read.errors.append(
                    (payload.name, str(exc) if isinstance(exc, RefusedInput) else f"{payload.name}: {exc}")
                )
    except RefusedInput as exc:
        read.errors.append((name, str(exc)))
    if read.errors and len(data) <= RAW_KEEP_BYTES:
        read.raw = data
    return read


def store_files(
    session: Session, reads: Sequence[ReadFile], *, source: str, now: datetime
) -> list[FileOutcome]:
    """Store what :func:`read_file` found in a group of inputs: each new report once (the first of
    two copies in the group; later copies and reports stored before are ``duplicate``), refusals into
    the dead letters. One outcome per input, in order."""
    keys: list[list[str | None]] = []
    pending: dict[str, tuple[str, AggregateReport, str]] = {}
    for read in reads:
        file_keys: list[str | None] = []
        for payload_name, report in read.reports:
            key = None if report.skipped else report_key(report.metadata)
            if key is not None and key in pending:
                key = None  # a second copy in the same group
            if key is not None:
                pending[key] = (key, report, payload_name)
            file_keys.append(key)
        keys.append(file_keys)
    new = _store_reports(session, list(pending.values()), source=source, now=now)
    return [
        _outcome(session, read, file_keys, new, source=source, now=now)
        for read, file_keys in zip(reads, keys, strict=True)
    ]


def store_file(session: Session, read: ReadFile, *, source: str, now: datetime) -> FileOutcome:
    """Store what :func:`read_file` found in one input (see :func:`store_files`)."""
    return store_files(session, [read], source=source, now=now)[0]


def _outcome(
    session: Session, read: ReadFile, keys: list[str | None], new: set[str], *, source: str, now: datetime
) -> FileOutcome:
    outcome = FileOutcome(file=read.name, status=ImportStatus.DUPLICATE)
    imported = False
    for (payload_name, report), key in zip(read.reports, keys, strict=True):
        meta = report.metadata
        stored = key is not None and key in new
        outcome.reports.append(
            {
                "name": payload_name,
                "status": "imported" if stored else "duplicate",
                "reporter": meta.reporter,
                "report_id": meta.report_id,
                "domain": meta.policy_domain,
                "records": len(report.rows) if stored else 0,
                "messages": report.messages,
            }
        )
        if stored:
            imported = True
            outcome.records += len(report.rows)
    outcome.reports += [{"name": label, "status": "error", "error": reason} for label, reason in read.errors]
    if read.errors:
        outcome.status = ImportStatus.ERROR
        outcome.error = "; ".join(reason for _label, reason in read.errors)[:2000]
        record_refusal(
            session,
            name=read.name,
            key=read.digest,
            reason=outcome.error,
            now=now,
            source=source,
            size=read.size,
            raw=read.raw,
        )
        log.warning("dmarc.import_refused", file=read.name[-120:], source=source, error=outcome.error[:300])
    elif imported:
        outcome.status = ImportStatus.IMPORTED
    log.info(
        "dmarc.imported",
        file=read.name[-120:],
        source=source,
        status=outcome.status.value,
        records=outcome.records,
    )
    return outcome


def import_file(
    session: Session, *, name: str, data: bytes, source: str, limits: Limits, now: datetime
) -> FileOutcome:
    """Import every report inside one input (XML, gzip, zip or e-mail). Never raises for bad input:
    a refused file (or report) is an ``error`` outcome with the reason, and goes to the dead letters.
    A report stored before is known from its first bytes and not parsed further."""
    read = read_file(name, data, limits, skip=lambda meta: is_stored(session.connection(), report_key(meta)))
    return store_file(session, read, source=source, now=now)


# --- reading ----------------------------------------------------------------------------------------


def check_range(since: date, until: date) -> None:
    if until < since:
        raise InvalidInput("`until` is before `since`.")


def our_addresses(session: Session) -> frozenset[str]:
    from email_engine.ips.models import SendingIp

    return frozenset(session.scalars(select(SendingIp.address)))


def stored_classes(session: Session, addresses: Iterable[str]) -> dict[str, DmarcSource]:
    wanted = list(set(addresses))
    found: dict[str, DmarcSource] = {}
    for start in range(0, len(wanted), 500):
        for row in session.scalars(
            select(DmarcSource).where(DmarcSource.address.in_(wanted[start : start + 500]))
        ):
            found[row.address] = row
    return found


def source_rows(
    session: Session,
    *,
    since: date,
    until: date,
    header_from: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """One item per day, source IP, header-from domain and reporter, busiest first."""
    check_range(since, until)
    group = (DmarcRecord.day, DmarcRecord.source_ip, DmarcRecord.header_from, DmarcRecord.reporter)
    where = [DmarcRecord.day >= since, DmarcRecord.day <= until]
    if header_from:
        where.append(DmarcRecord.header_from == header_from)
    total = session.scalar(
        select(func.count()).select_from(select(*group).where(*where).group_by(*group).subquery())
    )
    messages = func.sum(DmarcRecord.messages)
    keys = session.execute(
        select(*group, messages.label("messages"))
        .where(*where)
        .group_by(*group)
        .order_by(messages.desc(), *group)
        .limit(limit)
        .offset(offset)
    ).all()
    if not keys:
        return total or 0, []
    detail = session.execute(
        select(
            *group,
            DmarcRecord.disposition,
            func.sum(DmarcRecord.messages),
            func.sum(case((DmarcRecord.dkim_aligned, DmarcRecord.messages), else_=0)),
            func.sum(case((DmarcRecord.spf_aligned, DmarcRecord.messages), else_=0)),
            func.sum(PASSED_MESSAGES),
        )
        .where(*where, DmarcRecord.source_ip.in_({key.source_ip for key in keys}))
        .group_by(*group, DmarcRecord.disposition)
    ).all()
    ours = our_addresses(session)
    stored = stored_classes(session, (key.source_ip for key in keys))
    items: dict[tuple[Any, ...], dict[str, Any]] = {}
    for key in keys:
        source = stored.get(key.source_ip)
        items[tuple(key[:4])] = {
            "day": key.day.isoformat(),
            "source_ip": key.source_ip,
            "header_from": key.header_from,
            "reporter": key.reporter,
            "count": 0,
            "dkim_aligned": 0,
            "spf_aligned": 0,
            "dmarc_pass": 0,
            "disposition": {},
            "classification": classify_source(
                key.source_ip,
                ours=ours,
                stored=SourceClass(source.classification) if source is not None else None,
            ).value,
            "ptr": source.ptr if source is not None else None,
        }
    for day, ip, header_from_, reporter, disposition, total_messages, dkim, spf, passed in detail:
        item = items.get((day, ip, header_from_, reporter))
        if item is None:
            continue
        item["count"] += int(total_messages)
        item["dkim_aligned"] += int(dkim)
        item["spf_aligned"] += int(spf)
        item["dmarc_pass"] += int(passed)
        item["disposition"][disposition] = item["disposition"].get(disposition, 0) + int(total_messages)
    return total or 0, list(items.values())


def list_reports(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[int, list[DmarcReport]]:
    total = session.scalar(select(func.count()).select_from(DmarcReport)) or 0
    rows = session.scalars(
        select(DmarcReport)
        .order_by(DmarcReport.day.desc(), DmarcReport.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def dead_letters(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[int, list[DmarcDeadLetter]]:
    total = session.scalar(select(func.count()).select_from(DmarcDeadLetter)) or 0
    rows = session.scalars(
        select(DmarcDeadLetter)
        .order_by(DmarcDeadLetter.created_at.desc(), DmarcDeadLetter.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


# --- classification of sources (reverse DNS) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PtrAnswer:
    address: str
    ptr: str | None
    confirmed: bool
    answered: bool  # False: the lookup timed out or failed; asked again later


async def _lookup(resolver: dns.asyncresolver.Resolver, address: str) -> PtrAnswer:
    try:
        answer = await resolver.resolve(dns.reversename.from_address(address), "PTR")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return PtrAnswer(address, None, False, True)
    except (dns.exception.DNSException, OSError):
        return PtrAnswer(address, None, False, False)
    names = sorted(str(record.target).rstrip(".").lower() for record in answer)
    if not names:
        return PtrAnswer(address, None, False, True)
    name = names[0]
    family = "AAAA" if ":" in address else "A"
    try:
        forward = await resolver.resolve(name, family)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return PtrAnswer(address, name[:253], False, True)
    except (dns.exception.DNSException, OSError):
        return PtrAnswer(address, name[:253], False, False)

    target = ipaddress.ip_address(address)
    confirmed = any(ipaddress.ip_address(record.address) == target for record in forward)
    return PtrAnswer(address, name[:253], confirmed, True)


async def _lookup_all(
    resolver: dns.asyncresolver.Resolver, addresses: Sequence[str], concurrency: int
) -> list[PtrAnswer]:
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> PtrAnswer:
        async with gate:
            return await _lookup(resolver, address)

    return list(await asyncio.gather(*(one(address) for address in addresses)))


def classify_sources(
    session: Session,
    resolver: dns.asyncresolver.Resolver,
    *,
    now: datetime,
    concurrency: int = 20,
    retry_after: timedelta = timedelta(hours=24),
    refresh_after: timedelta = timedelta(days=30),
    lookback_days: int = 30,
    batch: int = 2000,
) -> dict[str, int]:
    """Look up the reverse DNS of source IPs seen lately that are not ours and not yet (or no longer
    freshly) classified. A lookup without an answer is kept as unknown and retried later."""
    since = now.date() - timedelta(days=lookback_days)
    ours = our_addresses(session)
    seen = session.scalars(select(DmarcRecord.source_ip).where(DmarcRecord.day >= since).distinct()).all()
    known = stored_classes(session, seen)
    due = [
        address
        for address in seen
        if address not in ours
        and (
            address not in known
            or (not known[address].answered and now - known[address].checked_at >= retry_after)
            or now - known[address].checked_at >= refresh_after
        )
    ][:batch]
    answers = asyncio.run(_lookup_all(resolver, due, concurrency)) if due else []
    counts = {"looked_up": len(answers), "forwarder": 0, "unknown": 0, "unanswered": 0}
    for answer in answers:
        verdict, forwarder = classify_ptr(answer.ptr, confirmed=answer.confirmed)
        row = known.get(answer.address)
        if row is None:
            row = DmarcSource(address=answer.address)
            session.add(row)
        row.ptr = answer.ptr
        row.confirmed = answer.confirmed
        row.classification = verdict.value
        row.matched = forwarder.operator if forwarder else None
        row.answered = answer.answered
        row.checked_at = now
        counts[verdict.value] += 1
        if not answer.answered:
            counts["unanswered"] += 1
    session.flush()
    return counts
