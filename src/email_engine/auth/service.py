"""Users, keys, logins and the audit log. Callers commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from email_engine.auth import security
from email_engine.auth.models import ApiKey, AuditEntry, RefreshToken, User
from email_engine.auth.roles import Role
from email_engine.config import Settings
from email_engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from email_engine.platform.request_guard import AuditedWrite

__all__ = [
    "Principal",
    "RefreshTokenReused",
    "authenticate_api_key",
    "authenticate_bearer",
    "change_own_password",
    "create_api_key",
    "create_user",
    "find_user",
    "issue_tokens",
    "list_api_keys",
    "list_audit",
    "list_users",
    "login",
    "purge_expired_refresh_tokens",
    "record_audit",
    "record_audited_write",
    "refresh_tokens",
    "renew_session",
    "revoke_api_key",
    "revoke_tokens",
    "set_password",
    "update_user",
]

MIN_PASSWORD = 12


class RefreshTokenReused(Unauthenticated):
    """A refresh token was presented a second time. Its family and the user's tokens are revoked in the
    session (flushed): the caller commits that before answering 401."""


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
    _check_password(password)
    user = User(
        email=email.lower(),
        username=username,
        password_hash=security.hash_password(password),
        role=role.value,
        is_active=True,
        created_at=now,
        token_version=0,
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
    return issue_tokens(session, settings, user=user, now=now)


@cache
def _dummy_hash() -> str:
    # Built on first use, not at import: an argon2 hash costs ~0.1 s and every CLI start imports this module.
    return security.hash_password("dummy password for timing equalisation")


def issue_tokens(
    session: Session, settings: Settings, *, user: User, now: datetime, family: str | None = None
) -> dict[str, Any]:
    """A new access + refresh pair carrying the user's token version; the refresh token is recorded
    (a new family at login, the same family when rotating)."""
    secret = _jwt_secret(settings)
    access_ttl = timedelta(minutes=settings.jwt_access_ttl_minutes)
    refresh_ttl = timedelta(days=settings.jwt_refresh_ttl_days)
    jti = uuid.uuid4().hex
    session.add(
        RefreshToken(
            jti=jti,
            family=family or uuid.uuid4().hex,
            user_id=user.id,
            issued_at=now,
            expires_at=now + refresh_ttl,
        )
    )
    session.flush()
    role = Role(user.role)
    return {
        "access_token": security.encode_token(
            user_id=user.id,
            role=role,
            token_type="access",  # noqa: S106
            secret=secret,
            now=now,
            ttl=access_ttl,
            version=user.token_version,
        ),
        "refresh_token": security.encode_token(
            user_id=user.id,
            role=role,
            token_type="refresh",  # noqa: S106
            secret=secret,
            now=now,
            ttl=refresh_ttl,
            version=user.token_version,
            jti=jti,
        ),
        "token_type": "bearer",
        "expires_in": int(access_ttl.total_seconds()),
    }


def refresh_tokens(
    session: Session, settings: Settings, *, refresh_token: str, now: datetime
) -> dict[str, Any]:
    """Rotate: the presented token is used up and a new pair of the same family is issued.

    A token that was used before is a stolen copy (or the thief already used it): the family and every
    token of the user are revoked (:class:`RefreshTokenReused`).
    """
    claims = security.decode_token(
        refresh_token, secret=_jwt_secret(settings), expected_type="refresh", now=now
    )
    user = _current_user(session, claims)
    record = session.scalar(select(RefreshToken).where(RefreshToken.jti == claims.jti))
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        raise Unauthenticated("This refresh token was revoked; log in again.")
    used = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == record.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(used, "rowcount", 0) != 1:
        _revoke(session, user, now=now, family=record.family)
        raise RefreshTokenReused(
            "This refresh token was used already, so a copy of it may be in other hands: every session "
            "of this account has been signed out. Log in again."
        )
    return issue_tokens(session, settings, user=user, now=now, family=record.family)


def authenticate_bearer(session: Session, settings: Settings, *, token: str, now: datetime) -> Principal:
    claims = security.decode_token(token, secret=_jwt_secret(settings), expected_type="access", now=now)
    user = _current_user(session, claims)
    # The role is read from the database so a demotion takes effect before the token expires.
    return Principal(kind="user", name=user.username, role=Role(user.role), user_id=user.id)


def renew_session(
    session: Session, settings: Settings, *, token: str, now: datetime
) -> tuple[Principal, dict[str, Any] | None]:
    """Authenticate a console session's access token exactly like :func:`authenticate_bearer`, and
    past half its life issue a fresh access token for the same user (same token version, same
    ``auth_time``), so an active session is not thrown out when the first token ends.

    An idle session still ends when its token expires; disable, role change, password reset and
    revoke-tokens refuse the next request (the user is re-read here). A session is not renewed beyond
    the refresh-token lifetime (``JWT_REFRESH_TTL_DAYS``) after its login: then the password is asked
    again, as for an API client whose refresh token ran out.
    """
    claims = security.decode_token(token, secret=_jwt_secret(settings), expected_type="access", now=now)
    user = _current_user(session, claims)
    principal = Principal(kind="user", name=user.username, role=Role(user.role), user_id=user.id)
    half_life = (claims.expires_at - claims.issued_at) / 2
    session_end = claims.authenticated_at + timedelta(days=settings.jwt_refresh_ttl_days)
    if now < claims.issued_at + half_life or now >= session_end:
        return principal, None
    ttl = min(timedelta(minutes=settings.jwt_access_ttl_minutes), session_end - now)
    access = security.encode_token(
        user_id=user.id,
        role=Role(user.role),
        token_type="access",  # noqa: S106
        secret=_jwt_secret(settings),
        now=now,
        ttl=ttl,
        version=user.token_version,
        authenticated_at=claims.authenticated_at,
    )
    return principal, {"access_token": access, "expires_in": int(ttl.total_seconds())}


def find_user(session: Session, reference: str | int) -> User:
    """A user by id, email or username."""
    user: User | None
    if isinstance(reference, int) or reference.isdigit():
        user = session.get(User, int(reference)) if int(reference) < 2**63 else None
    else:
        user = session.scalar(
            select(User).where((User.email == reference.lower()) | (User.username == reference))
        )
    if user is None:
        raise NotFound(
            f"No user is {reference!r}; list them with GET /api/v1/users or `email-engine users list`."
        )
    return user


def update_user(
    session: Session, *, user_id: int, disabled: bool | None = None, role: Role | None = None, now: datetime
) -> tuple[User, dict[str, Any]]:
    """Disable/enable a user or change the role; returns the user and what changed (for the audit).

    Disabling and a role change end the user's tokens at once. The last active admin cannot be
    disabled or demoted (nobody could manage users any more).
    """
    user = find_user(session, user_id)
    changes: dict[str, Any] = {}
    if disabled is not None and disabled == user.is_active:
        changes["disabled"] = disabled
    if role is not None and role.value != user.role:
        changes["role"] = {"from": user.role, "to": role.value}
    if not changes:
        return user, changes
    losing_admin = (
        user.role == Role.ADMIN.value
        and user.is_active
        and (disabled is True or (role is not None and role is not Role.ADMIN))
    )
    if losing_admin and _active_admins(session) <= 1:
        raise Conflict(f"{user.username} is the last active admin; make another user admin first.")
    if disabled is not None:
        user.is_active = not disabled
    if role is not None:
        user.role = role.value
    if disabled or "role" in changes:
        _revoke(session, user, now=now)
    session.flush()
    return user, changes


def set_password(session: Session, *, user_id: int, password: str, now: datetime) -> User:
    """An admin's reset: the new password, and every token of the user ends."""
    _check_password(password)
    user = find_user(session, user_id)
    user.password_hash = security.hash_password(password)
    _revoke(session, user, now=now)
    session.flush()
    return user


