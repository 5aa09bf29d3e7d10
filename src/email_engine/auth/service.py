"""Users, keys, logins and the audit log. Callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from email_engine.auth import security
from email_engine.auth.models import ApiKey, AuditEntry, User
from email_engine.auth.roles import Role
from email_engine.config import Settings
from email_engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated

__all__ = [
    "Principal",
    "authenticate_api_key",
    "authenticate_bearer",
    "create_api_key",
    "create_user",
    "issue_tokens",
    "list_api_keys",
    "list_audit",
    "list_users",
    "login",
    "record_audit",
    "refresh_tokens",
    "revoke_api_key",
]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (JWT), a named API key, or the bootstrap key from settings."""

    kind: str
    name: str
    role: Role
    user_id: int | None = None


def create_user(
    session: Session, *, email: str, username: str, password: str, role: Role, now: datetime
) -> User:
    if len(password) < 12:
        raise InvalidInput("The password must be at least 12 characters long.")
    user = User(
        email=email.lower(),
        username=username,
        password_hash=security.hash_password(password),
        role=role.value,
        is_active=True,
        created_at=now,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("A user with this email or username exists already.") from exc
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id)).all()


def login(
    session: Session, settings: Settings, *, email: str, password: str, now: datetime
) -> dict[str, Any]:
    user = session.scalar(select(User).where(User.email == email.lower()))
    # Verify against a dummy hash when the user is unknown so timing does not reveal accounts.
    stored = user.password_hash if user else _dummy_hash()
    valid = security.verify_password(password, stored)
    if user is None or not valid or not user.is_active:
        raise Unauthenticated("The email or password is wrong, or the account is disabled.")
    user.last_login_at = now
    return issue_tokens(settings, user_id=user.id, role=Role(user.role), now=now)


@cache
def _dummy_hash() -> str:
    # Built on first use, not at import: an argon2 hash costs ~0.1 s and every CLI start imports this module.
    return security.hash_password("dummy password for timing equalisation")


def issue_tokens(settings: Settings, *, user_id: int, role: Role, now: datetime) -> dict[str, Any]:
    secret = _jwt_secret(settings)
    access_ttl = timedelta(minutes=settings.jwt_access_ttl_minutes)
    return {
        "access_token": security.encode_token(
            user_id=user_id,
            role=role,
            token_type="access",  # noqa: S106
            secret=secret,
            now=now,
            ttl=access_ttl,
        ),
        "refresh_token": security.encode_token(
            user_id=user_id,
            role=role,
            token_type="refresh",  # noqa: S106
            secret=secret,
            now=now,
            ttl=timedelta(days=settings.jwt_refresh_ttl_days),
        ),
        "token_type": "bearer",
        "expires_in": int(access_ttl.total_seconds()),
    }


def refresh_tokens(
    session: Session, settings: Settings, *, refresh_token: str, now: datetime
) -> dict[str, Any]:
    claims = security.decode_token(
        refresh_token, secret=_jwt_secret(settings), expected_type="refresh", now=now
    )
    user = _active_user(session, claims.user_id)
    return issue_tokens(settings, user_id=user.id, role=Role(user.role), now=now)


def authenticate_bearer(session: Session, settings: Settings, *, token: str, now: datetime) -> Principal:
    claims = security.decode_token(token, secret=_jwt_secret(settings), expected_type="access", now=now)
    user = _active_user(session, claims.user_id)
    # The role is read from the database so a demotion takes effect before the token expires.
    return Principal(kind="user", name=user.username, role=Role(user.role), user_id=user.id)


def authenticate_api_key(session: Session, settings: Settings, *, key: str, now: datetime) -> Principal:
    bootstrap = settings.api_key.get_secret_value() if settings.api_key else ""
    if bootstrap and security.same_secret(key, bootstrap):
        return Principal(kind="bootstrap", name="bootstrap-api-key", role=Role.ADMIN)
    prefix = security.key_prefix(key)
    if prefix is None:
        raise Unauthenticated("The API key is not valid.")
    digest = security.hash_api_key(key)
    for candidate in session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)):
        if security.same_secret(candidate.key_hash, digest):
            if candidate.revoked_at is not None:
                raise Unauthenticated("The API key has been revoked.")
            if candidate.expires_at is not None and candidate.expires_at <= now:
                raise Unauthenticated("The API key has expired.")
            candidate.last_used_at = now
            return Principal(kind="api_key", name=candidate.name, role=Role(candidate.role))
    raise Unauthenticated("The API key is not valid.")


def create_api_key(
    session: Session,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None,
    now: datetime,
    created_by_user_id: int | None = None,
) -> tuple[ApiKey, str]:
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future.")
    key, prefix = security.new_api_key()
    record = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=security.hash_api_key(key),
        role=role.value,
        created_at=now,
        expires_at=expires_at,
        created_by_user_id=created_by_user_id,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"An API key named {name!r} exists already; choose another name.") from exc
    return record, key


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def revoke_api_key(session: Session, *, name: str, now: datetime) -> ApiKey:
    record = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if record is None:
        raise NotFound(f"No API key is named {name!r}.")
    if record.revoked_at is None:
        record.revoked_at = now
    return record


def record_audit(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    target: str,
    status_code: int,
    client_address: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=principal.name if principal else "anonymous",
            actor_kind=principal.kind if principal else "anonymous",
            action=action,
            target=target[:512],
            status_code=status_code,
            client_address=client_address,
            details=details,
        )
    )


def list_audit(
    session: Session, *, limit: int, offset: int, actor: str | None = None
) -> tuple[int, Sequence[AuditEntry]]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return total, rows


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("The account behind this token no longer exists or is disabled.")
    return user


def _jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret_key is None:
        raise Unauthenticated("Token login is disabled because JWT_SECRET_KEY is not set.")
    return settings.jwt_secret_key.get_secret_value()
