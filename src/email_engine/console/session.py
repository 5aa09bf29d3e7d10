"""The console's session and CSRF protection (no I/O here beyond reading the request's cookies).

The session is the API's own access token (``POST /api/v1/auth/login`` issues the same one) kept in a
``Secure``, ``HttpOnly``, ``SameSite=Strict`` cookie, checked on every request against the user's token
version (disable, role change, password reset and revoke-tokens apply at once). A request made past
half the token's life gets a fresh token for the same user (``auth.service.renew_session``), so an
active session goes on while an idle one ends when its token expires (``JWT_ACCESS_TTL_MINUTES``);
renewal stops ``JWT_REFRESH_TTL_DAYS`` after the login.

CSRF (OWASP "Signed Double-Submit Cookie"): a random value lives in its own cookie; every form carries
``HMAC-SHA256(JWT_SECRET_KEY, "console-csrf:" + value)``, which a page of another site can neither
read nor compute. The value is replaced at login and logout (no fixation across sessions).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from email_engine.config import Settings
from email_engine.errors import Unauthenticated

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "UI_PATH",
    "clear_session",
    "csrf_token",
    "csrf_value",
    "same_token",
    "set_csrf_cookie",
    "set_session",
    "set_session_token",
]

UI_PATH: Final = "/ui"
SESSION_COOKIE: Final = "ee_session"
CSRF_COOKIE: Final = "ee_csrf"
CSRF_FIELD: Final = "csrf_token"


def _secret(settings: Settings) -> bytes:
    if settings.jwt_secret_key is None:
        raise Unauthenticated("The console needs JWT_SECRET_KEY (login tokens are disabled without it).")
    return settings.jwt_secret_key.get_secret_value().encode()


def csrf_value(request: Request) -> str | None:
    """The random CSRF value from the request's cookie (None when the browser sent none)."""
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and 16 <= len(value) <= 128 else None


def new_csrf_value() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(settings: Settings, value: str) -> str:
    """The token the forms carry for the cookie's ``value``."""
    return hmac.new(_secret(settings), f"console-csrf:{value}".encode(), hashlib.sha256).hexdigest()


def same_token(settings: Settings, value: str | None, given: str | None) -> bool:
    if not value or not given:
        return False
    return hmac.compare_digest(csrf_token(settings, value).encode(), given.encode())


def _cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=UI_PATH, secure=True, httponly=True, samesite="strict"
    )


def set_csrf_cookie(response: Response, value: str) -> None:
    _cookie(response, CSRF_COOKIE, value, None)


def set_session(response: Response, *, access_token: str, max_age: int, csrf: str) -> None:
    set_session_token(response, access_token=access_token, max_age=max_age)
    set_csrf_cookie(response, csrf)


def set_session_token(response: Response, *, access_token: str, max_age: int) -> None:
    """The session cookie alone (a renewal keeps the CSRF value the open pages' forms carry)."""
    _cookie(response, SESSION_COOKIE, access_token, max_age)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=UI_PATH, secure=True, httponly=True, samesite="strict")
    set_csrf_cookie(response, new_csrf_value())
