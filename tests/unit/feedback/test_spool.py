"""The pipe's spool: sealed segments survive, torn and orphaned ones are recovered, bad ones set aside."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from email_engine.errors import ConfigurationError
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from email_engine.feedback.spool import Spool

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _record(index: int) -> IngestRecord:
    return IngestRecord(
        key=f"k{index}",
        type="b",
        time_logged=T0,
        rcpt=f"ü.{index}@example.com",
        dsn_status="5.1.1",
        dsn_diag='550 "quoted", comma\nnewline\u2028sep',
        source_ip="192.0.2.1",
        vmta="v",
    )


def test_sealed_segment_round_trips_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    names = []
    for batch in range(3):
        writer = spool.writer(source="pipe")
        writer.add(_record(batch))
        writer.add(DeadLetterItem(dedupe_key=f"d{batch}", line_number=7, reason="bad", raw="x,y"))
        names.append(writer.seal().name)
    pending = spool.pending()
    assert [segment.name for segment in pending] == names
    batch = spool.read(pending[0])
    assert batch.records == [_record(0)] and batch.dead_letters[0].line_number == 7
    assert batch.source == "pipe"


@pytest.mark.slow
def test_a_dead_conversion_leaves_no_half_written_batch(tmp_path: Path) -> None:
    """A converter that dies leaves its ``.parsing`` file; recovery deletes it (the raw segment is still there)."""
    directory = tmp_path / "spool"
    script = (
        "import os\n"
        "from datetime import datetime, UTC\n"
        "from email_engine.feedback.spool import Spool\n"
        "from email_engine.feedback.records import IngestRecord\n"
        f"writer = Spool(__import__('pathlib').Path({str(directory)!r})).writer(source='pipe')\n"
        "for i in range(3):\n"
        "    writer.add(IngestRecord(key=f'k{i}', type='d', time_logged=datetime.now(UTC), rcpt='a@example.com'))\n"
        "writer.flush()\n"
        "os._exit(9)\n"  # dies without sealing
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    spool = Spool(directory)
    assert list(directory.glob("*.parsing"))
    assert spool.recover_orphans() == 0
    assert not spool.pending() and not list(directory.glob("*.parsing"))


def test_parsed_open_segment_of_an_earlier_version_is_sealed_as_a_batch(tmp_path: Path) -> None:
    """Before raw spooling the pipe wrote parsed items to ``.open``; one left by a dead pipe is still stored."""
    directory = tmp_path / "spool"
    spool = Spool(directory)
    lines = ['{"v": 2, "source": "pipe"}']
    lines += [json.dumps({"r": _record(i).to_json()}) for i in range(3)]
    (directory / "00000000000000000001-1-abcd.open").write_text(
        "\n".join(lines) + '\n{"r": ["torn', encoding="utf-8"
    )
    assert spool.recover_orphans() == 1
    (segment,) = spool.pending()
    assert [record.key for record in spool.read(segment).records] == ["k0", "k1", "k2"]


def test_live_writer_keeps_its_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    writer = spool.writer(source="pipe")
    writer.add(_record(1))
    writer.flush()
    assert spool.recover_orphans() == 0
    with spool.claim(writer.seal()) as mine:
        assert mine


def test_reject_and_restore(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    writer = spool.writer(source="pipe")
    writer.add(_record(1))
    segment = writer.seal()
    target = spool.reject(segment, "DataError: value too long")
    assert not spool.pending() and target.exists()
    assert target.with_suffix(".reason").read_text().startswith("DataError")
    assert spool.restore_rejected() == 1 and len(spool.pending()) == 1


def test_damaged_segment_raises(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    writer = spool.writer(source="pipe")
    writer.add(_record(1))
    segment = writer.seal()
    segment.path.write_text('{"v": 1}\n{not json}\n', encoding="utf-8")
    with pytest.raises(ValueError):
        spool.read(segment)


def test_file_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="PIPE_SPOOL_DIR"):
        Spool(blocker / "spool")