def change_own_password(
    session: Session, settings: Settings, *, user_id: int, current: str, new: str, now: datetime
) -> dict[str, Any]:
    """Self-service change: needs the current password; other sessions end, the caller gets new tokens."""
    user = find_user(session, user_id)
    if not user.is_active or not security.verify_password(current, user.password_hash):
        raise Unauthenticated("The current password is wrong.")
    if current == new:
        raise InvalidInput("The new password must differ from the current one.")
    _check_password(new)
    user.password_hash = security.hash_password(new)
    _revoke(session, user, now=now)
    return issue_tokens(session, settings, user=user, now=now)


def revoke_tokens(session: Session, *, user_id: int, now: datetime) -> User:
    """Sign the user out everywhere: access tokens stop at their next request, refresh tokens at once."""
    user = find_user(session, user_id)
    _revoke(session, user, now=now)
    session.flush()
    return user


def purge_expired_refresh_tokens(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


def _revoke(session: Session, user: User, *, now: datetime, family: str | None = None) -> None:
    """Bump the token version (ends every access token) and revoke the refresh tokens."""
    user.token_version += 1
    query = update(RefreshToken).where(RefreshToken.revoked_at.is_(None))
    query = (
        query.where(RefreshToken.family == family) if family else query.where(RefreshToken.user_id == user.id)
    )
    session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))
    session.flush()


def _active_admins(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).where(User.role == Role.ADMIN.value, User.is_active.is_(True)))
        or 0
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD} characters long.")


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


def record_audited_write(session: Session, write: AuditedWrite) -> None:
    """The request guard's audit writer: every write through the API or the console."""
    record_audit(
        session,
        principal=write.principal if isinstance(write.principal, Principal) else None,
        action=write.action,
        target=write.target,
        status_code=write.status_code,
        client_address=write.client_address,
        now=write.now,
        details=write.details,
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


def _current_user(session: Session, claims: security.TokenClaims) -> User:
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("The account behind this token no longer exists or is disabled.")
    if claims.version != user.token_version:
        raise Unauthenticated(
            "This token was revoked (password reset, role change or sign-out everywhere); log in again."
        )
    return user


def _jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret_key is None:
        raise Unauthenticated("Token login is disabled because JWT_SECRET_KEY is not set.")
    return settings.jwt_secret_key.get_secret_value()
