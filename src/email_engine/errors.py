"""Exceptions raised by Email Engine.

Every error a caller can act on derives from :class:`EmailEngineError`. The HTTP status for each
class is chosen in one place only (``email_engine.main``); services and adapters never raise HTTP
errors themselves.

    EmailEngineError
    ├── InvalidInput          the request or file is wrong; the message says how to fix it
    ├── PayloadTooLarge       the body, file or list is over a documented size limit
    ├── NotFound              the named object does not exist
    ├── Conflict              the object exists already, or its state forbids the change
    ├── Unauthenticated       no valid credentials were presented
    ├── PermissionDenied      the credentials are valid but the role is too low
    ├── RateLimited           the client's budget is spent; ``retry_after`` seconds to wait
    ├── ConfigurationError    settings are missing or unsafe; the service refuses to start
    └── DependencyUnavailable a database, DNS server or peer did not answer; retry later
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "Conflict",
    "DependencyUnavailable",
    "EmailEngineError",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "Unauthenticated",
]


class EmailEngineError(Exception):
    """Root of every error Email Engine raises on purpose."""

    code = "error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(EmailEngineError):
    code = "invalid_input"


class PayloadTooLarge(EmailEngineError):
    code = "payload_too_large"


class NotFound(EmailEngineError):
    code = "not_found"


class Conflict(EmailEngineError):
    code = "conflict"


class Unauthenticated(EmailEngineError):
    code = "unauthenticated"


class PermissionDenied(EmailEngineError):
    code = "permission_denied"


class RateLimited(EmailEngineError):
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class ConfigurationError(EmailEngineError):
    code = "configuration_error"


class DependencyUnavailable(EmailEngineError):
    code = "dependency_unavailable"
