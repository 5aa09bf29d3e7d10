from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from email_engine.auth import service
from email_engine.auth.roles import Role
from email_engine.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditEntryPublic,
    LoginRequest,
    Page,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
)
from email_engine.clock import utcnow
from email_engine.deps import AdminDep, ContextDep, SessionDep, SettingsDep
from email_engine.errors import RateLimited, Unauthenticated

public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = APIRouter(prefix="/api/v1", tags=["auth"])


@public_router.post("/login", response_model=TokenPair, summary="Exchange email and password for tokens")
def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep, ctx: ContextDep
) -> dict[str, object]:
    """Failed attempts are limited per client address and per account (RATE_LIMIT_LOGIN)."""
    keys = (f"client:{request.state.client_address}", f"account:{body.email.lower()}")
    for key in keys:
        decision = ctx.limiter.test("login", key)
        if not decision.allowed:
            raise RateLimited(
                f"Too many failed logins; try again in {decision.retry_after} s.",
                retry_after=decision.retry_after,
            )
    try:
        tokens = service.login(session, settings, email=body.email, password=body.password, now=utcnow())
    except Unauthenticated:
        for key in keys:
            ctx.limiter.hit("login", key)
        raise
    session.commit()
    return tokens


@public_router.post("/refresh", response_model=TokenPair, summary="Trade a refresh token for a new pair")
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> dict[str, object]:
    return service.refresh_tokens(session, settings, refresh_token=body.refresh_token, now=utcnow())


@router.get("/users", response_model=list[UserPublic], summary="List users (admin)")
def list_users(session: SessionDep, _admin: AdminDep) -> object:
    return service.list_users(session)


@router.post("/users", response_model=UserPublic, status_code=201, summary="Create a user (admin)")
def create_user(body: UserCreate, session: SessionDep, _admin: AdminDep) -> object:
    user = service.create_user(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        role=body.role,
        now=utcnow(),
    )
    session.commit()
    return user


@router.get("/keys", response_model=list[ApiKeyPublic], summary="List API keys (admin)")
def list_keys(session: SessionDep, _admin: AdminDep) -> object:
    return service.list_api_keys(session)


@router.post("/keys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key (admin)")
def create_key(body: ApiKeyCreate, session: SessionDep, admin: AdminDep) -> object:
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


@router.delete("/keys/{name}", response_model=ApiKeyPublic, summary="Revoke an API key (admin)")
def revoke_key(name: str, session: SessionDep, _admin: AdminDep) -> object:
    record = service.revoke_api_key(session, name=name, now=utcnow())
    session.commit()
    return record


@router.get("/audit", response_model=Page[AuditEntryPublic], summary="Read the audit log (admin)")
def read_audit(
    session: SessionDep,
    _admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    actor: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, object]:
    total, rows = service.list_audit(session, limit=limit, offset=offset, actor=actor)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


__all__ = ["Role", "public_router", "router"]
