"""stdin → raw segments → parsed segments, through real files and pipes; recovery of what a dead writer left."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from email_engine.feedback.raw_segment import RawPreamble
from email_engine.feedback.raw_spool import RawReader, RawSegmentFile, convert_raw
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from email_engine.feedback.spool import Spool
from tests.unit.feedback.raw_streams import HEADER, parse, row, stream


def _read(spool: Spool, data: IO[bytes], *, batch_lines: int = 7, flush_seconds: float = 3600) -> RawReader:
    reader = RawReader(data, spool, source="t", batch_lines=batch_lines, flush_seconds=flush_seconds)
    reader.run()
    assert reader.error is None, reader.error
    return reader


def _convert_all(spool: Spool) -> tuple[list[IngestRecord], list[DeadLetterItem]]:
    """Convert every sealed raw segment, then read the parsed segments back in order."""
    for segment in spool.raw_pending():
        assert convert_raw(spool, segment) is not None
    assert not spool.raw_pending()
    records: list[IngestRecord] = []
    letters: list[DeadLetterItem] = []
    for segment in spool.pending():
        batch = spool.read(segment)
        assert batch.source == "t"
        records.extend(batch.records)
        letters.extend(batch.dead_letters)
    return records, letters


def _assert_same_items(spool: Spool, data: bytes) -> None:
    """What the spool holds is what parsing the whole input at once gives (a parsed segment keeps its
    records and its dead letters apart, so each kind is compared in input order)."""
    expected = parse(data)
    records, letters = _convert_all(spool)
    assert records == [item for item in expected if isinstance(item, IngestRecord)]
    assert letters == [item for item in expected if isinstance(item, DeadLetterItem)]


def test_file_on_stdin_is_read_into_raw_segments_that_parse_like_the_stream(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = stream(1)
    source = tmp_path / "acct.csv"
    source.write_bytes(data)
    with open(source, "rb") as stdin:
        reader = _read(spool, stdin)
    assert reader.bytes_read == len(data)
    assert reader.segments_sealed == len(spool.raw_pending()) > 10
    assert not list(spool.directory.glob("*.open"))
    _assert_same_items(spool, data)


def test_in_memory_stream_is_read_too(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = stream(2)
    _read(spool, io.BytesIO(data), batch_lines=50)
    _assert_same_items(spool, data)


def _pipe_writer(
    data: bytes, *, seed: int, pause_at: int | None = None, resume: threading.Event | None = None
) -> tuple[IO[bytes], threading.Thread]:
    """A pipe whose other end a thread writes ``data`` into in random pieces (waiting for ``resume`` once
    ``pause_at`` bytes are written)."""
    read_end, write_end = os.pipe()

    def write() -> None:
        rng = random.Random(seed)
        position = 0
        with os.fdopen(write_end, "wb", buffering=0) as out:
            while position < len(data):
                size = rng.choice([1, 7, 100, 4096, 20000])
                if pause_at is not None and position < pause_at:
                    size = min(size, pause_at - position)
                out.write(data[position : position + size])
                position += size
                if position == pause_at and resume is not None:
                    resume.wait(30)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return os.fdopen(read_end, "rb"), thread


def test_pipe_on_stdin_is_spliced_and_cut_tails_are_moved(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = stream(3, records=3000)
    stdin, writer = _pipe_writer(data, seed=3)
    with stdin:
        reader = _read(spool, stdin, batch_lines=40)
    writer.join()
    assert reader.bytes_read == len(data)
    raws = spool.raw_pending()
    preambles = [RawPreamble.decode(segment.path.read_bytes().split(b"\n", 1)[0] + b"\n") for segment in raws]
    # Bytes spliced past a cut were moved into the next segment, whose preamble says so.
    assert any(preamble.moved_from is not None for preamble in preambles)
    assert not list(spool.directory.glob("*.open"))
    _assert_same_items(spool, data)


def test_segment_is_sealed_when_input_pauses(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = HEADER + b"".join(row(n) for n in range(200))
    resume = threading.Event()
    stdin, writer = _pipe_writer(data, seed=4, pause_at=_cut_point(data, 0.5), resume=resume)
    reader = RawReader(stdin, spool, source="t", batch_lines=10_000, flush_seconds=0.05)
    thread = threading.Thread(target=reader.run)
    thread.start()
    try:
        _wait(lambda: bool(spool.raw_pending()), "a segment sealed while the writer waits")
        # Sealed at a line end: the segment parses alone, nothing half-written in it.
        assert spool.raw_pending()[0].path.read_bytes().endswith(b"\n")
    finally:
        resume.set()
        writer.join()
        thread.join()
        stdin.close()
    assert reader.error is None
    _assert_same_items(spool, data)


def test_empty_input_leaves_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    stdin, writer = _pipe_writer(b"", seed=5)
    with stdin:
        reader = _read(spool, stdin)
    writer.join()
    assert reader.segments_sealed == 0 and spool.waiting() == 0


def test_converting_a_segment_twice_gives_the_same_batch(tmp_path: Path) -> None:
    """A crash between sealing the parsed segment and deleting the raw one converts it again: same keys."""
    spool = Spool(tmp_path / "spool")
    data = stream(6)
    _read(spool, io.BytesIO(data), batch_lines=100_000)
    (raw,) = spool.raw_pending()
    kept = raw.path.read_bytes()
    assert convert_raw(spool, raw) is not None
    (batch,) = spool.pending()
    first = batch.path.read_bytes()
    raw.path.write_bytes(kept)
    conversion = convert_raw(spool, raw)
    assert conversion is not None and conversion.records > 0 and conversion.dead_letters > 0
    assert batch.path.read_bytes() == first


def _raw_file(spool: Spool, stem: str, preamble: RawPreamble, data: bytes, *, suffix: str = ".open") -> Path:
    """A raw segment as a dead writer left it (nobody holds its lock)."""
    path = spool.directory / f"{stem}{suffix}"
    path.write_bytes(preamble.encode() + data)
    return path


def _cut_point(data: bytes, fraction: float) -> int:
    return data.index(b"\n", int(len(data) * fraction)) + 1


def _moved_preamble(first: RawPreamble, data: bytes, cut: int) -> RawPreamble:
    """The preamble of the segment that receives the bytes after ``cut`` of segment 0001-1-a."""
    return RawPreamble(
        "t",
        data[:cut].count(b"\n") + 1,
        HEADER.decode().rstrip(),
        moved_from="0001-1-a",
        moved_at=len(first.encode()) + cut,
        moved_bytes=len(data) - cut,
    )


def test_recovery_after_a_kill_mid_move_keeps_one_copy_of_a_finished_copy(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = HEADER + b"".join(row(n) for n in range(50)) + b"d,2026-11-24 10:00:00+0000,half"
    cut = _cut_point(data, 0.6)
    first = RawPreamble("t", 1, None)
    _raw_file(spool, "0001-1-a", first, data)
    moved = _moved_preamble(first, data, cut)
    _raw_file(spool, "0002-1-b", moved, data[cut:])
    assert spool.recover_orphans() == 2
    assert [segment.name for segment in spool.raw_pending()] == ["0001-1-a.raw", "0002-1-b.raw"]
    assert spool.raw_pending()[0].path.read_bytes() == first.encode() + data[:cut]
    _assert_same_items(spool, data)


def test_recovery_after_a_kill_mid_copy_drops_the_unfinished_copy(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = HEADER + b"".join(row(n) for n in range(50))
    cut = _cut_point(data, 0.6)
    first = RawPreamble("t", 1, None)
    _raw_file(spool, "0001-1-a", first, data)
    moved = _moved_preamble(first, data, cut)
    _raw_file(spool, "0002-1-b", moved, data[cut : cut + 10])
    assert spool.recover_orphans() == 1
    (only,) = spool.raw_pending()
    assert only.path.read_bytes() == first.encode() + data
    _assert_same_items(spool, data)


def test_recovery_after_a_finished_move_touches_nothing_else(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    data = HEADER + b"".join(row(n) for n in range(50))
    cut = _cut_point(data, 0.5)
    first = RawPreamble("t", 1, None)
    _raw_file(spool, "0001-1-a", first, data[:cut], suffix=".raw")  # cut and sealed before the kill
    moved = RawPreamble(
        "t",
        data[:cut].count(b"\n") + 1,
        HEADER.decode().rstrip(),
        moved_from="0001-1-a",
        moved_at=len(first.encode()) + cut,
        moved_bytes=40,
    )
    _raw_file(spool, "0002-1-b", moved, data[cut:])  # then more input was appended
    assert spool.recover_orphans() == 1
    _assert_same_items(spool, data)


def test_recovery_deletes_a_torn_preamble_and_sets_damage_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    (spool.directory / "0001-1-a.open").write_bytes(b'{"raw":1,"sour')
    (spool.directory / "0002-1-b.open").write_bytes(b"not a preamble\nd,2026,x@y\n")
    assert spool.recover_orphans() == 0
    assert not list(spool.directory.glob("0001-*"))
    (rejected,) = spool.rejected_segments()
    assert rejected.name == "0002-1-b.raw"
    assert "damaged" in rejected.path.with_suffix(".reason").read_text()
    assert rejected.path.read_bytes().endswith(b"x@y\n")  # nothing deleted


def test_live_raw_writer_keeps_its_open_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    live = RawSegmentFile(spool, RawPreamble("t", 1, None), HEADER)
    try:
        assert spool.recover_orphans() == 0 and live.path.exists()
    finally:
        live.seal()
    assert spool.raw_pending()


@pytest.mark.slow
def test_raw_segment_of_a_killed_process_is_recovered_and_converted(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    data = HEADER + b"".join(row(n) for n in range(30))
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from email_engine.feedback.spool import Spool\n"
        "from email_engine.feedback.raw_segment import RawPreamble\n"
        "from email_engine.feedback.raw_spool import RawSegmentFile\n"
        f"segment = RawSegmentFile(Spool(Path({str(directory)!r})), RawPreamble('t', 1, None))\n"
        "segment.append(sys.stdin.buffer.read())\n"
        "os._exit(9)\n"  # dies without sealing: the bytes are in the page cache only
    )
    subprocess.run([sys.executable, "-c", script], input=data, check=False)
    spool = Spool(directory)
    assert list(directory.glob("*.open"))
    assert spool.recover_orphans() == 1
    _assert_same_items(spool, data)


def test_unreadable_raw_segment_is_rejected_then_restorable(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    path = spool.directory / "0001-1-a.raw"
    path.write_bytes(b'{"raw": 99}\n' + HEADER)
    (segment,) = spool.raw_pending()
    conversion = convert_raw(spool, segment)
    assert conversion is not None and conversion.rejected
    assert not spool.raw_pending() and not spool.pending()
    assert "unknown raw segment format" in (spool.rejected / "0001-1-a.reason").read_text()
    assert spool.restore_rejected() == 1 and spool.raw_pending()


def test_segment_claimed_by_another_process_is_left_alone(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    _raw_file(spool, "0001-1-a", RawPreamble("t", 1, None), HEADER + row(1), suffix=".raw")
    (segment,) = spool.raw_pending()
    with spool.claim(segment) as mine:
        assert mine
        # A second opener (another pipe, or --drain) gets False while the lock is held.
        assert convert_raw(Spool(spool.directory), segment) is None
    assert spool.raw_pending()


@pytest.mark.parametrize("batch_lines", [1, 3])
def test_a_header_only_input_writes_no_parsed_segment(tmp_path: Path, batch_lines: int) -> None:
    spool = Spool(tmp_path / "spool")
    _read(spool, io.BytesIO(HEADER + b"\n\n"), batch_lines=batch_lines)
    assert _convert_all(spool) == ([], [])
    assert spool.waiting() == 0


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for: {what}")
