"""POST signed batches of feedback events to scraper-pro (the only I/O of this integration)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from email_engine import __version__
from email_engine.platform.signing import signed_headers

__all__ = ["BatchOutcome", "peer_answers", "post_events"]

# Refused for good: the body itself is wrong. 401/403/404 usually mean a secret or URL to fix on
# either side, so those events wait (and retry) instead of being dead-lettered at once.
_PERMANENT = frozenset({400, 410, 413, 415, 422})


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    ok: bool
    retryable: bool
    error: str | None = None
    unreachable: bool = False
    status: int | None = None


def encode_batch(kind: str, events: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"kind": kind, "events": list(events)}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def post_events(
    *,
    url: str,
    secret: str,
    kind: str,
    events: Sequence[dict[str, Any]],
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> BatchOutcome:
    """Send one batch; 2xx accepts every event, 400/410/413/415/422 refuse them for good, the rest retry."""
    body = encode_batch(kind, events)
    keys = "\n".join(str(event.get("idempotency_key", "")) for event in events)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"email-engine/{__version__}",
        "Idempotency-Key": hashlib.sha256(keys.encode()).hexdigest(),
        **signed_headers(secret, body, now=time.time()),
    }
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return BatchOutcome(
            ok=False, retryable=True, unreachable=True, error=f"scraper-pro unreachable: {type(exc).__name__}"
        )
    if 200 <= response.status_code < 300:
        return BatchOutcome(ok=True, retryable=False, status=response.status_code)
    detail = response.text[:200].replace("\n", " ")
    return BatchOutcome(
        ok=False,
        retryable=response.status_code not in _PERMANENT,
        error=f"scraper-pro answered HTTP {response.status_code}: {detail}",
        status=response.status_code,
    )


def peer_answers(
    *, url: str, secret: str, kind: str, timeout: float, transport: httpx.BaseTransport | None = None
) -> bool:
    """Whether scraper-pro answers again: a signed, empty batch of ``kind`` gets any status below 500.

    An empty batch stores nothing, so the probe is safe to repeat (docs/feedback.md, scraper-pro contract).
    """
    outcome = post_events(url=url, secret=secret, kind=kind, events=[], timeout=timeout, transport=transport)
    return outcome.status is not None and outcome.status < 500
