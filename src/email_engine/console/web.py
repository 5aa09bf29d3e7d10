"""What every console route shares: who is looking (from the session cookie), CSRF on every form,
errors shown as the API's ``detail`` sentence, flash messages after a redirect, the audit details.

Console routes use :class:`ConsoleRoute`, which answers HTML instead of the API's JSON: a missing or
ended session redirects to the login page, a refused form or role gets a page saying why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from email_engine.auth import service as auth_service
from email_engine.auth.roles import Role, role_allows
from email_engine.auth.service import Principal
from email_engine.clock import utcnow
from email_engine.console import session as cookies
from email_engine.console.render import page
from email_engine.deps import ContextDep
from email_engine.errors import EmailEngineError, PermissionDenied, Unauthenticated

__all__ = [
    "AdminViewer",
    "ConsoleRoute",
    "CsrfRefused",
    "FormError",
    "LoginRequired",
    "OperatorViewer",
    "Viewer",
    "ViewerDep",
    "audit",
    "field",
    "optional_int",
    "redirect",
    "show",
]

log = structlog.get_logger("email_engine.console")

FLASH_COOKIE = "ee_flash"
STATUS_BY_ERROR = {
    "invalid_input": 422,
    "payload_too_large": 413,
    "not_found": 404,
    "conflict": 409,
    "permission_denied": 403,
    "configuration_error": 409,
    "dependency_unavailable": 503,
    "rate_limited": 429,
}


class LoginRequired(Exception):
    """No session, or it ended (expired, revoked, account disabled): go to the login page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A form without this console's CSRF token: refused before anything runs."""


