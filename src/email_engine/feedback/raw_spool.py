"""The raw half of the pipe's spool: stdin's bytes onto disk before anything parses them, and their conversion.

:class:`RawReader` (the pipe's reader thread) does raw I/O only. When stdin is a pipe (PowerMTA's
``<acct-file |…>``) it moves bytes with ``splice(2)``: the kernel takes them out of the pipe only as it
puts them into the current raw segment, so there is no moment at which a byte has left the pipe but is
not yet in the file, and a SIGKILL of the process loses nothing it has taken. Data in the page cache
survives the death of the process; ``fsync`` at sealing makes it survive power loss too. Any other
stdin (a file, a terminal, or a pipe where ``splice`` is refused) is read with ``read(2)`` and written
straight away. Nothing parses or queues in between, so PowerMTA is never held up by parsing or by the
database: raw segments simply accumulate on disk while the rest is slow.

A segment is cut (``raw_segment.RawCutter`` decides where: a line end outside quoted fields) once it
holds ``PIPE_BATCH_SIZE`` lines or is ``PIPE_FLUSH_SECONDS`` old, and at end of input. Sealing = fsync,
rename ``<stem>.open`` → ``<stem>.raw``, fsync the directory. A spliced chunk is already in the file
when the cut is chosen, so the bytes after the cut are *moved*: copied into the next segment (whose
preamble says where they came from), then cut off the first one with ``ftruncate``. Recovery after a
kill in between keeps exactly one copy (``Spool.recover_orphans``).

:func:`convert_raw` parses one sealed raw segment (``records.ingest_items`` with the preamble's source,
header and first line number) into the parsed segment ``<stem>.batch`` that the ingest side stores,
and deletes the raw segment only after the parsed one is durable. Converting it again after a crash
in between is harmless: the records' idempotency keys and the dead letters' dedupe keys are the same.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import select
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, TypeVar

import structlog

from email_engine.feedback.raw_segment import RawCutter, RawPreamble, header_cells
from email_engine.feedback.records import IngestRecord, ingest_items
from email_engine.feedback.spool import PREAMBLE_LIMIT, Segment, Spool, fsync_dir

__all__ = [
    "CHUNK_BYTES",
    "MAX_SEGMENT_BYTES",
    "Conversion",
    "RawReader",
    "RawSegmentFile",
    "SpliceRefused",
    "convert_raw",
]

log = structlog.get_logger("email_engine.pipe")

#: Most bytes taken from stdin at once: what the reader holds in memory.
CHUNK_BYTES = 1 << 20
#: Past this size a segment is cut even inside a quoted field (hostile or broken input).
MAX_SEGMENT_BYTES = 64 << 20
# splice(2) refused for this pair of files: fall back to read + write.
_NO_SPLICE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_RETRY_SECONDS = 1.0
_T = TypeVar("_T")


def _when_disk_has_room(action: Callable[[], _T]) -> _T:
    """Run ``action``, retrying while the disk is full: PowerMTA waits (its data stays in its hands or the
    pipe) rather than the pipe dying with data it took."""
    warned_at = -math.inf
    while True:
        try:
            return action()
        except OSError as exc:
            if exc.errno not in _DISK_FULL:
                raise
            if time.monotonic() - warned_at >= 60:
                log.error("spool_disk_full_waiting", error=str(exc))
                warned_at = time.monotonic()
            time.sleep(_DISK_FULL_RETRY_SECONDS)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_when_disk_has_room(partial(os.write, fd, view)) :]


class SpliceRefused(Exception):
    """splice(2) does not work between stdin and the spool's filesystem (nothing was moved)."""


