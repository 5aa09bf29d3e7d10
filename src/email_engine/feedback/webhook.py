"""Webhook bodies → ingestible items (pure): one JSON record, or a CSV batch.

A single record is accepted with PowerMTA's field names (``rcpt``, ``dsnStatus``, ``dsnDiag``,
``bounceCat``, ``dlvSourceIp``, ``vmta``, ``timeLogged``…, any case) or the reference deployment's
names (``email``, ``reason``, ``source_ip``, ``status``…). It is turned into a one-line accounting
CSV and read by the same parser as the pipe, so both paths validate alike and give the same
idempotency key for the same record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from email_engine.errors import EmailEngineError, InvalidInput
from email_engine.feedback.records import DeadLetterItem, IngestRecord, ingest_items

__all__ = ["MalformedJson", "batch_items", "single_item"]

ALIASES: dict[str, str] = {
    "email": "rcpt",
    "recipient": "rcpt",
    "address": "rcpt",
    "reason": "dsnDiag",
    "diag": "dsnDiag",
    "diagnostic": "dsnDiag",
    "message": "dsnDiag",
    "dsn_diag": "dsnDiag",
    "status": "dsnStatus",
    "dsn_status": "dsnStatus",
    "source_ip": "dlvSourceIp",
    "ip": "dlvSourceIp",
    "sender": "orig",
    "from": "orig",
    "timestamp": "timeLogged",
    "time": "timeLogged",
    "time_logged": "timeLogged",
    "bounce_cat": "bounceCat",
    "bounce_category": "bounceCat",
    "category": "bounceCat",
    "record_type": "type",
}
# Hints the reference deployment sent that we do not trust: the classifier decides.
IGNORED = frozenset({"bounce_type"})
_NAME = re.compile(r"[A-Za-z_][\w.-]{0,63}")
_MAX_FIELDS = 64


class MalformedJson(EmailEngineError):
    code = "malformed_json"


def _columns(data: dict[str, Any], *, default_type: str, now: datetime) -> dict[str, str]:
    columns: dict[str, str] = {}
    if len(data) > _MAX_FIELDS:
        raise InvalidInput(f"A record has at most {_MAX_FIELDS} fields; this one has {len(data)}.")
    for name, value in data.items():
        if name in IGNORED:
            continue
        if not _NAME.fullmatch(name):
            raise InvalidInput(
                f"Field name {name[:40]!r} is not a PowerMTA field name (letters, digits, _ . -)."
            )
        if isinstance(value, dict | list):
            raise InvalidInput(f"Field {name!r} must be a string or a number, not a {type(value).__name__}.")
        if value is None:
            continue
        column = ALIASES.get(name.lower(), name)
        if column.lower() in {existing.lower() for existing in columns}:
            raise InvalidInput(f"Field {name!r} repeats {column!r}; send each field once.")
        columns[column] = str(value)
    if "domain" in columns and "count" in columns and "rcpt" not in columns:
        raise InvalidInput(
            "Per-domain counts cannot be stored: send one record per recipient (rcpt, timeLogged…) "
            "or pipe the accounting file with `email-engine pipe`."
        )
    if not any(name.lower() == "type" for name in columns):
        columns["type"] = default_type
    if not any(name.lower() == "timelogged" for name in columns):
        columns["timeLogged"] = now.isoformat()  # documented: send timeLogged to make retries idempotent
    return columns


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedJson(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise InvalidInput("The body must be one JSON object describing one record.")
    return data


def single_item(body: bytes, *, default_type: str, now: datetime, stream: str) -> IngestRecord:
    """One JSON record → an IngestRecord; InvalidInput with the parser's reason when it is not one."""
    columns = _columns(parse_json_object(body), default_type=default_type, now=now)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    writer.writerow(list(columns.values()))
    items = list(ingest_items(buffer.getvalue().splitlines(keepends=True), stream=stream))
    if len(items) != 1:
        raise InvalidInput("The record could not be read; check its field names and values.")
    item = items[0]
    if isinstance(item, DeadLetterItem):
        raise InvalidInput(f"The record was refused: {item.reason}")
    return item


def batch_items(body: bytes, *, stream: str) -> Iterator[IngestRecord | DeadLetterItem]:
    """Accounting CSV (header line first) → items; invalid UTF-8 is replaced, never fatal."""
    text = body.decode("utf-8", "replace")
    return ingest_items(_lines(text), stream=stream)


def _lines(text: str) -> Iterator[str]:
    """Split on "\n" only (as the pipe does): U+2028 and friends inside a field stay in it."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1
