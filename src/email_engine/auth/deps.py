"""Who is calling: FastAPI dependencies for authentication and roles (``CurrentPrincipal``,
``OperatorDep``, ``AdminDep``, ``require_role``). Writes need operator unless a route asks for more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from email_engine.auth import service as auth_service
from email_engine.auth.roles import Role, role_allows
from email_engine.auth.service import Principal
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.deps import ContextDep
from email_engine.errors import PermissionDenied, Unauthenticated

__all__ = [
    "AdminDep",
    "ApiKeyHeader",
    "BearerHeader",
    "CurrentPrincipal",
    "OperatorDep",
    "authenticate",
    "identify",
    "require_not_ingest",
    "require_role",
]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Bootstrap or named API key")
_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/login")

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


ApiKeyHeader = Annotated[str | None, Depends(_api_key_header)]
BearerHeader = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def identify(
    ctx: AppContext,
    api_key: str | None,
    bearer: HTTPAuthorizationCredentials | None,
    *,
    missing: str = "Send an X-API-Key header or an Authorization: Bearer token.",
) -> Principal:
    """The principal behind an API key or a bearer token; ``missing`` is the refusal when neither is sent."""
    with ctx.session_factory() as session:
        now = utcnow()
        if api_key:
            principal = auth_service.authenticate_api_key(session, ctx.settings, key=api_key, now=now)
        elif bearer is not None:
            principal = auth_service.authenticate_bearer(
                session, ctx.settings, token=bearer.credentials, now=now
            )
        else:
            raise Unauthenticated(missing)
        session.commit()  # last_used_at of named keys
    return principal


def authenticate(request: Request, ctx: ContextDep, api_key: ApiKeyHeader, bearer: BearerHeader) -> Principal:
    """Who is calling. Writes need at least the operator role unless a route asks for more."""
    principal = identify(ctx, api_key, bearer)
    request.state.principal = principal
    if request.method not in _READ_METHODS and not (
        role_allows(principal.role, Role.OPERATOR) or principal.role is Role.INGEST
    ):
        raise PermissionDenied(f"The {principal.role.value} role may only read; writes need operator.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_role(needed: Role) -> Callable[[Principal], Principal]:
    """A dependency that admits principals whose role covers ``needed``."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not role_allows(principal.role, needed):
            raise PermissionDenied(f"This needs the {needed.value} role; you have {principal.role.value}.")
        return principal

    return check


def require_not_ingest(principal: CurrentPrincipal) -> Principal:
    """Ingest keys exist only to post accounting records; everything else refuses them."""
    if principal.role is Role.INGEST:
        raise PermissionDenied("Ingest keys may only post accounting records.")
    return principal


AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]
OperatorDep = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
