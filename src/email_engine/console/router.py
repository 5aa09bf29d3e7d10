"""``/ui/``: the operator console (login, logout, static files, and each page's router).

Not part of the OpenAPI description: the API under ``/api/v1`` is the contract; these pages call the
same service functions (no second implementation of any rule).
"""

from __future__ import annotations

import time
from importlib.resources import files
from typing import Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from email_engine.auth import service as auth_service
from email_engine.auth.login_guard import login_guard
from email_engine.clock import utcnow
from email_engine.console import session as cookies
from email_engine.console.feedback_pages import router as feedback_router
from email_engine.console.inventory import router as inventory_router
from email_engine.console.operations import router as operations_router
from email_engine.console.overview import router as overview_router
from email_engine.console.powermta_pages import router as powermta_router
from email_engine.console.reputation_pages import router as reputation_router
from email_engine.console.validation_pages import UPLOAD_LIMIT_BYTES
from email_engine.console.validation_pages import router as validation_router
from email_engine.console.warmup_pages import router as warmup_router
from email_engine.console.web import ConsoleRoute, ViewerDep, field, redirect, show
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError, RateLimited, Unauthenticated

__all__ = ["BODY_LIMITS", "public_router"]

public_router = APIRouter(prefix=cookies.UI_PATH, include_in_schema=False, route_class=ConsoleRoute)
BODY_LIMITS = {"/ui/validation": UPLOAD_LIMIT_BYTES}

STATIC: Final = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _safe_next(target: str | None) -> str:
    """Only a path of this console (no other host, no scheme) may follow the login."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/ui/") or target.startswith("//"):
        return "/ui/"
    return target


def _login_page(
    request: Request, ctx: ContextDep, *, error: str | None = None, status: int = 200, email: str = ""
) -> Response:
    value = cookies.csrf_value(request) or cookies.new_csrf_value()
    try:
        token = cookies.csrf_token(ctx.settings, value)
    except Unauthenticated as exc:
        token, error = "", exc.detail
    response = show(
        request,
        "login.html",
        None,
        {
            "csrf": token,
            "next": _safe_next(request.query_params.get("next") or field(request, "next", required=False)),
            "reason": request.query_params.get("reason", "")[:200],
            "email": email,
        },
        error=error,
        status=status,
    )
    if cookies.csrf_value(request) != value:
        cookies.set_csrf_cookie(response, value)
    return response


@public_router.get("/login")
def login_form(request: Request, ctx: ContextDep) -> Response:
    return _login_page(request, ctx)


@public_router.post("/login")
def login(request: Request, ctx: ContextDep, session: SessionDep) -> Response:
    """The API's login (same throttles: docs/operations.md, "Login protection"); the access token goes
    into the session cookie."""
    email = field(request, "email", required=False, max_length=320)
    password = field(request, "password", required=False, max_length=1024)
    given = field(request, cookies.CSRF_FIELD, required=False, max_length=128)
    value = cookies.csrf_value(request)
    try:
        valid_form = cookies.same_token(ctx.settings, value, given)
    except Unauthenticated as exc:
        return _login_page(request, ctx, error=exc.detail, status=409)
    if not valid_form:
        request.state.audit_details = {"console": "login", "refused": "csrf"}
        return _login_page(
            request,
            ctx,
            error="The login form expired or was not sent from this console; try again.",
            status=403,
            email=email,
        )
    if not email or not password:
        return _login_page(request, ctx, error="Fill in Email and Password.", status=422, email=email)
    guard = login_guard(ctx)
    try:
        admission = guard.admit(
            client=request.state.client_address, account=email, now_ms=int(time.time() * 1000)
        )
        tokens = auth_service.login(session, ctx.settings, email=email, password=password, now=utcnow())
        session.commit()
    except RateLimited as exc:
        response = _login_page(request, ctx, error=exc.detail, status=429, email=email)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except EmailEngineError as exc:
        session.rollback()
        request.state.audit_details = {"console": "login"}
        return _login_page(request, ctx, error=exc.detail, status=401, email=email)
    guard.succeeded(admission, now_ms=int(time.time() * 1000))
    principal = auth_service.authenticate_bearer(
        session, ctx.settings, token=str(tokens["access_token"]), now=utcnow()
    )
    request.state.principal = principal
    request.state.audit_details = {"console": "login", "api": "POST /api/v1/auth/login"}
    response = RedirectResponse(_safe_next(field(request, "next", required=False)), status_code=303)
    cookies.set_session(
        response,
        access_token=str(tokens["access_token"]),
        max_age=int(str(tokens["expires_in"])),
        csrf=cookies.new_csrf_value(),
    )
    return response


@public_router.post("/logout")
def logout(request: Request, viewer: ViewerDep) -> Response:
    request.state.audit_details = {"console": "logout"}
    response = redirect("/ui/login?reason=You%20are%20logged%20out.")
    cookies.clear_session(response)
    del viewer
    return response


@public_router.get("/static/{name}")
def static_file(name: str) -> Response:
    media = STATIC.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body = files("email_engine.console").joinpath("static", name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


@public_router.get("", include_in_schema=False)
def root() -> Response:
    return RedirectResponse("/ui/", status_code=308)


public_router.include_router(overview_router)
public_router.include_router(inventory_router)
public_router.include_router(warmup_router)
public_router.include_router(reputation_router)
public_router.include_router(feedback_router)
public_router.include_router(validation_router)
public_router.include_router(powermta_router)
public_router.include_router(operations_router)
