from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from email_engine.auth import service
from email_engine.auth.deps import AdminDep
from email_engine.auth.login_guard import login_guard
from email_engine.auth.roles import Role
from email_engine.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditEntryPublic,
    LoginRequest,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep, SettingsDep
from email_engine.errors import Unauthenticated
from email_engine.platform.schemas import MAX_DB_INT, OffsetQuery, Page

public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = APIRouter(prefix="/api/v1", tags=["auth"])


UserId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="User id")]
_bearer = HTTPBearer(auto_error=False, description="Access token of the user changing their own password")


def _now_ms() -> int:
    return int(time.time() * 1000)


@public_router.post("/login", summary="Exchange email and password for tokens")
def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep, ctx: ContextDep
) -> TokenPair:
    """Every attempt is counted before the password is checked (docs/operations.md, "Login protection"):
    per client address (RATE_LIMIT_LOGIN), per account and address with a doubling backoff after
    LOGIN_BACKOFF_FREE_ATTEMPTS, and per account over all addresses (LOGIN_ACCOUNT_LIMIT). A correct
    password gives its attempt back; an attacker's burst from one address does not lock the account
    for its owner elsewhere."""
    guard = login_guard(ctx)
    admission = guard.admit(client=request.state.client_address, account=body.email, now_ms=_now_ms())
    tokens = service.login(session, settings, email=body.email, password=body.password, now=utcnow())
    session.commit()
    guard.succeeded(admission, now_ms=_now_ms())
    return TokenPair.model_validate(tokens)


@public_router.post("/refresh", summary="Trade a refresh token for a new pair")
def refresh(body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Refresh tokens are used once: the answer holds a new refresh token and the old one stops working.
    Presenting a used one again signs every session of the account out (a copy may be stolen)."""
    try:
        tokens = service.refresh_tokens(session, settings, refresh_token=body.refresh_token, now=utcnow())
    except service.RefreshTokenReused:
        request.state.audit_details = {"event": "refresh_token_reuse"}
        session.commit()  # keep the revocation
        raise
    session.commit()
    return TokenPair.model_validate(tokens)


@public_router.post("/password", summary="Change your own password")
def change_password(
    body: PasswordChange,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenPair:
    """For a logged-in user (bearer token), any role. Needs the current password, counted like a login
    attempt. Every other session of the account ends; the answer holds fresh tokens for this one."""
    if bearer is None:
        raise Unauthenticated("Send the Authorization: Bearer token of the user whose password changes.")
    settings = ctx.settings
    principal = service.authenticate_bearer(session, settings, token=bearer.credentials, now=utcnow())
    assert principal.user_id is not None
    request.state.principal = principal
    user = service.find_user(session, principal.user_id)
    guard = login_guard(ctx)
    admission = guard.admit(client=request.state.client_address, account=user.email, now_ms=_now_ms())
    tokens = service.change_own_password(
        session,
        settings,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        now=utcnow(),
    )
    session.commit()
    guard.succeeded(admission, now_ms=_now_ms())
    request.state.audit_details = {"event": "password_changed", "user_id": principal.user_id}
    return TokenPair.model_validate(tokens)


@router.get("/users", summary="List users (admin)")
def list_users(session: SessionDep, _admin: AdminDep) -> list[UserPublic]:
    return [UserPublic.model_validate(user) for user in service.list_users(session)]


@router.post("/users", status_code=201, summary="Create a user (admin)")
def create_user(body: UserCreate, session: SessionDep, _admin: AdminDep) -> UserPublic:
    user = service.create_user(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        role=body.role,
        now=utcnow(),
    )
    session.commit()
    return UserPublic.model_validate(user)


@router.patch(
    "/users/{user_id}",
    summary="Disable, enable or change the role of a user (admin)",
)
def update_user(
    user_id: UserId, body: UserUpdate, request: Request, session: SessionDep, _admin: AdminDep
) -> UserPublic:
    """`{"disabled": true}` closes the account and `{"role": "viewer"}` changes its role: both end the
    user's access and refresh tokens at once. The last active admin cannot be disabled or demoted (409)."""
    user, changes = service.update_user(
        session, user_id=user_id, disabled=body.disabled, role=body.role, now=utcnow()
    )
    session.commit()
    request.state.audit_details = {"user_id": user.id, "changes": changes}
    return UserPublic.model_validate(user)


@router.post("/users/{user_id}/password", summary="Reset a user's password (admin)")
def reset_password(
    user_id: UserId, body: PasswordReset, request: Request, session: SessionDep, _admin: AdminDep
) -> UserPublic:
    """Sets a new password and ends every token the user holds."""
    user = service.set_password(session, user_id=user_id, password=body.password, now=utcnow())
    session.commit()
    request.state.audit_details = {"user_id": user.id, "event": "password_reset"}
    return UserPublic.model_validate(user)


@router.post("/users/{user_id}/revoke-tokens", summary="Sign a user out everywhere (admin)")
def revoke_user_tokens(
    user_id: UserId, request: Request, session: SessionDep, _admin: AdminDep
) -> UserPublic:
    user = service.revoke_tokens(session, user_id=user_id, now=utcnow())
    session.commit()
    request.state.audit_details = {"user_id": user.id, "event": "tokens_revoked"}
    return UserPublic.model_validate(user)


@router.get("/keys", summary="List API keys (admin)")
def list_keys(session: SessionDep, _admin: AdminDep) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(record) for record in service.list_api_keys(session)]


@router.post("/keys", status_code=201, summary="Create an API key (admin)")
def create_key(body: ApiKeyCreate, session: SessionDep, admin: AdminDep) -> ApiKeyCreated:
    record, key = service.create_api_key(
        session,
        name=body.name,
        role=body.role,
        expires_at=body.expires_at,
        now=utcnow(),
        created_by_user_id=admin.user_id,
    )
    session.commit()
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(record).model_dump(), "key": key})


@router.delete("/keys/{name}", summary="Revoke an API key (admin)")
def revoke_key(name: str, session: SessionDep, _admin: AdminDep) -> ApiKeyPublic:
    record = service.revoke_api_key(session, name=name, now=utcnow())
    session.commit()
    return ApiKeyPublic.model_validate(record)


@router.get("/audit", summary="Read the audit log (admin)")
def read_audit(
    session: SessionDep,
    _admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
    actor: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[AuditEntryPublic]:
    total, rows = service.list_audit(session, limit=limit, offset=offset, actor=actor)
    items = [AuditEntryPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


__all__ = ["Role", "public_router", "router"]