class FormError(EmailEngineError):
    """A form field is missing or malformed (shown like the API's 422)."""

    code = "invalid_input"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person looking at a page, and what the page may offer them."""

    principal: Principal
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role.value

    @property
    def can_write(self) -> bool:
        return role_allows(self.principal.role, Role.OPERATOR)

    @property
    def is_admin(self) -> bool:
        return role_allows(self.principal.role, Role.ADMIN)

    @property
    def actor(self) -> str:
        """How services record who acted (the API's ``kind:name``)."""
        return f"{self.principal.kind}:{self.principal.name}"[:128]


def _form(request: Request) -> FormData | None:
    value = getattr(request.state, "form", None)
    return value if isinstance(value, FormData) else None


def field(request: Request, name: str, *, required: bool = True, max_length: int = 2000) -> str:
    """A text field of the posted form, stripped; a missing required one is a 422 with a sentence."""
    form = _form(request)
    value = form.get(name) if form is not None else None
    if isinstance(value, UploadFile):
        raise FormError(f"{name} must be text, not a file.")
    text = (value or "").strip()
    if required and not text:
        raise FormError(f"Fill in {name.replace('_', ' ')}.")
    if len(text) > max_length:
        raise FormError(f"{name.replace('_', ' ')} is longer than {max_length} characters.")
    return text


def optional_int(request: Request, name: str, *, low: int = 0, high: int = 2**63 - 1) -> int | None:
    text = field(request, name, required=False, max_length=24)
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise FormError(f"{name.replace('_', ' ')} must be a whole number from {low} to {high}.")
    return int(text)


def upload(request: Request, name: str) -> UploadFile:
    form = _form(request)
    value = form.get(name) if form is not None else None
    if not isinstance(value, UploadFile) or not value.filename:
        raise FormError(f"Choose a file for {name.replace('_', ' ')}.")
    return value


def current_viewer(request: Request, ctx: ContextDep) -> Viewer:
    """Authenticate the session cookie exactly as the API authenticates a bearer token, then check the
    CSRF token of any form. Sets ``request.state.principal`` for the audit."""
    token = request.cookies.get(cookies.SESSION_COOKIE)
    if not token:
        raise LoginRequired("Log in to use the console.")
    with ctx.session_factory() as session:
        try:
            principal, renewed = auth_service.renew_session(session, ctx.settings, token=token, now=utcnow())
        except Unauthenticated as exc:
            expired = "expired" in exc.detail
            raise LoginRequired("Your session expired; log in again." if expired else exc.detail) from None
    if principal.role is Role.INGEST:
        raise LoginRequired("Ingest accounts may only post accounting records.")
    request.state.principal = principal
    request.state.renewed_session = renewed
    value = cookies.csrf_value(request)
    if request.method == "POST":
        form = _form(request)
        given = form.get(cookies.CSRF_FIELD) if form is not None else None
        if not isinstance(given, str) or not cookies.same_token(ctx.settings, value, given):
            raise CsrfRefused
    csrf = cookies.csrf_token(ctx.settings, value) if value else ""
    return Viewer(principal=principal, csrf=csrf)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def _operator(viewer: ViewerDep) -> Viewer:
    if not viewer.can_write:
        raise PermissionDenied(f"The {viewer.role} role may only read; this needs operator.")
    return viewer


def _admin(viewer: ViewerDep) -> Viewer:
    if not viewer.is_admin:
        raise PermissionDenied(f"This needs the admin role; you have {viewer.role}.")
    return viewer


OperatorViewer = Annotated[Viewer, Depends(_operator)]
AdminViewer = Annotated[Viewer, Depends(_admin)]


def audit(request: Request, action: str, api: str, **details: Any) -> None:
    """What the audit entry of this console write says (the request guard writes it, like the API's)."""
    request.state.audit_details = {"console": action, "api": api, **details}


def redirect(url: str, *, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            quote(json.dumps({"text": flash[:500]})),
            max_age=60,
            path=cookies.UI_PATH,
            secure=True,
            httponly=True,
            samesite="strict",
        )
    return response


def take_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        from urllib.parse import unquote

        value = json.loads(unquote(raw)).get("text")
    except (ValueError, AttributeError):
        return None
    return str(value)[:500] if value else None


def show(
    request: Request,
    template: str,
    viewer: Viewer | None,
    values: Mapping[str, Any],
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    """Render a console page with the shared layout values (who, CSRF token, flash message, error)."""
    flash = take_flash(request)
    response = page(
        template,
        {
            "viewer": viewer,
            "path": request.url.path,
            "flash": flash,
            "error": error,
            **values,
        },
        status=status,
    )
    if flash:
        response.delete_cookie(
            FLASH_COOKIE, path=cookies.UI_PATH, secure=True, httponly=True, samesite="strict"
        )
    return response


def refused(request: Request, status: int, title: str, detail: str) -> Response:
    return page(
        "refused.html",
        {"viewer": None, "path": request.url.path, "flash": None, "error": detail, "title": title},
        status=status,
    )


def error_status(exc: EmailEngineError) -> int:
    return STATUS_BY_ERROR.get(exc.code, 400)


def _sets_session(response: Response) -> bool:
    """Whether the page already set or cleared the session cookie (login, logout, a refused session)."""
    prefix = f"{cookies.SESSION_COOKIE}=".encode()
    return any(key == b"set-cookie" and value.startswith(prefix) for key, value in response.raw_headers)


class ConsoleRoute(APIRoute):
    """Console routes answer HTML: login redirects, CSRF and role refusals as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def closing_form(request: Request) -> Response:
            try:
                return await handler(request)
            finally:
                form = _form(request)
                if form is not None:
                    await form.close()

        async def console_handler(request: Request) -> Response:
            response = await answer(request)
            renewed = getattr(request.state, "renewed_session", None)
            if renewed is not None and not _sets_session(response):
                cookies.set_session_token(
                    response, access_token=str(renewed["access_token"]), max_age=int(renewed["expires_in"])
                )
            return response

        async def answer(request: Request) -> Response:
            if request.method == "POST":
                try:
                    request.state.form = await request.form(max_files=1, max_fields=100)
                except Exception:  # a malformed multipart body
                    return refused(request, 400, "Bad form", "The form could not be read; send it again.")
            try:
                return await closing_form(request)
            except LoginRequired as exc:
                target = request.url.path if request.method == "GET" else "/ui/"
                response = RedirectResponse(
                    f"/ui/login?next={quote(target)}&reason={quote(exc.reason[:200])}", status_code=303
                )
                response.delete_cookie(cookies.SESSION_COOKIE, path=cookies.UI_PATH)
                return response
            except CsrfRefused:
                log.warning("console_csrf_refused", path=request.url.path)
                return refused(
                    request,
                    403,
                    "Form refused",
                    "This form was not sent from a page of this console (its CSRF token is missing or "
                    "wrong), so nothing was done. Reload the page and try again.",
                )
            except PermissionDenied as exc:
                return refused(request, 403, "Not allowed", exc.detail)
            except EmailEngineError as exc:
                return refused(request, error_status(exc), "Not done", exc.detail)
            except RequestValidationError:
                return refused(request, 404, "Not found", "There is no such page; check the address.")
            except StarletteHTTPException as exc:
                return refused(request, exc.status_code, "Not found", str(exc.detail))

        return console_handler
