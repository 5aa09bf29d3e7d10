"""The HTTP application: routers from every domain, error mapping, lifespan."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from email_engine import __version__, errors
from email_engine.api_docs import install_api_docs
from email_engine.auth.deps import require_not_ingest
from email_engine.auth.service import record_audited_write
from email_engine.config import Settings, check_secrets, get_settings
from email_engine.context import AppContext, build_context
from email_engine.logging import configure_logging
from email_engine.openapi import describe_errors
from email_engine.platform.request_guard import RequestGuard
from email_engine.plugins import domain_modules, import_all_models

__all__ = ["create_app"]

log = structlog.get_logger("email_engine.main")

STATUS_BY_ERROR: dict[type[errors.EmailEngineError], int] = {
    errors.InvalidInput: 422,
    errors.PayloadTooLarge: 413,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.RateLimited: 429,
    # A setting the operator must add (named in the answer): the request conflicts with the configuration.
    errors.ConfigurationError: 409,
    errors.DependencyUnavailable: 503,
}

DESCRIPTION = """
Email Engine keeps a PowerMTA + MailWizz sending side healthy: IP inventory and warmup, blacklist
and DNS-authentication monitoring, list validation, accounting ingestion, suppression and
feedback to scraper-pro.

Every `/api/v1/*` route needs `X-API-Key` or `Authorization: Bearer <token>` (from
`POST /api/v1/auth/login`). Roles: viewer reads, operator writes, admin manages users and keys.
Errors are JSON: `{"error": code, "detail": sentence}`.

CSV exports (validation results, `suppressions.csv`, `dead-letters.csv`, `stats/*.csv`) are
spreadsheet-safe: every field is quoted, and a text cell that a spreadsheet would run as a formula
(it starts, after any spaces, with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed
with `'` (OWASP CSV Injection guidance).
"""


def _error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def _status_for(exc: errors.EmailEngineError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.EmailEngineError)
    async def engine_error(_request: Request, exc: errors.EmailEngineError) -> JSONResponse:
        headers = {}
        if isinstance(exc, errors.RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, errors.Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            _error_body(exc.code, exc.detail, **exc.extra), status_code=_status_for(exc), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                return JSONResponse(
                    _error_body("malformed_json", "The request body is not valid JSON."), status_code=400
                )
            location = ".".join(str(part) for part in error.get("loc", ()))
            problems.append({"field": location, "message": str(error.get("msg", "invalid"))})
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return JSONResponse(
            _error_body("validation_error", f"The request is not valid. {summary}", errors=problems[:50]),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            _error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, _exc: IntegrityError) -> JSONResponse:
        # A referenced row was deleted meanwhile (validate while delete) or a duplicate won a race.
        return JSONResponse(
            _error_body(
                "conflict",
                "The change conflicts with a concurrent one (a referenced object was deleted, or the same "
                "object was created at the same time); look at the current state and try again.",
            ),
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def data_error(_request: Request, _exc: DataError) -> JSONResponse:
        return JSONResponse(
            _error_body(
                "invalid_input", "A value is out of the range the database can store; send a smaller one."
            ),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.error(
            "unhandled_error",
            incident=incident,
            path=request.url.path,
            error=type(exc).__name__,
            exc_info=exc,
        )
        return JSONResponse(
            _error_body(
                "internal_error", f"An internal error occurred; it was logged as incident {incident}."
            ),
            status_code=500,
        )


def create_app(settings: Settings | None = None, *, ctx: AppContext | None = None) -> FastAPI:
    """Build the application. Tests pass their own ``ctx``; ``serve`` builds one from settings."""
    settings = ctx.settings if ctx else (settings or get_settings())
    configure_logging(settings)
    for warning in check_secrets(settings):
        log.warning("weak_secret", problem=warning)
    import_all_models()
    context = ctx or build_context(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hooks = list(domain_modules("lifespan"))
        for hook in hooks:
            await hook.startup(context)
        try:
            yield
        finally:
            for hook in reversed(hooks):
                await hook.shutdown(context)
            if ctx is None:
                context.close()

    app = FastAPI(
        title="Email Engine",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets instead of a CDN (api_docs.py)
        redoc_url=None,
    )
    install_api_docs(app)
    app.state.ctx = context
    _install_error_handlers(app)

    body_limits: dict[str, int] = {}
    for module in domain_modules("router"):
        if hasattr(module, "router"):
            app.include_router(module.router, dependencies=[Depends(require_not_ingest)])
        if hasattr(module, "public_router"):
            app.include_router(module.public_router)
        for prefix, limit in getattr(module, "BODY_LIMITS", {}).items():
            # A limit may be a setting (a function of the settings), read from this app's.
            body_limits[prefix] = limit(context.settings) if callable(limit) else limit

    app.add_middleware(RequestGuard, ctx=context, body_limits=body_limits, audit=record_audited_write)
    _describe_errors_once(app)
    return app


def _describe_errors_once(app: FastAPI) -> None:
    """FastAPI builds the description lazily and caches it; add the error model when it is built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        if not spec.get("x-error-model"):
            describe_errors(spec)
            spec["x-error-model"] = "ErrorBody"
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
