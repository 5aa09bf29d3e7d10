"""``POST /api/v1/bounces/parse-dsn``: the HTTP side of ``email-engine bounces parse-dsn`` (included by
``feedback/router.py``). The body is streamed to a spooled file and read with the same limits."""

from __future__ import annotations

import tempfile
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request

from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.dsn import parse_dsn_stream
from email_engine.feedback.dsn_stream import MAX_MESSAGE_BYTES
from email_engine.feedback.record_json import record_as_dict

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(tags=["feedback"])
PATH = "/bounces/parse-dsn"
BODY_LIMITS = {f"/api/v1{PATH}": MAX_MESSAGE_BYTES}
_IN_MEMORY = 1024 * 1024


@router.post(
    PATH,
    summary="Read a bounce (RFC 3464 DSN) or complaint (RFC 5965 ARF) message",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The message as it arrived (RFC 5322, any content type such as message/rfc822), "
            "at most 25 MiB.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def parse_dsn_message(request: Request) -> dict[str, Any]:
    """One record per recipient, as `bounces parse-dsn` prints them, with the classifier's verdict.
    Nothing is stored. Refused with 413 past 25 MiB or 1,000 recipient groups (docs/bounces.md), 422
    when the message is no report."""
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as spooled:
        async for chunk in request.stream():
            spooled.write(chunk)
        spooled.seek(0)
        records = await anyio.to_thread.run_sync(parse_dsn_stream, spooled)
    out = []
    for record in records:
        item = record_as_dict(record)
        if record.type in {"rb", "rs"}:
            verdict = classify_bounce(
                record.dsn_status, record.dsn_diag, recipient_domain=record.rcpt.rpartition("@")[2]
            )
            item.update(category=verdict.category, bounceType=str(verdict.type), rule=verdict.rule)
        out.append(item)
    return {"records": out}
