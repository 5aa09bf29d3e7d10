"""``email-engine dmarc …``: import aggregate reports from files or the IMAP mailbox, list sources."""

from __future__ import annotations

import gc
import itertools
import json
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection

from email_engine.cli_support import JsonOption, cli_context, cli_session
from email_engine.clock import utcnow
from email_engine.db import make_engine
from email_engine.dmarc import service
from email_engine.dmarc.archive import Limits
from email_engine.dmarc.report import ReportMetadata
from email_engine.dmarc.settings import DmarcSettings

app = typer.Typer(
    help="DMARC aggregate reports (RFC 7489 Appendix C and DMARCbis): import them from files or the "
    "DMARC_IMAP_* mailbox, and see who sends as your domains.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

# Commit after this many stored rows (or files): one transaction per file would cost a disk sync
# each on PostgreSQL, one for everything would hold a huge transaction open.
COMMIT_ROWS = 20_000
COMMIT_FILES = 500
# Files a worker process reads per hand-over.
BATCH_FILES = 16
# Files (or rows) stored with one INSERT of their reports and one COPY/executemany of their rows.
STORE_FILES = 50
STORE_ROWS = 10_000
STYLE = {"imported": "green", "duplicate": "cyan", "error": "red"}


def _inputs(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


_worker_connection: Connection | None = None


def _worker_start(database_url: str) -> None:
    """A worker's own read-only use of the database: is a report stored already (then skip it)?
    One connection for the worker's life, in autocommit: each check sees what the writer committed
    (no snapshot held open) and costs one query, not a pool checkout and a ping."""
    global _worker_connection  # noqa: PLW0603 - one connection per worker process
    engine = (
        make_engine(database_url, pool_size=1, max_overflow=0, pool_pre_ping=False)
        if not database_url.startswith("sqlite")
        else make_engine(database_url)
    )
    _worker_connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _worker_stop() -> None:
    global _worker_connection  # noqa: PLW0603 - one connection per worker process
    if _worker_connection is not None:
        _worker_connection.close()
        _worker_connection.engine.dispose()
        _worker_connection = None


def _known(meta: ReportMetadata) -> bool:
    if _worker_connection is None:
        return False
    return service.is_stored(_worker_connection, service.report_key(meta))


def _read_path(path: Path, limits: Limits) -> service.ReadFile:
    """Worker side: read and parse one file (the database is only asked whether a report is known)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        read = service.ReadFile(name=str(path), size=0, digest=f"unreadable:{path}")
        read.errors.append((str(path), f"{path}: cannot read ({exc.strerror})"))
        return read
    return service.read_file(str(path), data, limits, skip=_known)


def _groups(reads: Iterator[service.ReadFile]) -> Iterator[list[service.ReadFile]]:
    """Reads stored together (one INSERT of their reports, one load of their rows): up to
    ``STORE_FILES`` files or ``STORE_ROWS`` rows."""
    group: list[service.ReadFile] = []
    rows = 0
    for read in reads:
        group.append(read)
        rows += sum(len(report.rows) for _name, report in read.reports)
        if len(group) >= STORE_FILES or rows >= STORE_ROWS:
            yield group
            group, rows = [], 0
    if group:
        yield group


def _read_batch(paths: list[Path], limits: Limits) -> list[service.ReadFile]:
    return [_read_path(path, limits) for path in paths]


def _batches(paths: Iterator[Path], size: int) -> Iterator[list[Path]]:
    while batch := list(itertools.islice(paths, size)):
        yield batch


def _read_all(
    paths: Iterator[Path], limits: Limits, jobs: int, database_url: str
) -> Iterator[service.ReadFile]:
    """Files read and parsed in order; with ``jobs`` > 1 by that many worker processes, handed
    ``BATCH_FILES`` at a time (one hand-over per file cost as much CPU as parsing it), at most
    ``jobs * 4`` batches ahead of the writer so memory stays flat however many files there are."""
    if jobs <= 1:
        _worker_start(database_url)  # the same duplicate check, on a connection of its own
        try:
            yield from (_read_path(path, limits) for path in paths)
        finally:
            _worker_stop()
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start, initargs=(database_url,)) as pool:
        ahead: deque[Future[list[service.ReadFile]]] = deque()
        for batch in _batches(paths, BATCH_FILES):
            ahead.append(pool.submit(_read_batch, batch, limits))
            if len(ahead) >= jobs * 4:
                yield from ahead.popleft().result()
        while ahead:
            yield from ahead.popleft().result()


@app.command("import")
def import_files(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Report files (.xml, .xml.gz, .zip or saved .eml messages) or folders of them."),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='One JSON line per file: {"file", "status": "imported|duplicate|error", "records", "error"}.',
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            min=1, max=16, help="Processes that read and parse files (default: one per CPU, at most 4)."
        ),
    ] = min(os.cpu_count() or 1, 4),
) -> None:
    """Import aggregate reports. The same report twice is stored once ("duplicate"); a file that is
    not a readable report, declares a DTD, or decompresses past DMARC_MAX_XML_BYTES / DMARC_MAX_RATIO
    is refused ("error", with the reason) and kept in the dead-letter list. A line is printed once
    the file is committed. Exit code 1 when any file was refused."""
    # A bulk load allocates millions of short-lived XML elements: the cyclic collector's default
    # thresholds would rescan the heap thousands of times for nothing (none of them forms a cycle).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    failed = 0
    counts = {"imported": 0, "duplicate": 0, "error": 0}
    with cli_session() as (ctx, session):
        options = ctx.settings.section(DmarcSettings)
        pending: list[service.FileOutcome] = []
        rows = 0
        for group in _groups(_read_all(_inputs(paths), options.limits, jobs, ctx.settings.database_url)):
            outcomes = service.store_files(session, group, source="cli", now=utcnow())
            pending += outcomes
            rows += sum(outcome.records for outcome in outcomes)
            if rows >= COMMIT_ROWS or len(pending) >= COMMIT_FILES:
                session.commit()
                failed += _report(pending, counts, as_json=as_json)
                pending, rows = [], 0
        session.commit()
        failed += _report(pending, counts, as_json=as_json)
    if not as_json:
        err.print(
            f"{counts['imported']} imported, {counts['duplicate']} duplicate, {counts['error']} refused "
            "(GET /api/v1/dmarc/dead-letters lists why)."
        )
    if failed:
        raise typer.Exit(1)


def _report(outcomes: list[service.FileOutcome], counts: dict[str, int], *, as_json: bool) -> int:
    failed = 0
    for outcome in outcomes:
        counts[outcome.status.value] += 1
        failed += outcome.status is service.ImportStatus.ERROR
        if as_json:
            typer.echo(json.dumps(outcome.as_dict()))
        else:
            style = STYLE[outcome.status.value]
            detail = f" — {outcome.error}" if outcome.error else ""
            console.print(
                f"[{style}]{outcome.status.value:9}[/] {outcome.records:6} rows  {outcome.file}{detail}",
                highlight=False,
            )
    return failed


@app.command("sources")
def sources(
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default: 6 days ago).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today).")] = None,
    domain: Annotated[str | None, typer.Option(help="Only this header-from domain.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    as_json: JsonOption = False,
) -> None:
    """Who sent as which domain, per day and reporter, busiest first, with DMARC alignment counts and
    whether the source is ours, a known forwarder, or unknown."""
    try:
        last = date.fromisoformat(until) if until else utcnow().date()
        first = date.fromisoformat(since) if since else last - timedelta(days=6)
    except ValueError as exc:
        raise typer.BadParameter(f"Dates are YYYY-MM-DD ({exc}).") from None
    with cli_session() as (_ctx, session):
        _total, items = service.source_rows(
            session, since=first, until=last, header_from=domain.lower() if domain else None, limit=limit
        )
    if as_json:
        typer.echo(
            json.dumps({"since": first.isoformat(), "until": last.isoformat(), "items": items}, indent=2)
        )
        return
    table = Table(
        "day", "source", "class", "header-from", "reporter", "messages", "DKIM ok", "SPF ok", "DMARC pass"
    )
    for item in items:
        table.add_row(
            item["day"],
            item["source_ip"] + (f" ({item['ptr']})" if item["ptr"] else ""),
            item["classification"],
            item["header_from"],
            item["reporter"],
            str(item["count"]),
            str(item["dkim_aligned"]),
            str(item["spf_aligned"]),
            str(item["dmarc_pass"]),
        )
    console.print(table)


@app.command("dead-letters")
def dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50, as_json: JsonOption = False
) -> None:
    """Inputs that were refused, newest first, with the reason."""
    with cli_session() as (_ctx, session):
        _total, rows = service.dead_letters(session, limit=limit)
        items: list[dict[str, str]] = [
            {
                "id": str(row.id),
                "file": row.filename,
                "source": row.source,
                "reason": row.reason,
                "size": str(row.size),
                "at": row.created_at.isoformat(),
            }
            for row in rows
        ]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table("id", "at", "source", "file", "reason")
    for item in items:
        table.add_row(item["id"], item["at"], item["source"], item["file"], item["reason"])
    console.print(table)


@app.command("classify")
def classify(as_json: JsonOption = False) -> None:
    """Look up the reverse DNS of new source IPs now (the dmarc-classify job does it every hour)."""
    from email_engine.dmarc.jobs import run_classify

    with cli_context() as ctx:
        summary = run_classify(ctx, utcnow())
    typer.echo(json.dumps(summary, indent=None if as_json else 2))


def register(root: typer.Typer) -> None:
    """Join the ``dmarc`` group the reputation domain registers (``dmarc check-record``) when it exists,
    so both sets of commands live under one ``email-engine dmarc``."""
    for group in root.registered_groups:
        if group.name == "dmarc" and group.typer_instance is not None:
            group.typer_instance.registered_commands += app.registered_commands
            group.typer_instance.info.help = "DMARC: policy records (check-record) and aggregate reports " + (
                "(import, sources, dead-letters, classify)."
            )
            return
    root.add_typer(app, name="dmarc")
