"""`email-engine validate` run as a real process on real files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
import typer
from typer.testing import CliRunner

from email_engine.config import Settings, get_settings
from email_engine.context import AppContext
from email_engine.errors import EmailEngineError
from email_engine.validation.cli import register
from email_engine.validation.csvfile import inspect_csv, validate_csv
from email_engine.validation.service import validator_for
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.slow  # starts the CLI as a subprocess

ROWS = [
    ("1", "Jane", "jane@good.mail.test"),
    ("2", "Info desk", "info@good.mail.test"),
    ("3", "Null", "bob@nullmx.mail.test"),
    ("4", "Broken", "not-an-address"),
    ("5", "Slow", "amy@slow.test"),
    ("6", "Typo", "jim@gmal.com"),
    ("7", "Gone", "x@missing.mail.test"),
]


def _env(settings: Settings, dns_server: DnsServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALIDATION_", "DATABASE_", "REDIS_"))}
    env.update(
        DATABASE_URL=settings.database_url,
        DNS_NAMESERVERS=dns_server.nameserver,
        JWT_SECRET_KEY=settings.jwt_secret_key.get_secret_value() if settings.jwt_secret_key else "",
        ENVIRONMENT="test",
        VALIDATION_ALLOW_TEST_DOMAINS="true",
        VALIDATION_DNS_TIMEOUT="0.3",
        VALIDATION_JOB_CHUNK_ROWS="10",
    )
    return env


def _process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real entry point in its own process (exit codes and error lines as users see them)."""
    command = [sys.executable, "-c", "from email_engine.cli import main; main()", "validate", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


_validate_app = typer.Typer()
register(_validate_app)
_validate_app.callback()(lambda: None)  # keep "validate" a subcommand, as under email-engine


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The same command in this process (quicker); errors are reported as ``main()`` does: exit 2."""
    get_settings.cache_clear()
    saved = structlog.get_config()  # the command configures logging onto CliRunner's stderr
    try:
        result = CliRunner().invoke(_validate_app, ["validate", *args], env=env)
    finally:
        get_settings.cache_clear()
        structlog.configure(**saved)
    code, stderr = result.exit_code, result.stderr
    if isinstance(result.exception, EmailEngineError):
        code, stderr = 2, f"error: {result.exception.detail}"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, code, result.stdout, stderr)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(
    path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("id", "name", "Email Address")
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def env(settings: Settings, dns_server: DnsServer) -> dict[str, str]:
    return _env(settings, dns_server)


def test_validate_appends_columns_and_splits(tmp_path: Path, env: dict[str, str]) -> None:
    source = _write(tmp_path / "list.csv", ROWS)
    output = tmp_path / "clean.csv"
    done = _run([str(source), "-o", str(output), "--split", "--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {k: summary[k] for k in ("rows", "valid", "invalid", "risky", "unknown", "email_column")} == {
        "rows": 7,
        "valid": 1,
        "invalid": 3,
        "risky": 2,
        "unknown": 1,
        "email_column": "Email Address",
    }
    rows = _rows(output)
    assert rows[0] == ["id", "name", "Email Address", "verdict", "reasons", "suggestion"]
    assert [r[:3] for r in rows[1:]] == [list(r) for r in ROWS]
    assert [r[3:] for r in rows[1:]] == [
        ["valid", "", ""],
        ["risky", "role", ""],
        ["invalid", "null_mx", ""],
        ["invalid", "syntax", ""],
        ["unknown", "dns_timeout", ""],
        ["risky", "typo", "jim@gmail.com"],
        ["invalid", "nxdomain", ""],
    ]
    for verdict, count in (("valid", 1), ("invalid", 3), ("risky", 2), ("unknown", 1)):
        split_rows = _rows(tmp_path / f"clean.{verdict}.csv")
        assert len(split_rows) == count + 1
        assert {r[3] for r in split_rows[1:]} == {verdict}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "list.csv",
            "clean.csv",
            "clean.valid.csv",
            "clean.invalid.csv",
            "clean.risky.csv",
            "clean.unknown.csv",
        ]
    )


def test_bad_inputs_fail_with_one_line_and_write_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    no_column = _write(tmp_path / "people.csv", [("1", "Jane", "Paris")], header=("id", "name", "city"))
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    unreadable = tmp_path / "locked.csv"
    unreadable.write_text("email\njane@good.mail.test\n")
    unreadable.chmod(0)
    cases = [
        (no_column, "No email column"),
        (binary, "binary"),
        (tmp_path / "missing.csv", "Cannot read"),
        (tmp_path, "directory"),
    ]
    if os.geteuid() != 0:  # root reads anything
        cases.append((unreadable, "Cannot read"))
    for source, message in cases:
        output = tmp_path / "out.csv"
        done = (_process if source == binary else _run)([str(source), "-o", str(output)], env)
        assert done.returncode == 2, (source, done.stdout, done.stderr)
        assert message in " ".join(done.stderr.split()), done.stderr
        assert "Traceback" not in done.stderr
        assert not list(tmp_path.glob("out*"))
    wrong_column = _run([str(no_column), "-o", str(tmp_path / "out.csv"), "--column", "mail"], env)
    assert wrong_column.returncode == 2 and "no column 'mail'" in wrong_column.stderr


def test_bad_bytes_mid_file_leave_nothing_half_written(tmp_path: Path, env: dict[str, str]) -> None:
    source = tmp_path / "list.csv"
    source.write_bytes(b"email\n" + b"jane@good.mail.test\n" * 10 + b"\xff\xfe\n" + b"bob@good.mail.test\n")
    done = _run([str(source), "-o", str(tmp_path / "out.csv")], env)
    assert done.returncode == 2 and "UTF-8" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]


def test_resume_continues_without_redoing_rows(
    tmp_path: Path, env: dict[str, str], ctx: AppContext, dns_server: DnsServer
) -> None:
    rows = [
        (str(i), f"n{i}", f"user{i}@{['good.mail.test', 'v6.mail.test', 'afallback.mail.test'][i % 3]}")
        for i in range(20)
    ]
    rows[15] = ("15", "late", "late@nullmx.mail.test")
    source = _write(tmp_path / "list.csv", rows)
    output = tmp_path / "out.csv"

    class Interrupted(Exception):
        pass

    def stop_after_two_chunks(done: int, _position: int) -> None:
        if done >= 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        validate_csv(
            inspect_csv(source),
            output,
            validator=validator_for(ctx),
            chunk_rows=5,
            on_progress=stop_after_two_chunks,
        )
    assert not output.exists()
    assert (tmp_path / "out.csv.part").exists() and (tmp_path / "out.csv.checkpoint.json").exists()
    assert dns_server.query_count("nullmx.mail.test", "MX") == 0

    done = _run([str(source), "-o", str(output), "--resume", "--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["resumed_from_row"], summary["rows"]) == (10, 20)
    result = _rows(output)
    assert [r[0] for r in result[1:]] == [str(i) for i in range(20)]  # every row once, in order
    assert result[16][3:5] == ["invalid", "null_mx"]
    assert not (tmp_path / "out.csv.checkpoint.json").exists()
    assert not (tmp_path / "out.csv.part").exists()


def test_resume_refuses_a_changed_input(tmp_path: Path, env: dict[str, str], ctx: AppContext) -> None:
    source = _write(tmp_path / "list.csv", [(str(i), "n", f"u{i}@good.mail.test") for i in range(12)])
    output = tmp_path / "out.csv"

    def stop(_done: int, _position: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        validate_csv(
            inspect_csv(source), output, validator=validator_for(ctx), chunk_rows=5, on_progress=stop
        )
    with source.open("a", encoding="utf-8") as handle:
        handle.write("99,n,late@good.mail.test\n")
    done = _run([str(source), "-o", str(output), "--resume"], env)
    assert done.returncode == 2 and "changed" in done.stderr
    assert not output.exists()


def test_help_explains_the_command(env: dict[str, str]) -> None:
    done = _process(["--help"], env)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for words in ("--column", "--split", "--resume", "--json", "dns_timeout"):
        assert words in text


def test_without_a_terminal_progress_lines_come_as_it_goes(tmp_path: Path, env: dict[str, str]) -> None:
    """Logs and cron get a line every --progress-interval seconds (rows, share, rate, ETA) and a last one."""
    # 30,000 rows go in 20 chunks of 1,500 and take well over the 0.1 s interval even on an idle machine, so
    # lines come before the end (3,000 rows could finish between two ticks and give only the last line).
    rows = [(str(n), "Row", f"user{n}@good.mail.test") for n in range(30_000)]
    source = _write(tmp_path / "big.csv", rows)
    output = tmp_path / "out.csv"
    env = {
        **env,
        "VALIDATION_JOB_CHUNK_ROWS": "100000",
    }  # the command keeps its own chunks small for progress
    done = _process([str(source), "-o", str(output), "--progress-interval", "0.1"], env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("validating: ")]
    assert len(lines) >= 2, done.stderr
    counts = [int(line.split()[1].replace(",", "")) for line in lines]
    assert counts == sorted(counts) and counts[0] < 30_000 and counts[-1] == 30_000
    assert "ETA" in lines[0] and lines[-1].endswith(
        "100% of the file, " + lines[-1].split(", ")[-2] + ", done"
    )
    # --json stays machine-readable: no progress lines at all.
    quiet = _process([str(source), "-o", str(tmp_path / "q.csv"), "--json"], env)
    assert quiet.returncode == 0 and "validating:" not in quiet.stderr
