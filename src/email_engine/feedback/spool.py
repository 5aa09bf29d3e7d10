"""The pipe's durable spool: local files holding accounting input until the database has stored it.

A segment goes through two forms, each a file named ``<stem>.<suffix>`` where the stem starts with a
nanosecond timestamp, so sorting names gives arrival order:

- *raw* (``feedback.raw_spool``): the bytes read from stdin, unchanged, behind a one-line preamble
  (``feedback.raw_segment``). Written as ``<stem>.open`` under an exclusive ``flock``, then fsync'd and
  renamed to ``<stem>.raw`` (sealed).
- *parsed*: JSON lines of records and dead letters, converted from a sealed raw segment, written as
  ``<stem>.parsing`` and renamed to ``<stem>.batch`` once fsync'd; only then is the raw segment deleted.
  The ingest side stores a ``.batch`` in one transaction and deletes it only after the commit.

A crash at any point leaves either nothing to do or work whose repetition is harmless: a raw segment
converted twice or a batch stored twice changes nothing (every record carries its idempotency key,
every dead letter a dedupe key). :meth:`Spool.recover_orphans` seals what a dead writer left.

A segment that cannot be stored or converted for a reason other than an unreachable database (a value
the database refuses, a damaged file) is moved to ``rejected/`` with a ``.reason`` file beside it, so
one bad segment never blocks the ones after it and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import structlog

from email_engine.errors import ConfigurationError
from email_engine.feedback.raw_segment import RawPreamble
from email_engine.feedback.records import DeadLetterItem, IngestRecord

__all__ = ["PREAMBLE_LIMIT", "Segment", "SegmentWriter", "Spool", "SpoolBatch", "fsync_dir"]

log = structlog.get_logger("email_engine.pipe")

_FORMAT = 2
#: Longest preamble line read back (a header line may be long; anything longer is damage).
PREAMBLE_LIMIT = 4 << 20
#: Sealed segments: raw (not parsed yet) and parsed (not stored yet).
_SEALED_SUFFIXES = (".raw", ".batch")
#: Segments not stored yet, including open ones (being written, or left by a dead writer).
_WAITING_SUFFIXES = (*_SEALED_SUFFIXES, ".open")


@dataclass(slots=True)
class SpoolBatch:
    source: str
    records: list[IngestRecord] = field(default_factory=list)
    dead_letters: list[DeadLetterItem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.dead_letters)


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def arrived_at(self) -> datetime | None:
        """When the segment's input started arriving (its stem's nanoseconds; the same on every replay)."""
        head = self.path.name[:20]
        return datetime.fromtimestamp(int(head) / 1e9, tz=UTC) if head.isdigit() else None


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentWriter:
    """Appends items to one ``<stem>.parsing`` file (held under an exclusive lock) until sealed as ``.batch``."""

    def __init__(self, spool: Spool, *, source: str, stem: str | None = None) -> None:
        self.spool = spool
        self.source = source
        stem = stem or spool.new_stem()
        self.open_path = spool.directory / f"{stem}.parsing"
        self.sealed_path = spool.directory / f"{stem}.batch"
        self.count = 0
        self.started = time.monotonic()
        with spool.creating():
            # "w", not "x": a conversion that died left its file behind, and this one replaces it.
            self._file: IO[str] = open(self.open_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in seal()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.write(json.dumps({"v": _FORMAT, "source": source}) + "\n")

    def __len__(self) -> int:
        return self.count

    def add(self, item: IngestRecord | DeadLetterItem) -> None:
        line: dict[str, Any] = (
            {"r": item.to_json()} if isinstance(item, IngestRecord) else {"dl": item.to_json()}
        )
        self.count += 1
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        """Hand buffered lines to the OS: they now survive a crash of this process."""
        self._file.flush()

    def seal(self) -> Segment:
        """fsync, rename to ``.batch``, fsync the directory: the segment now survives power loss."""
        self._file.flush()
        os.fsync(self._file.fileno())
        os.rename(self.open_path, self.sealed_path)
        fsync_dir(self.spool.directory)
        self._file.close()  # releases the lock
        return Segment(self.sealed_path)

    def abandon(self) -> None:
        """Drop the unfinished file (nothing was sealed; its input is still in the spool)."""
        with contextlib.suppress(FileNotFoundError):
            self.open_path.unlink()
        self._file.close()


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rejected = directory / "rejected"
        self._last_stem_ns = 0
        self._stem_lock = threading.Lock()
        self._creation_lock: int | None = None
        try:
            self.rejected.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigurationError(
                f"The pipe spool directory {directory} cannot be created ({exc.strerror}); "
                "set PIPE_SPOOL_DIR to a directory the PowerMTA user can write."
            ) from exc
        if not os.access(directory, os.W_OK):
            raise ConfigurationError(
                f"The pipe spool directory {directory} is not writable; "
                "set PIPE_SPOOL_DIR to a directory the PowerMTA user can write."
            )

    def writer(self, *, source: str, stem: str | None = None) -> SegmentWriter:
        return SegmentWriter(self, source=source, stem=stem)

    def new_stem(self) -> str:
        """A unique file stem that sorts after every stem this process made before (arrival order)."""
        with self._stem_lock:
            self._last_stem_ns = max(time.time_ns(), self._last_stem_ns + 1)
            return f"{self._last_stem_ns:020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @contextlib.contextmanager
    def creating(self) -> Iterator[None]:
        """Hold while creating and locking a new segment file, so recovery never takes it for a dead writer's.

        A file exists for a moment before its writer locks it; recovery holds this lock exclusively.
        """
        if self._creation_lock is None:
            self._creation_lock = self._open_lock_file()
        fcntl.flock(self._creation_lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._creation_lock, fcntl.LOCK_UN)

    def _open_lock_file(self) -> int:
        return os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def pending(self) -> list[Segment]:
        """Parsed segments waiting to be stored, oldest first."""
        return [Segment(path) for path in sorted(self.directory.glob("*.batch"))]

    def raw_pending(self) -> list[Segment]:
        """Sealed raw segments waiting to be parsed, oldest first."""
        return [Segment(path) for path in sorted(self.directory.glob("*.raw"))]

    def waiting(self) -> int:
        """Segments not yet stored: sealed raw, parsed, and open ones (being written or left by a dead writer)."""
        return sum(1 for path in self.directory.iterdir() if path.suffix in _WAITING_SUFFIXES)

    def rejected_segments(self) -> list[Segment]:
        return [Segment(path) for path in sorted(self.rejected.iterdir()) if path.suffix in _SEALED_SUFFIXES]

    def recover_orphans(self) -> int:
        """Seal the ``.open`` raw segments whose writer died (their lock is free). Returns how many.

        A writer that died while moving the end of a segment into the next one (see
        ``raw_spool.RawReader``) left the bytes in both: the copy wins when it is complete, else it is
        dropped. A file with no complete preamble held nothing yet and is deleted; one whose preamble
        is damaged is set aside in ``rejected/``. ``.open`` files in the parsed format of earlier
        versions are sealed as ``.batch``, and the temporary file of a conversion that died is deleted.
        """
        # Its own descriptor, closed when done: a process forked later must not inherit this lock.
        fd = self._open_lock_file()
        fcntl.flock(fd, fcntl.LOCK_EX)  # no writer is between creating a file and locking it
        held: dict[str, IO[bytes]] = {}
        try:
            for path in sorted(self.directory.glob("*.open")):
                handle = self._try_lock(path)
                if handle is not None:
                    held[path.stem] = handle
            for path in self.directory.glob("*.parsing"):
                handle = self._try_lock(path)
                if handle is not None:
                    with handle:
                        path.unlink()
            return self._seal_orphans(held)
        finally:
            for handle in held.values():
                handle.close()
            os.close(fd)

    @staticmethod
    def _try_lock(path: Path) -> IO[bytes] | None:
        """The file opened under an exclusive lock, or None when it is gone or another process holds it."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()  # a live writer holds it
            return None
        return handle

    def _seal_orphans(self, held: dict[str, IO[bytes]]) -> int:
        preambles: dict[str, RawPreamble | str] = {}
        preamble_bytes: dict[str, int] = {}
        for stem, handle in held.items():
            preambles[stem], preamble_bytes[stem] = _orphan_preamble(handle)
        for stem, preamble in preambles.items():
            if not isinstance(preamble, RawPreamble) or preamble.moved_from not in held:
                continue
            source = self.directory / f"{preamble.moved_from}.open"
            if source.stat().st_size <= preamble.moved_at:
                continue  # the move finished: the source was already cut
            copied = os.fstat(held[stem].fileno()).st_size - preamble_bytes[stem]
            if copied >= preamble.moved_bytes:
                os.truncate(source, preamble.moved_at)
            else:
                preambles[stem] = "torn"  # the source still holds every byte of the unfinished copy
        sealed = 0
        for stem in sorted(held):
            path = self.directory / f"{stem}.open"
            preamble = preambles[stem]
            if preamble == "torn":
                path.unlink()
            elif preamble == "parsed":
                os.rename(path, path.with_suffix(".batch"))
                sealed += 1
            elif isinstance(preamble, RawPreamble):
                os.rename(path, path.with_suffix(".raw"))
                sealed += 1
            else:
                self.reject(
                    Segment(path), f"damaged raw segment left by a dead writer: {preamble}", suffix=".raw"
                )
                log.error("spool_segment_rejected", segment=path.name, error=preamble[:200])
        fsync_dir(self.directory)
        return sealed

    @contextlib.contextmanager
    def claim(self, segment: Segment) -> Iterator[bool]:
        """Hold the segment's lock while replaying it; yields False if another process holds it or it is gone."""
        handle = self._try_lock(segment.path)
        if handle is None:
            yield False
            return
        with handle:
            yield segment.path.exists()

    def read(self, segment: Segment) -> SpoolBatch:
        """Load a segment. A torn last line (the writer died mid-write) is ignored; other damage raises."""
        with open(segment.path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        complete, tail = lines[:-1], lines[-1]
        if not complete:
            raise ValueError("the segment has no header line")
        header = json.loads(complete[0])
        if header.get("v") != _FORMAT:
            raise ValueError(f"unknown segment format {header.get('v')!r}")
        batch = SpoolBatch(source=str(header.get("source", "pipe")))
        for line in complete[1:]:
            if not line:
                continue
            item = json.loads(line)
            if "r" in item:
                batch.records.append(IngestRecord.from_json(item["r"]))
            else:
                batch.dead_letters.append(DeadLetterItem.from_json(item["dl"]))
        del tail  # an unterminated last line was never completely written
        return batch

    def remove(self, segment: Segment) -> None:
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()

    def reject(self, segment: Segment, reason: str, *, suffix: str | None = None) -> Path:
        """Move a segment to ``rejected/`` (as ``<stem><suffix>``, default its own suffix) with its reason beside it."""
        target = self.rejected / f"{segment.stem}{suffix or segment.path.suffix}"
        os.rename(segment.path, target)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
        fsync_dir(self.directory)
        return target

    def restore_rejected(self) -> int:
        """Move rejected segments (raw and parsed) back into the queue (after the cause was fixed)."""
        moved = 0
        for segment in self.rejected_segments():
            os.rename(segment.path, self.directory / segment.name)
            with contextlib.suppress(FileNotFoundError):
                segment.path.with_suffix(".reason").unlink()
            moved += 1
        return moved

    def size(self, segments: Sequence[Segment] | None = None) -> int:
        return sum(
            segment.path.stat().st_size for segment in (segments or self.pending()) if segment.path.exists()
        )


def _orphan_preamble(handle: IO[bytes]) -> tuple[RawPreamble | str, int]:
    """The preamble of a dead writer's ``.open`` file and its length in bytes.

    Instead of a preamble: "parsed" for the parsed format of earlier versions, "torn" when the writer died
    before finishing it (nothing else was written), else why it cannot be read.
    """
    handle.seek(0)
    first = handle.readline(PREAMBLE_LIMIT)
    if not first.endswith(b"\n"):
        return ("torn" if len(first) < PREAMBLE_LIMIT else "the preamble line is too long"), len(first)
    try:
        return RawPreamble.decode(first), len(first)
    except ValueError as exc:
        with contextlib.suppress(ValueError):
            old = json.loads(first)
            if isinstance(old, dict) and old.get("v") == _FORMAT:
                return "parsed", len(first)
        return str(exc), len(first)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the spool holds, for monitoring: segments not yet stored, segments set aside, and how long the
    oldest waiting one has waited."""

    waiting: int
    rejected: int
    oldest_age_seconds: float


def _arrived_ns(path: Path) -> int:
    # Stems start with the nanosecond arrival time (Spool.new_stem); anything else counts from its mtime.
    head = path.name[:20]
    return int(head) if head.isdigit() else path.stat().st_mtime_ns


def backlog(directory: Path, *, now_ns: int | None = None) -> Backlog:
    """Read the spool without creating or locking anything (a spool no pipe has made yet holds nothing)."""
    try:
        waiting = [path for path in directory.iterdir() if path.suffix in _WAITING_SUFFIXES]
    except FileNotFoundError:
        return Backlog(waiting=0, rejected=0, oldest_age_seconds=0.0)
    try:
        rejected = sum(1 for path in (directory / "rejected").iterdir() if path.suffix in _SEALED_SUFFIXES)
    except FileNotFoundError:
        rejected = 0
    now = time.time_ns() if now_ns is None else now_ns
    oldest = 0.0
    for path in waiting:
        with contextlib.suppress(FileNotFoundError):  # stored and deleted while we looked
            oldest = max(oldest, (now - _arrived_ns(path)) / 1e9)
    return Backlog(waiting=len(waiting), rejected=rejected, oldest_age_seconds=oldest)