class RawSegmentFile:
    """One raw segment being written: ``<stem>.open`` under an exclusive lock until sealed as ``<stem>.raw``."""

    def __init__(self, spool: Spool, preamble: RawPreamble, initial: bytes = b"") -> None:
        self.spool = spool
        self.stem = spool.new_stem()
        self.path = spool.directory / f"{self.stem}.open"
        with spool.creating():
            self.fd = _when_disk_has_room(
                lambda: os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            )
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        head = preamble.encode()
        # One write: a kill leaves the preamble torn (nothing else there) or whole with its first bytes.
        _write_all(self.fd, head + initial)
        self.size = len(head) + len(initial)
        self.data_bytes = len(initial)
        self.started = time.monotonic()

    def append(self, data: bytes) -> None:
        _write_all(self.fd, data)
        self.size += len(data)
        self.data_bytes += len(data)

    def splice_from(self, source: int, count: int) -> bytes:
        """Move up to ``count`` bytes from the pipe ``source`` into the file; returns them (b"" at end of input).

        Raises :class:`SpliceRefused` when the kernel cannot splice between these two files.
        """
        try:
            moved = _when_disk_has_room(lambda: os.splice(source, self.fd, count))
        except OSError as exc:
            if exc.errno in _NO_SPLICE:
                raise SpliceRefused(str(exc)) from exc
            raise
        if not moved:
            return b""
        data = os.pread(self.fd, moved, self.size)
        self.size += moved
        self.data_bytes += moved
        return data

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        self.data_bytes -= self.size - size
        self.size = size

    def seal(self) -> Segment:
        """fsync, rename to ``.raw``, fsync the directory: the segment now survives power loss."""
        os.fsync(self.fd)
        sealed = self.path.with_suffix(".raw")
        os.rename(self.path, sealed)
        fsync_dir(self.spool.directory)
        os.close(self.fd)  # releases the lock
        return Segment(sealed)

    def discard(self) -> None:
        """Delete a segment that received no input."""
        self.path.unlink()
        os.close(self.fd)


