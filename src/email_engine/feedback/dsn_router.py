"""``POST /api/v1/bounces/parse-dsn``: the HTTP side of ``email-engine bounces parse-dsn`` (included by
``feedback/router.py``). The body is streamed to a spooled file and read with the same limits."""

from __future__ import annotations

import tempfile

import anyio.to_thread
from fastapi import APIRouter, Request

from email_engine.feedback import service
from email_engine.feedback.dsn_stream import MAX_MESSAGE_BYTES
from email_engine.feedback.schemas import ParsedDsn

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(tags=["feedback"])
PATH = "/bounces/parse-dsn"
BODY_LIMITS = {f"/api/v1{PATH}": MAX_MESSAGE_BYTES}
_IN_MEMORY = 1024 * 1024


@router.post(
    PATH,
    summary="Read a bounce (RFC 3464 DSN) or complaint (RFC 5965 ARF) message",
    response_model_exclude_unset=True,  # the verdict's keys only on remote bounces
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The message as it arrived (RFC 5322, any content type such as message/rfc822), "
            "at most 25 MiB.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def parse_dsn_message(request: Request) -> ParsedDsn:
    """One record per recipient, as `bounces parse-dsn` prints them, with the classifier's verdict.
    Nothing is stored. Refused with 413 past 25 MiB or 1,000 recipient groups (docs/bounces.md), 422
    when the message is no report."""
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as spooled:
        async for chunk in request.stream():
            spooled.write(chunk)
        spooled.seek(0)
        return await anyio.to_thread.run_sync(service.read_dsn, spooled)
