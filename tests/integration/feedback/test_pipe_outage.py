"""The database goes away mid-run, or the pipe is killed: the spool keeps everything, replays count once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.feedback.aggregate import hour_of
from email_engine.feedback.models import AccountingRow, DeadLetterRow
from email_engine.feedback.stats import summary
from tests.integration.feedback.conftest import EMAIL_ENGINE, pipe_env
from tests.integration.feedback.expectations import expected_summary
from tests.integration.feedback.generate import Expected, write_file
from tests.integration.feedback.tcp_proxy import TcpProxy
from tests.support.databases import backend


def _assert_totals(session: Session, expected: Expected, start: Any) -> None:
    session.expire_all()
    got = summary(session, since=start, until=start + timedelta(days=1))
    want = expected_summary(expected)
    for name, value in want.items():
        assert got[name] == value, name
    assert session.scalar(select(func.count()).select_from(AccountingRow)) == len(expected.valid)
    assert session.scalar(select(func.count()).select_from(DeadLetterRow)) == len(expected.garbage_lines)


def _unreachable_url(settings: Settings, tmp_path: Path) -> str:
    if backend() == "postgresql":
        return make_url(settings.database_url).set(port=1).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'missing-directory' / 'engine.db'}"


def test_database_unreachable_spools_then_drain_stores_everything_once(
    tmp_path: Path, run_pipe: Any, settings: Settings, session: Session
) -> None:
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=3000, base=start + timedelta(minutes=3))

    down = run_pipe(path, "--json", DATABASE_URL=_unreachable_url(settings, tmp_path))
    assert down.returncode == 0, down.stderr.decode()[-2000:]  # PowerMTA is never failed
    segments = list((tmp_path / "spool").glob("*.batch"))
    assert segments, "the batches must be in the spool"
    assert session.scalar(select(func.count()).select_from(AccountingRow)) == 0

    drained = run_pipe(None, "--drain", "--json")
    assert drained.returncode == 0, drained.stderr.decode()[-2000:]
    assert not list((tmp_path / "spool").glob("*.batch"))
    _assert_totals(session, expected, start)

    assert run_pipe(None, "--drain").returncode == 0  # nothing left: a no-op
    _assert_totals(session, expected, start)


def test_drain_reports_failure_while_database_is_down(
    tmp_path: Path, run_pipe: Any, settings: Settings
) -> None:
    path = tmp_path / "acct.csv"
    write_file(path, records=500)
    assert run_pipe(path, DATABASE_URL=_unreachable_url(settings, tmp_path)).returncode == 0
    failed = run_pipe(None, "--drain", DATABASE_URL=_unreachable_url(settings, tmp_path))
    assert failed.returncode == 1
    assert b"unreachable" in failed.stderr
    assert list((tmp_path / "spool").glob("*.batch"))


@pytest.mark.slow
@pytest.mark.skipif(backend() != "postgresql", reason="stops PostgreSQL behind a TCP proxy")
def test_postgres_stops_mid_run_and_comes_back(tmp_path: Path, settings: Settings, session: Session) -> None:
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=6000, base=start + timedelta(minutes=3))
    data = path.read_bytes()
    url = make_url(settings.database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.up()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    env = pipe_env(settings, tmp_path / "spool", DATABASE_URL=proxied)
    process = subprocess.Popen([EMAIL_ENGINE, "pipe"], stdin=subprocess.PIPE, env=env, stderr=subprocess.PIPE)
    assert process.stdin is not None
    half = data.index(b"\n", len(data) // 2) + 1
    try:
        process.stdin.write(data[:half])
        process.stdin.flush()
        _wait(lambda: _count(session) > 0, "first records stored")
        proxy.down()
        process.stdin.write(data[half:])
        process.stdin.flush()
        _wait(lambda: len(list((tmp_path / "spool").glob("*.batch"))) >= 2, "batches spooled while down")
        stored_while_down = _count(session)
        proxy.up()
        _, stderr = process.communicate(timeout=120)  # closes stdin: end of input
    finally:
        if process.poll() is None:
            process.kill()
        proxy.down()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert stored_while_down < len(expected.valid)
    assert b"database_unreachable_spooling" in stderr
    assert not list((tmp_path / "spool").glob("*.batch"))
    _assert_totals(session, expected, start)


def test_pipe_killed_mid_batch_loses_and_doubles_nothing(
    tmp_path: Path, run_pipe: Any, settings: Settings, session: Session
) -> None:
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=6000, base=start + timedelta(minutes=3))
    env = pipe_env(settings, tmp_path / "spool", PIPE_BATCH_SIZE="700")
    with open(path, "rb") as stdin:
        process = subprocess.Popen([EMAIL_ENGINE, "pipe"], stdin=stdin, env=env, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: _count(session) > 0 or process.poll() is not None, "a first batch stored")
            children = _children(process.pid)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    # The ingest process notices its parent is gone, stores what it can and exits: no orphan left.
    _wait(lambda: not any(Path(f"/proc/{child}").exists() for child in children), "ingest process exits")
    # Recover what the dead pipe left (orphaned open segment, sealed batches), then PowerMTA
    # (or the operator) sends the file again: every record must be counted exactly once.
    assert run_pipe(None, "--drain").returncode == 0
    again = run_pipe(path)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    _assert_totals(session, expected, start)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _count(session: Session) -> int:
    session.expire_all()
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(AccountingRow)) or 0)


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")
