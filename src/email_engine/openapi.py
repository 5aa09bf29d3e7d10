"""The OpenAPI description as the server really answers: the error model and the codes of each operation.

FastAPI describes only the success response and a 422 shaped like its own ``HTTPValidationError``.
Email Engine answers every error as ``{"error": code, "detail": sentence, …}`` (``main.py``), so the
description is rewritten once, after every router is included:

- ``ErrorBody`` is declared for every 4xx/5xx, ``ValidationErrorBody`` (with its ``errors`` list) for 422;
- each operation lists the codes it can return, from what it is made of: 422 and 429 and 500 always
  (the request guard refuses control characters and spends the rate budget before any route runs),
  400 and 413 with a request body, 401 and 403 when it authenticates, 404 with a path parameter, 404 and
  409 for authenticated writes (a referenced object is missing; state conflicts and concurrent deletes),
  plus whatever the route declares itself
  with ``responses={…}`` (e.g. 503 when it needs a peer; a declared body of its own is kept).

``tests/integration/test_openapi_truth.py`` compares this with every response the test suite observes,
and the schemathesis run fails on any status or body the description does not allow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ERROR_DESCRIPTIONS", "describe_errors"]

ERROR_DESCRIPTIONS = {
    400: "Malformed request (the body is not valid JSON)",
    401: "No valid credentials (missing, wrong, expired or revoked)",
    403: "The credentials are valid but the role is too low",
    404: "No such object",
    409: "Conflicts with the current state (exists already, changed meanwhile, or a setting is missing)",
    413: "The body is larger than this endpoint accepts",
    422: "The request is not valid (the detail and, for field errors, `errors` say what to fix)",
    429: "Rate limited; retry after `Retry-After` seconds",
    500: "Internal error, logged with the incident id given in the detail",
    503: "A dependency (database, DNS, peer) is unavailable or unhealthy; retry later",
}

_ERROR_BODY = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. not_found, rate_limited."},
        "detail": {"type": "string", "description": "A sentence saying what went wrong and what to do."},
    },
    "additionalProperties": True,
}
_VALIDATION_BODY = {
    "title": "ValidationErrorBody",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {
            "type": "string",
            "description": "validation_error (fields) or invalid_input (the service).",
        },
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field (validation_error only), at most 50.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
_WRITES = frozenset({"post", "put", "patch", "delete"})
_METHODS = frozenset({"get", "head", "options", *_WRITES})
# Routes that read their credentials from the body (login, refresh) or their own headers (webhooks:
# an ingest key or an HMAC signature, and a raw body the guard still caps).
_CREDENTIALS_IN_BODY = ("/api/v1/auth/login", "/api/v1/auth/refresh")
_WEBHOOKS = "/api/v1/webhooks/"


def _codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    codes = {422, 429, 500}
    if path == "/metrics":
        codes.discard(429)
    if "requestBody" in operation or path.startswith(_WEBHOOKS):
        codes |= {400, 413}
    authenticated = bool(operation.get("security")) or path.startswith(_WEBHOOKS)
    if authenticated:
        codes |= {401, 403}
    if path in _CREDENTIALS_IN_BODY:
        codes.add(401)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        codes.add(404)
    if method in _WRITES and authenticated:
        codes |= {404, 409}  # an object the body refers to is missing; a conflict with the current state
    return codes


def _error_response(code: int, description: str | None) -> dict[str, Any]:
    schema = "ValidationErrorBody" if code == 422 else "ErrorBody"
    return {
        "description": description or ERROR_DESCRIPTIONS.get(code, "Error"),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def describe_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``spec`` (FastAPI's) in place as described in the module docstring; returns it."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = _ERROR_BODY
    schemas["ValidationErrorBody"] = _VALIDATION_BODY
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for code in sorted(_codes(path, method, operation) | declared):
                own = responses.get(str(code), {})
                if code != 422 and own.get("content"):
                    continue  # the route describes this answer's body itself (e.g. /health's 503 report)
                responses[str(code)] = _error_response(code, own.get("description") if code != 422 else None)
    return spec
