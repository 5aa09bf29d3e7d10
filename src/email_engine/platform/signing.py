"""HMAC-SHA256 request signing: what we send to scraper-pro and the signed webhooks we receive.

The signature covers ``timestamp + "." + body`` (the exact bytes sent) with a shared secret. Headers:
``X-Timestamp`` (Unix seconds) and ``X-Signature`` (lower-case hex; a ``sha256=`` prefix is
accepted when verifying). A receiver should call :func:`verify_signature`, which compares in
constant time and refuses timestamps further than ``tolerance`` seconds from its own clock, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureProblem",
    "sign",
    "signed_headers",
    "verify_signature",
]

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"


class SignatureProblem(ValueError):
    """Why a signature was refused (a sentence safe to return to the caller)."""


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str | bytes, body: bytes, *, now: float) -> dict[str, str]:
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify_signature(
    secret: str | bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance: int = 300,
) -> None:
    """Return quietly when the signature is valid and fresh; raise :class:`SignatureProblem` otherwise."""
    if not timestamp or not signature:
        raise SignatureProblem(f"Send both {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers.")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureProblem(f"{TIMESTAMP_HEADER} must be Unix time in whole seconds.")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureProblem(
            f"{TIMESTAMP_HEADER} is more than {tolerance} s away from the server clock; "
            "sign each request when sending it and keep clocks in sync (NTP)."
        )
    provided = signature.strip().removeprefix("sha256=").lower()
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(provided.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureProblem(f"{SIGNATURE_HEADER} does not match the body; check the shared secret.")
