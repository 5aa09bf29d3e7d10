"""The pipe's durable spool: batches of records written to local files before they are ingested.

Every batch becomes a *segment*: a JSON-lines file written as ``<name>.open`` while records arrive,
then fsync'd and renamed to ``<name>.batch`` (sealed). A sealed segment is deleted only after its
transaction committed, so a crash at any point leaves either nothing to do or a segment whose
replay is harmless (every record carries its idempotency key, every dead letter a dedupe key).
Names start with a nanosecond timestamp, so sorting them replays in arrival order.

A segment that cannot be stored for a reason other than an unreachable database (for example a
value the database refuses) is moved to ``rejected/`` with a ``.reason`` file beside it, so one
bad batch never blocks the ones after it and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from email_engine.errors import ConfigurationError
from email_engine.feedback.records import DeadLetterItem, IngestRecord

__all__ = ["Segment", "SegmentWriter", "Spool", "SpoolBatch"]

_FORMAT = 2


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


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentWriter:
    """Appends items to one ``.open`` file (held under an exclusive lock) until sealed."""

    def __init__(self, spool: Spool, *, source: str) -> None:
        self.spool = spool
        self.source = source
        stem = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.open_path = spool.directory / f"{stem}.open"
        self.sealed_path = spool.directory / f"{stem}.batch"
        self.count = 0
        self.started = time.monotonic()
        self._file: IO[str] = open(self.open_path, "x", encoding="utf-8")  # noqa: SIM115 - closed in seal()
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
        _fsync_dir(self.spool.directory)
        self._file.close()  # releases the lock
        return Segment(self.sealed_path)


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rejected = directory / "rejected"
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

    def writer(self, *, source: str) -> SegmentWriter:
        return SegmentWriter(self, source=source)

    def pending(self) -> list[Segment]:
        return [Segment(path) for path in sorted(self.directory.glob("*.batch"))]

    def rejected_segments(self) -> list[Segment]:
        return [Segment(path) for path in sorted(self.rejected.glob("*.batch"))]

    def recover_orphans(self) -> int:
        """Seal ``.open`` files whose writer died (their lock is free). Returns how many."""
        recovered = 0
        for path in sorted(self.directory.glob("*.open")):
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue
            with handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer holds it
                os.rename(path, path.with_suffix(".batch"))
                recovered += 1
        if recovered:
            _fsync_dir(self.directory)
        return recovered

    @contextlib.contextmanager
    def claim(self, segment: Segment) -> Iterator[bool]:
        """Hold the segment's lock while replaying it; yields False if another process holds it or it is gone."""
        try:
            handle = open(segment.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            yield False
            return
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
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

    def reject(self, segment: Segment, reason: str) -> Path:
        target = self.rejected / segment.name
        os.rename(segment.path, target)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
        _fsync_dir(self.directory)
        return target

    def restore_rejected(self) -> int:
        """Move rejected segments back into the queue (after the cause was fixed)."""
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
