"""``email-engine pipe``: PowerMTA accounting on stdin → raw spool → parsed spool → database, never losing a record.

Three parts run at once so PowerMTA is never held up by parsing or by the database:

- a reader thread does raw I/O only: stdin's bytes go unchanged into raw spool segments
  (``feedback.raw_spool.RawReader``), sealed (fsync) at a line end once a segment holds
  ``PIPE_BATCH_SIZE`` lines or is ``PIPE_FLUSH_SECONDS`` old. Once taken from stdin a byte is in a
  file, so a SIGKILL of this process loses nothing it had read;
- the main thread converts each sealed raw segment, oldest first, into a parsed segment
  (``feedback.raw_spool.convert_raw``); at start it first seals and converts what a dead pipe left;
- an ingest *process* (forked at start, so parsing and storing use both cores) reads parsed
  segments back from the spool in order, stores each in one transaction, and deletes a segment
  only after its commit. When the database is unreachable it backs off (up to
  ``PIPE_RETRY_MAX_SECONDS``) while segments keep accumulating on disk, then replays them in order.

The pipe writes to the database directly rather than through the HTTP API: it is one fewer service
that must be up for accounting to be stored, and the transaction that stores a batch also writes
its outbox events. It uses the service's settings (``DATABASE_URL`` etc. from the environment or
``.env``), so PowerMTA's pipe line needs no arguments.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, Protocol

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from email_engine.clock import utcnow
from email_engine.db import make_engine, make_session_factory
from email_engine.feedback.ingest import ForwardPolicy, IngestResult, ingest_batch
from email_engine.feedback.raw_spool import Conversion, RawReader, convert_raw
from email_engine.feedback.spool import Segment, Spool, SpoolBatch

__all__ = [
    "DrainReport",
    "PipeReport",
    "Replayer",
    "convert_waiting",
    "drain_spool",
    "make_pipe_engine",
    "run_pipe",
]

log = structlog.get_logger("email_engine.pipe")

_LIVENESS_SECONDS = 2.0


def make_pipe_engine(database_url: str, *, connect_timeout: int) -> Engine:
    if database_url.startswith("sqlite"):
        return make_engine(database_url)
    return make_engine(
        database_url, pool_size=1, max_overflow=1, connect_args={"connect_timeout": connect_timeout}
    )


@dataclass(slots=True)
class DrainReport:
    segments: int = 0
    rejected: int = 0
    remaining: int = 0
    unreachable: str | None = None
    result: IngestResult = field(default_factory=IngestResult)
    #: Raw segments parsed (``--drain`` converts what a dead pipe left before storing).
    converted: int = 0
    #: Why raw segments could not be parsed (an OS error such as a full disk); they are kept.
    conversion_error: str | None = None


class Replayer:
    """Stores sealed segments in order (read back from disk: the spool is the only hand-over)."""

    def __init__(
        self,
        spool: Spool,
        factory: sessionmaker[Session],
        *,
        forward: ForwardPolicy,
    ) -> None:
        self.spool = spool
        self.factory = factory
        self.forward = forward

    def drain(self) -> DrainReport:
        """Store every pending segment, oldest first; stops at the first unreachable-database error."""
        report = DrainReport()
        pending = self.spool.pending()
        for index, segment in enumerate(pending):
            with self.spool.claim(segment) as mine:
                if not mine:
                    continue
                try:
                    batch = self.spool.read(segment)
                except (ValueError, KeyError, TypeError) as exc:
                    self._reject(segment, f"unreadable segment: {exc}", report)
                    continue
                try:
                    result = self._store(batch, received_at=segment.arrived_at)
                except DBAPIError as exc:
                    if not isinstance(exc, DataError | IntegrityError):
                        report.unreachable = f"{type(exc.orig).__name__}: {str(exc.orig).strip()[:300]}"
                        report.remaining = len(pending) - index
                        return report
                    self._reject(segment, f"{type(exc).__name__}: {str(exc.orig)[:500]}", report)
                    continue
                except Exception as exc:  # a batch the service refuses must not block the ones after it
                    self._reject(segment, f"{type(exc).__name__}: {str(exc)[:500]}", report)
                    continue
                self.spool.remove(segment)
                report.segments += 1
                report.result.add(result)
        return report

    def _reject(self, segment: Segment, reason: str, report: DrainReport) -> None:
        self.spool.reject(segment, reason)
        report.rejected += 1
        log.error("spool_segment_rejected", segment=segment.name, error=reason[:200])

    def _store(self, batch: SpoolBatch, *, received_at: datetime | None) -> IngestResult:
        with self.factory() as session:
            try:
                result = ingest_batch(
                    session,
                    batch.records,
                    batch.dead_letters,
                    source=batch.source,
                    now=utcnow(),
                    forward=self.forward,
                    received_at=received_at,
                )
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return result


@dataclass(slots=True)
class PipeReport:
    #: Records and dead letters parsed by this process (raw segments it read, and any a dead pipe left).
    items: int = 0
    records: int = 0
    dead_letters_read: int = 0
    #: Parsed segments written (handed to the ingest process).
    segments_written: int = 0
    bytes_read: int = 0
    #: Raw segments sealed by the reader.
    raw_segments_written: int = 0
    #: ``.open`` raw segments a dead pipe left, sealed at start.
    recovered_segments: int = 0
    spooled_segments: int = 0
    stored: IngestResult = field(default_factory=IngestResult)
    last_error: str | None = None

    def add(self, conversion: Conversion) -> None:
        if conversion.rejected:
            return
        self.items += conversion.items
        self.records += conversion.records
        self.dead_letters_read += conversion.dead_letters
        if conversion.items:
            self.segments_written += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.items,
            "records": self.records,
            "dead_letters_read": self.dead_letters_read,
            "segments_written": self.segments_written,
            "bytes_read": self.bytes_read,
            "raw_segments_written": self.raw_segments_written,
            "recovered_segments": self.recovered_segments,
            "left_in_spool": self.spooled_segments,
            **{f"stored_{name}": value for name, value in self.stored.as_dict().items()},
            "last_error": self.last_error,
        }


class _Signal(Protocol):
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def ingest_loop(
    replayer: Replayer,
    *,
    wake: _Signal,
    finishing: _Signal,
    retry_max: float,
    parent_alive: Callable[[], bool] = lambda: True,
) -> DrainReport:
    """Drain the spool whenever a segment is sealed or the retry delay has passed, until told to finish.

    Also finishes (after a last drain) when the reading process has died, so a killed pipe never
    leaves this process behind. Returns the total stored and, if the database was unreachable at
    the end, why.
    """
    total = DrainReport()
    delay = 0.5
    while True:
        last_round = finishing.is_set() or not parent_alive()
        drained = replayer.drain()
        total.result.add(drained.result)
        total.segments += drained.segments
        total.rejected += drained.rejected
        total.unreachable = drained.unreachable
        if drained.unreachable is None:
            if drained.segments and delay > 0.5:
                log.info("database_back", stored_segments=drained.segments)
            delay = 0.5
            if last_round:
                return total
            while not wake.wait(_LIVENESS_SECONDS):
                if not parent_alive():
                    break
            wake.clear()
            continue
        log.warning(
            "database_unreachable_spooling",
            segments_waiting=drained.remaining,
            retry_in_s=round(delay, 1),
            error=drained.unreachable,
        )
        if last_round:
            return total
        wake.wait(delay)  # a new segment wakes us early; EOF wakes us for a last try
        wake.clear()
        delay = min(delay * 2, retry_max)


def _ingest_process(  # noqa: PLR0917 - a Process target takes positional arguments
    spool_dir: str,
    make_factory: Callable[[], sessionmaker[Session]],
    forward: ForwardPolicy,
    retry_max: float,
    wake: _Signal,
    finishing: _Signal,
    results: Connection,
) -> None:
    """The ingest side of the pipe, in its own process so parsing and storing use both cores."""
    try:
        # PowerMTA's pipe is the reader's alone: if the reader dies, the pipe must close with it.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        replayer = Replayer(Spool(Path(spool_dir)), make_factory(), forward=forward)
        parent = os.getppid()
        total = ingest_loop(
            replayer,
            wake=wake,
            finishing=finishing,
            retry_max=retry_max,
            parent_alive=lambda: os.getppid() == parent,
        )
        results.send({"stored": total.result.as_dict(), "error": total.unreachable})
    except BaseException as exc:  # the spool keeps the data; the parent reports the failure
        results.send({"stored": IngestResult().as_dict(), "error": f"ingest process failed: {exc!r}"[:300]})
        raise
    finally:
        results.close()


def convert_waiting(spool: Spool, *, on_converted: Callable[[Conversion], None]) -> str | None:
    """Parse every sealed raw segment, oldest first. Returns why it stopped early (an OS error), else None.

    An OS error (a full disk…) leaves the raw segment for a later attempt; nothing is lost.
    """
    for segment in spool.raw_pending():
        try:
            conversion = convert_raw(spool, segment)
        except OSError as exc:
            log.error("raw_segment_conversion_failed", segment=segment.name, error=str(exc))
            return f"converting {segment.name}: {exc}"
        if conversion is not None:
            on_converted(conversion)
    return None


def run_pipe(
    stream: IO[bytes],
    *,
    spool: Spool,
    make_factory: Callable[[], sessionmaker[Session]],
    forward: ForwardPolicy,
    source: str,
    batch_size: int,
    flush_seconds: float,
    retry_max: float,
) -> PipeReport:
    """Read until EOF; return when every record read is committed or sealed in the spool."""
    report = PipeReport()
    report.recovered_segments = spool.recover_orphans()
    if report.recovered_segments:
        log.info("spool_orphans_recovered", segments=report.recovered_segments)
    # Fork the ingest process before any thread starts; it replays what an earlier run left behind.
    context = multiprocessing.get_context("fork")
    wake, finishing = context.Event(), context.Event()
    receive, send = context.Pipe(duplex=False)
    ingester = context.Process(
        target=_ingest_process,
        args=(str(spool.directory), make_factory, forward, retry_max, wake, finishing, send),
        name="pipe-ingest",
        daemon=True,
    )
    ingester.start()
    send.close()
    sealed = threading.Event()
    reader = RawReader(
        stream,
        spool,
        source=source,
        batch_lines=batch_size,
        flush_seconds=flush_seconds,
        on_sealed=sealed.set,
    )
    thread = threading.Thread(target=reader.run, name="pipe-reader", daemon=True)
    thread.start()

    def converted(conversion: Conversion) -> None:
        report.add(conversion)
        wake.set()

    conversion_error: str | None = None
    while True:
        finished = reader.done.is_set()
        sealed.clear()
        # Raw segments a dead pipe left sort first, so they are parsed (and stored) before new input.
        conversion_error = convert_waiting(spool, on_converted=converted)
        if finished:
            break
        sealed.wait(_LIVENESS_SECONDS)
    thread.join()
    report.bytes_read = reader.bytes_read
    report.raw_segments_written = reader.segments_sealed
    finishing.set()
    wake.set()
    outcome: dict[str, Any] = {}
    try:
        outcome = receive.recv()
    except EOFError:
        outcome = {"error": "the ingest process ended without a report"}
    ingester.join()
    report.stored = IngestResult(**{k: v for k, v in outcome.get("stored", {}).items() if k != "by_type"})
    report.last_error = outcome.get("error") or conversion_error
    report.spooled_segments = spool.waiting()
    if ingester.exitcode not in (0, None):
        log.error("pipe_ingest_failed", exit_code=ingester.exitcode, error=report.last_error)
    if reader.error is not None:
        raise reader.error
    return report


def drain_spool(spool: Spool, factory: sessionmaker[Session], *, forward: ForwardPolicy) -> DrainReport:
    """Seal what a dead pipe left, parse every raw segment, then store every parsed one."""
    spool.recover_orphans()
    conversions: list[Conversion] = []
    failed = convert_waiting(spool, on_converted=conversions.append)
    report = Replayer(spool, factory, forward=forward).drain()
    report.converted = sum(1 for conversion in conversions if not conversion.rejected)
    report.rejected += sum(1 for conversion in conversions if conversion.rejected)
    report.remaining = spool.waiting()
    report.conversion_error = failed
    return report


def open_factory(database_url: str, *, connect_timeout: int) -> sessionmaker[Session]:
    return make_session_factory(make_pipe_engine(database_url, connect_timeout=connect_timeout))
