"""SIGKILL the real ``email-engine pipe`` mid-input: everything it had taken from its pipe is stored, once.

The test keeps its own copy of the pipe's read end, so after the kill it can take back exactly the bytes
the dead process never read. Those, plus the input not yet written, go to a new pipe process (the way
PowerMTA starts a new pipe, with a header line first). The totals must equal a clean run of the file.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import signal
import subprocess
import termios
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.feedback.aggregate import hour_of
from email_engine.feedback.models import AccountingRow, DeadLetterRow
from email_engine.feedback.raw_segment import RawPreamble
from email_engine.feedback.raw_spool import RawReader, convert_raw
from email_engine.feedback.records import IngestRecord, ingest_items, key_number
from email_engine.feedback.spool import Spool
from tests.integration.feedback.conftest import EMAIL_ENGINE, pipe_env
from tests.integration.feedback.generate import GARBAGE, write_file
from tests.integration.feedback.test_pipe_outage import _assert_totals, _children, _count, _wait

BATCH_LINES = 1000


def _records_of(data: bytes) -> list[bytes]:
    """Whole logical records (a quoted field may span lines), each written to the pipe in one write."""
    units: list[bytes] = []
    pending = b""
    for line in data.splitlines(keepends=True):
        pending += line
        if pending.count(b'"') % 2 == 0:
            units.append(pending)
            pending = b""
    assert not pending and all(len(unit) <= select.PIPE_BUF for unit in units)
    return units


def _write(fd: int, unit: bytes) -> None:
    """One atomic pipe write (≤ PIPE_BUF), failing rather than hanging if the pipe stops reading."""
    _, writable, _ = select.select([], [fd], [], 60)
    assert writable, "the pipe stopped reading"
    assert os.write(fd, unit) == len(unit)


def _unread(fd: int) -> int:
    waiting = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, waiting)
    return waiting[0]


def _take_back(fd: int) -> bytes:
    """Everything left in the pipe (the write end is closed, so this ends)."""
    parts = []
    while chunk := os.read(fd, 1 << 16):
        parts.append(chunk)
    return b"".join(parts)


def _record_keys(data: bytes) -> set[tuple[datetime, int]]:
    """The stored identity of each record: (time_logged, 64-bit key)."""
    lines = [line.decode("utf-8", "replace") for line in data.splitlines(keepends=True)]
    return {
        (item.time_logged, key_number(item.key))
        for item in ingest_items(lines, stream="pipe")
        if isinstance(item, IngestRecord)
    }


def test_sigkill_loses_nothing_the_pipe_had_read(
    tmp_path: Path, run_pipe: Any, settings: Settings, session: Session
) -> None:
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=8000, base=start + timedelta(minutes=3))
    data = path.read_bytes()
    units = _records_of(data)
    spool = tmp_path / "spool"
    # Large flush interval: the records written last stay in the open raw segment until the kill.
    env = pipe_env(settings, spool, PIPE_BATCH_SIZE=str(BATCH_LINES), PIPE_FLUSH_SECONDS="120")
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    process = subprocess.Popen([EMAIL_ENGINE, "pipe"], stdin=read_end, env=env, stderr=subprocess.DEVNULL)
    sent = lines = 0
    try:
        # Half the input, then wait for the first segments to be stored: all three stages are running.
        while sent < len(units) // 2:
            _write(write_end, units[sent])
            lines += units[sent].count(b"\n")
            sent += 1
        _wait(lambda: _count(session) > 0, "first records stored")
        # A few hundred lines more, ending mid-batch so they sit in the open raw segment, unparsed.
        while lines % BATCH_LINES != BATCH_LINES // 2:
            _write(write_end, units[sent])
            lines += units[sent].count(b"\n")
            sent += 1
        _wait(lambda: _unread(read_end) == 0, "the pipe took everything written")
        children = _children(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    _wait(lambda: not any(Path(f"/proc/{child}").exists() for child in children), "ingest process exits")
    os.close(write_end)
    unread = _take_back(read_end)
    os.close(read_end)
    written = b"".join(units[:sent])
    taken = written[: len(written) - len(unread)]
    assert unread == written[len(taken) :] and taken.endswith(b"\n")

    # The kill caught input that had been read but not parsed: an open raw segment holding lines.
    open_segments = list(spool.glob("*.open"))
    assert any(
        segment.stat().st_size
        > len(RawPreamble.decode(segment.read_bytes().split(b"\n", 1)[0] + b"\n").encode())
        for segment in open_segments
    ), "the kill should leave read-but-unsealed input behind"

    # --drain recovers it: the database then holds exactly the records the dead pipe had read, once each.
    drained = run_pipe(None, "--drain", "--json")
    assert drained.returncode == 0, drained.stderr.decode()[-2000:]
    session.expire_all()
    stored = {
        (row.time_logged, row.record_key)
        for row in session.execute(sql_select(AccountingRow.time_logged, AccountingRow.record_key))
    }
    assert stored == _record_keys(taken)
    assert not list(spool.glob("*.open")) and not list(spool.glob("*.raw"))

    # PowerMTA starts a new pipe (header line first) with what the dead one never read.
    header = data[: data.index(b"\n") + 1]
    rest = header + unread + b"".join(units[sent:])
    again = run_pipe(rest, "--json")
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    _assert_totals(session, expected, start)

    # Dead letters keep the physical line numbers of the stream each pipe read.
    taken_lines = taken.count(b"\n")
    garbage_text = {
        line: data.split(b"\n")[line - 1].decode().rstrip("\r") for line in expected.garbage_lines
    }
    assert set(garbage_text.values()) <= set(GARBAGE)
    want = {
        (line if line <= taken_lines else line - taken_lines + 1, text) for line, text in garbage_text.items()
    }
    got = {(row.line_number, row.raw.rstrip("\r\n")) for row in session.scalars(sql_select(DeadLetterRow))}
    assert got == want


def test_raw_segments_converted_again_after_a_crash_change_nothing(
    tmp_path: Path, run_pipe: Any, session: Session
) -> None:
    """A crash between sealing a parsed segment and deleting its raw one parses the raw one again at the next
    start: its records and dead letters carry the same keys, so storing them twice changes nothing."""
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=3000, base=start + timedelta(minutes=3))
    spool = Spool(tmp_path / "spool")
    with open(path, "rb") as stdin:
        reader = RawReader(stdin, spool, source="pipe", batch_lines=700, flush_seconds=3600)
        reader.run()
    assert reader.error is None
    kept = {segment.path.name: segment.path.read_bytes() for segment in spool.raw_pending()}
    assert len(kept) > 2
    for segment in spool.raw_pending():
        assert convert_raw(spool, segment) is not None

    def crash_before_delete() -> None:
        for name, content in kept.items():
            (spool.directory / name).write_bytes(content)

    crash_before_delete()  # parsed and raw segments side by side, nothing stored yet
    for _ in range(2):
        drained = run_pipe(None, "--drain", "--json")
        assert drained.returncode == 0, drained.stderr.decode()[-2000:]
        assert spool.waiting() == 0
        _assert_totals(session, expected, start)
        crash_before_delete()  # and once more after everything was stored
