"""``email-engine bounces classify`` and ``email-engine bounces parse-dsn`` (pure: no database, no network)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TextIO

import typer

from email_engine.errors import EmailEngineError
from email_engine.feedback import service
from email_engine.feedback.accounting import AccountingRecord, clean_diagnostic, split_status
from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.dsn import parse_dsn_stream

__all__ = ["bounces_app", "classify_line", "register"]

#: One input line of ``classify`` may not be longer than this.
MAX_INPUT_LINE_BYTES = 1024 * 1024

bounces_app = typer.Typer(
    help="Classify bounces and read DSN/ARF messages. Works offline: no database or settings needed.",
    no_args_is_help=True,
)


def _text_field(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if name in data and data[name] is not None:
            value = data[name]
            if not isinstance(value, str):
                raise ValueError(f'"{name}" must be a string, not {type(value).__name__}.')
            return value
    return None


def classify_line(raw: bytes) -> dict[str, Any]:
    """One JSON input line → one output object: the classification, or ``{"error": ...}``."""
    if len(raw) > MAX_INPUT_LINE_BYTES:
        return {"error": f"The line is {len(raw)} bytes long; the limit is {MAX_INPUT_LINE_BYTES}."}
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return {"error": "The line is not valid UTF-8."}
    except json.JSONDecodeError as exc:
        return {"error": f"The line is not valid JSON ({exc.msg} at column {exc.colno})."}
    if not isinstance(data, dict):
        return {
            "error": 'Each line must be a JSON object like {"dsnStatus": "5.1.1", "dsnDiag": "smtp;550 …"}.'
        }
    try:
        status = _text_field(data, "dsnStatus", "status")
        diag = _text_field(data, "dsnDiag", "diag", "diagnostic")
        bounce_cat = _text_field(data, "bounceCat")
        rcpt = _text_field(data, "rcpt")
        domain = _text_field(data, "recipientDomain")
    except ValueError as exc:
        return {"error": str(exc)}
    if status is None and diag is None:
        return {"error": 'The object needs "dsnStatus" or "dsnDiag" (or both).'}
    code, _ = split_status(status or "")
    if domain is None and rcpt and "@" in rcpt:
        domain = rcpt.rsplit("@", 1)[1]
    result = classify_bounce(
        code or (status or ""), clean_diagnostic(diag or ""), bounce_cat=bounce_cat, recipient_domain=domain
    )
    return {"category": result.category, "type": str(result.type), "rule": result.rule, "dsnStatus": code}


def _bounded_lines(source: BinaryIO) -> Iterator[bytes]:
    """Lines of at most MAX_INPUT_LINE_BYTES + 1 bytes: the rest of a longer line is read and dropped, so a
    hostile gigabyte line costs no memory (the kept prefix is enough to report it as too long)."""
    while True:
        line = source.readline(MAX_INPUT_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_INPUT_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = source.readline(1024 * 1024)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def _classify_stream(source: BinaryIO, sink: TextIO) -> tuple[int, int]:
    seen = errors = 0
    for number, raw in enumerate(_bounded_lines(source), start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue  # a blank line is no input
        seen += 1
        result = classify_line(line)
        if "error" in result:
            errors += 1
            result = {"line": number, **result}
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        sink.flush()  # a co-process reading our answers line by line must not wait for a buffer to fill
    return seen, errors


@bounces_app.command("classify")
def classify() -> None:
    """Read JSON lines {"dsnStatus", "dsnDiag", "bounceCat"?, "rcpt"?} on stdin; write one JSON line per input.

    Each output line carries "category" (PowerMTA's name), "type" (hard, block or soft), "rule" (the rule that
    decided) and the bare "dsnStatus" code, in input order. A line that cannot be read gets {"line", "error"}
    instead and the stream continues; the exit code is 1 when any line had an error. Blank lines are skipped.
    """
    seen, errors = _classify_stream(sys.stdin.buffer, sys.stdout)
    if errors:
        typer.echo(
            f'error: {errors} of {seen} input lines could not be classified; see their "error" fields.',
            err=True,
        )
        raise typer.Exit(code=1)


@bounces_app.command("parse-dsn")
def parse_dsn_command(
    files: Annotated[
        list[Path],
        typer.Argument(help="RFC 3464 bounce or RFC 5965 ARF messages (.eml); '-' reads one from stdin."),
    ],
    classify_records: Annotated[
        bool, typer.Option("--classify/--no-classify", help="Add category, type and rule to bounce records.")
    ] = True,
) -> None:
    """Print each recipient record of the messages as one JSON line (accounting-record shape).

    Records are type "rb" (failed) or "rs" (delayed, delivered…) for a DSN and "f" for an ARF complaint, with
    PowerMTA's field names (rcpt, dsnStatus, dsnDiag…) plus "file". A file that is no DSN/ARF message is
    reported on stderr and the exit code is 1; the other files are still printed.

    Files are read as streams in bounded memory: a message over 25 MiB, or a report listing more than
    1,000 recipients, is refused with the limit named (docs/bounces.md).
    """
    failures = 0
    for path in files:
        name = "-" if str(path) == "-" else str(path)
        try:
            records = _parse_file(path)
        except (OSError, EmailEngineError) as exc:
            failures += 1
            detail = exc.detail if isinstance(exc, EmailEngineError) else (exc.strerror or str(exc))
            typer.echo(f"error: {name}: {detail}", err=True)
            continue
        for record in records:
            typer.echo(json.dumps(_output(record, name, classify_records), ensure_ascii=False))
    if failures:
        raise typer.Exit(code=1)


def _parse_file(path: Path) -> list[AccountingRecord]:
    """Streamed, so memory stays bounded whatever the file size (feedback/dsn_stream.py)."""
    if str(path) == "-":
        return parse_dsn_stream(sys.stdin.buffer)
    with path.open("rb") as handle:
        return parse_dsn_stream(handle)


def _output(record: AccountingRecord, name: str, classify_records: bool) -> dict[str, Any]:
    parsed = service.dsn_record(record, classify=classify_records)
    return {"file": name, **parsed.model_dump(by_alias=True, exclude_unset=True)}


def register(root: typer.Typer) -> None:
    root.add_typer(bounces_app, name="bounces")
