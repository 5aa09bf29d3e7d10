"""``email-engine pipe``: PowerMTA accounting on stdin → spool segment → ingestion, never losing a record.

Three parts run at once so PowerMTA is never held up by the database:

- a reader thread parses stdin as it arrives (streaming, line by line) into a bounded queue;
- the main thread appends each item to the open spool segment and seals it (fsync) when it holds
  ``PIPE_BATCH_SIZE`` items or is ``PIPE_FLUSH_SECONDS`` old;
- an ingest *process* (forked at start, so parsing and storing use both cores) reads sealed
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
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
from email_engine.feedback.records import DeadLetterItem, IngestRecord, ingest_items
from email_engine.feedback.spool import Segment, SegmentWriter, Spool, SpoolBatch

__all__ = ["DrainReport", "PipeReport", "Replayer", "make_pipe_engine", "run_pipe"]

log = structlog.get_logger("email_engine.pipe")

_QUEUE_ITEMS = 2000
_LIVENESS_SECONDS = 2.0
# Input quiet for this long: flush the open segment to the OS (not per record: a syscall each).
_PAUSE_SECONDS = 0.05
_EOF = object()


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
                    result = self._store(batch)
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

    def _store(self, batch: SpoolBatch) -> IngestResult:
        with self.factory() as session:
            try:
                result = ingest_batch(
                    session,
                    batch.records,
                    batch.dead_letters,
                    source=batch.source,
                    now=utcnow(),
                    forward=self.forward,
                )
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return result


@dataclass(slots=True)
class PipeReport:
    items: int = 0
    records: int = 0
    dead_letters_read: int = 0
    segments_written: int = 0
    spooled_segments: int = 0
    stored: IngestResult = field(default_factory=IngestResult)
    last_error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.items,
            "records": self.records,
            "dead_letters_read": self.dead_letters_read,
            "segments_written": self.segments_written,
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


def _reader(lines: Iterable[str], stream: str, out: queue.Queue[object]) -> None:
    try:
        for item in ingest_items(lines, stream=stream):
            out.put(item)
    except BaseException as exc:  # a read error ends the stream; what was read is still spooled
        out.put(exc)
    finally:
        out.put(_EOF)


def _decoded_lines(stream: IO[bytes]) -> Iterable[str]:
    """Bytes → text lines; invalid UTF-8 becomes U+FFFD so one bad byte cannot stop the stream."""
    for raw in stream:
        yield raw.decode("utf-8", "replace")


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
    """Read until EOF; return when every item is committed or sealed in the spool."""
    report = PipeReport()
    recovered = spool.recover_orphans()
    if recovered:
        log.info("spool_orphans_recovered", segments=recovered)
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
    items: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_ITEMS)
    reader = threading.Thread(
        target=_reader, args=(_decoded_lines(stream), source, items), name="pipe-reader", daemon=True
    )
    reader.start()
    writer: SegmentWriter | None = None
    read_error: BaseException | None = None

    def seal() -> None:
        nonlocal writer
        if writer is None:
            return
        writer.seal()
        report.segments_written += 1
        wake.set()
        writer = None

    unflushed = False
    while True:
        if writer is None:
            timeout: float | None = None
        else:
            remaining = max(0.0, flush_seconds - (time.monotonic() - writer.started))
            timeout = min(remaining, _PAUSE_SECONDS) if unflushed else remaining
        try:
            item = items.get(timeout=timeout)
        except queue.Empty:
            if writer is not None and unflushed and time.monotonic() - writer.started < flush_seconds:
                writer.flush()  # PowerMTA paused: what we hold is now in the OS, safe from our own crash
                unflushed = False
            else:
                seal()
                unflushed = False
            continue
        if item is _EOF:
            break
        if isinstance(item, BaseException):
            read_error = item
            continue
        assert isinstance(item, IngestRecord | DeadLetterItem)
        if writer is None:
            writer = spool.writer(source=source)
        writer.add(item)
        unflushed = True
        report.items += 1
        if isinstance(item, IngestRecord):
            report.records += 1
        else:
            report.dead_letters_read += 1
        if len(writer) >= batch_size:
            seal()
            unflushed = False
    seal()
    finishing.set()
    wake.set()
    outcome: dict[str, Any] = {}
    try:
        outcome = receive.recv()
    except EOFError:
        outcome = {"error": "the ingest process ended without a report"}
    ingester.join()
    report.stored = IngestResult(**{k: v for k, v in outcome.get("stored", {}).items() if k != "by_type"})
    report.last_error = outcome.get("error")
    report.spooled_segments = len(spool.pending())
    if ingester.exitcode not in (0, None):
        log.error("pipe_ingest_failed", exit_code=ingester.exitcode, error=report.last_error)
    if read_error is not None:
        raise read_error
    return report


def drain_spool(spool: Spool, factory: sessionmaker[Session], *, forward: ForwardPolicy) -> DrainReport:
    spool.recover_orphans()
    report = Replayer(spool, factory, forward=forward).drain()
    report.remaining = len(spool.pending())
    return report


def open_factory(database_url: str, *, connect_timeout: int) -> sessionmaker[Session]:
    return make_session_factory(make_pipe_engine(database_url, connect_timeout=connect_timeout))