class RawReader:
    """The pipe's reader thread: stdin → raw segments, nothing else. Run :meth:`run` in a thread.

    ``on_sealed`` is called after each sealed segment and once at the end (``done`` is set by then;
    ``error`` holds what stopped the reading early, if anything).
    """

    def __init__(
        self,
        stream: IO[bytes],
        spool: Spool,
        *,
        source: str,
        batch_lines: int,
        flush_seconds: float,
        on_sealed: Callable[[], None] = lambda: None,
        max_segment_bytes: int = MAX_SEGMENT_BYTES,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.stream = stream
        self.spool = spool
        self.source = source
        self.flush_seconds = flush_seconds
        self.on_sealed = on_sealed
        self.chunk_bytes = chunk_bytes
        self.cutter = RawCutter(batch_lines=batch_lines, max_bytes=max_segment_bytes)
        self.segment: RawSegmentFile | None = None
        self.bytes_read = 0
        self.segments_sealed = 0
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._read_until_eof()
        except BaseException as exc:  # what was read is in the spool; the caller reports the error
            self.error = exc
        finally:
            self.done.set()
            self.on_sealed()

    def _read_until_eof(self) -> None:
        fd = self._fileno()
        use_splice = fd is not None and stat.S_ISFIFO(os.fstat(fd).st_mode)
        poller = None
        if fd is not None:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
        while True:
            if poller is not None and not self._input_ready(poller):
                continue
            if use_splice:
                assert fd is not None
                try:
                    more = self._splice_chunk(fd)
                except SpliceRefused as exc:
                    # read + write instead: a kill between the two can lose the bytes of one read.
                    log.warning("pipe_splice_unavailable", error=str(exc))
                    use_splice = False
                    continue
            else:
                more = self._read_chunk(fd)
            if not more:
                break
        if self.segment is not None and self.segment.data_bytes == 0:
            self.segment.discard()
            self.segment = None
        self._seal()

    def _fileno(self) -> int | None:
        try:
            return self.stream.fileno()
        except (OSError, ValueError, AttributeError):
            return None  # an in-memory stream: plain reads

    def _input_ready(self, poller: select.poll) -> bool:
        """Wait for input; seal the segment when it is old enough and ends where it may be cut."""
        timeout: int | None = None
        if self.segment is not None and self.cutter.size:
            age = time.monotonic() - self.segment.started
            if age >= self.flush_seconds:
                if self.cutter.can_cut_here():
                    self._seal()
                    return False
                # Overdue, but it ends inside a line or a quoted field: the next bytes decide.
            else:
                timeout = max(1, math.ceil((self.flush_seconds - age) * 1000))
        return bool(poller.poll(timeout))

    def _overdue(self) -> bool:
        return self.segment is not None and time.monotonic() - self.segment.started >= self.flush_seconds

    def _open(self, initial: bytes = b"", *, moved_from: RawSegmentFile | None = None) -> RawSegmentFile:
        start = self.cutter.start
        preamble = RawPreamble(self.source, start.first_line, start.header)
        if moved_from is not None:
            preamble = replace(
                preamble,
                moved_from=moved_from.stem,
                moved_at=moved_from.size - len(initial),
                moved_bytes=len(initial),
            )
        self.segment = RawSegmentFile(self.spool, preamble, initial)
        return self.segment

    def _seal(self) -> None:
        if self.segment is None:
            return
        self.segment.seal()
        self.segment = None
        self.segments_sealed += 1
        self.cutter.cut()
        self.on_sealed()

    def _splice_chunk(self, fd: int) -> bool:
        segment = self.segment or self._open()
        data = segment.splice_from(fd, self.chunk_bytes)
        if not data:
            return False
        self.bytes_read += len(data)
        cut = self.cutter.advance(data, overdue=self._overdue())
        if cut is None:
            return True
        if cut == len(data):
            self._seal()
            return True
        # The bytes after the cut are in this file already: copy them into the next segment first, then
        # cut them off this one (recovery keeps exactly one copy if we die in between).
        tail = data[cut:]
        self.cutter.cut()
        self._open(tail, moved_from=segment)
        segment.truncate(segment.size - len(tail))
        segment.seal()
        self.segments_sealed += 1
        self.on_sealed()
        self.cutter.advance(tail, may_cut=False)
        return True

    def _read_chunk(self, fd: int | None) -> bool:
        data = os.read(fd, self.chunk_bytes) if fd is not None else self.stream.read(self.chunk_bytes)
        if not data:
            return False
        self.bytes_read += len(data)
        while data:
            segment = self.segment or self._open()
            cut = self.cutter.advance(data, overdue=self._overdue())
            if cut is None:
                segment.append(data)
                break
            segment.append(data[:cut])
            self._seal()
            data = data[cut:]
        return True


@dataclass(slots=True)
class Conversion:
    records: int = 0
    dead_letters: int = 0
    rejected: bool = False

    @property
    def items(self) -> int:
        return self.records + self.dead_letters


def convert_raw(spool: Spool, segment: Segment) -> Conversion | None:
    """Parse a sealed raw segment into the parsed segment of the same stem, then delete it.

    Returns None when another process holds the segment or it is gone. A segment whose preamble cannot
    be read, or whose content the parser fails on, is moved to ``rejected/``; OSError (a full disk…)
    propagates and leaves the raw segment in place.
    """
    with spool.claim(segment) as mine:
        if not mine:
            return None
        result = Conversion()
        with open(segment.path, "rb") as handle:
            try:
                preamble = RawPreamble.decode(handle.readline(PREAMBLE_LIMIT))
            except ValueError as exc:
                return _reject(spool, segment, f"unreadable raw segment: {exc}")
            header = header_cells(preamble.header) if preamble.header is not None else None
            lines = (raw.decode("utf-8", "replace") for raw in handle)
            writer = spool.writer(source=preamble.source, stem=segment.stem)
            try:
                for item in ingest_items(
                    lines, stream=preamble.source, header=header, first_line_number=preamble.first_line
                ):
                    writer.add(item)
                    if isinstance(item, IngestRecord):
                        result.records += 1
                    else:
                        result.dead_letters += 1
                if len(writer):
                    writer.seal()
                else:
                    writer.abandon()  # nothing but blank lines or header lines
            except OSError:
                writer.abandon()
                raise
            except Exception as exc:  # a parser failure must not block the segments after this one
                writer.abandon()
                return _reject(spool, segment, f"conversion failed: {type(exc).__name__}: {exc}"[:500])
        spool.remove(segment)
        return result


def _reject(spool: Spool, segment: Segment, reason: str) -> Conversion:
    spool.reject(segment, reason)
    log.error("spool_segment_rejected", segment=segment.name, error=reason[:200])
    return Conversion(rejected=True)
