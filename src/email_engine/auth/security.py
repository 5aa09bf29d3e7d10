"""Password hashing, API key material and JWTs. No database access here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from pwdlib import PasswordHash

from email_engine.auth.roles import Role
from email_engine.errors import Unauthenticated

__all__ = [
    "API_KEY_PREFIX",
    "TokenClaims",
    "decode_token",
    "encode_token",
    "hash_api_key",
    "hash_password",
    "new_api_key",
    "verify_password",
]

API_KEY_PREFIX = "ee_"
JWT_ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]

_password_hash = PasswordHash.recommended()  # argon2id


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


def new_api_key() -> tuple[str, str]:
    """A fresh key and its lookup prefix. Keys carry 256 bits of randomness, so a fast hash suffices."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_prefix(key: str) -> str | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, _, rest = key[len(API_KEY_PREFIX) :].partition("_")
    return prefix if len(prefix) == 8 and rest else None


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    role: Role
    token_type: TokenType
    expires_at: datetime
    #: The user's token version when issued; a token older than the current version is revoked.
    version: int
    jti: str
    #: When the token was issued (``iat``).
    issued_at: datetime
    #: When the password behind it was checked (``auth_time``, OpenID Connect Core 1.0 §2; the
    #: issue time when absent): a renewed console session keeps the first login's time.
    authenticated_at: datetime


def encode_token(
    *,
    user_id: int,
    role: Role,
    token_type: TokenType,
    secret: str,
    now: datetime,
    ttl: timedelta,
    version: int = 0,
    jti: str | None = None,
    authenticated_at: datetime | None = None,
) -> str:
    payload = {
        "sub": str(user_id),
        "role": role.value,
        "typ": token_type,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": jti or uuid.uuid4().hex,
        "ver": version,
        "auth_time": int((authenticated_at or now).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_token(token: str, *, secret: str, expected_type: TokenType, now: datetime) -> TokenClaims:
    # Expiry is checked below against the injected ``now`` (testable), not PyJWT's own clock.
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={
                "require": ["sub", "exp", "iat", "typ", "role"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The bearer token is invalid or was not signed by this server.") from exc
    if payload["exp"] <= now.timestamp():
        raise Unauthenticated("The bearer token has expired; log in again or use the refresh token.")
    if payload["typ"] != expected_type:
        given, needed = str(payload["typ"]), expected_type
        raise Unauthenticated(
            f"{_article(given).capitalize()} {given} token was given where {_article(needed)} {needed} token is needed."
        )
    try:
        role = Role(payload["role"])
        user_id = int(payload["sub"])
        version = int(payload.get("ver", 0))
        issued_at = datetime.fromtimestamp(int(payload["iat"]), tz=UTC)
        authenticated_at = datetime.fromtimestamp(int(payload.get("auth_time", payload["iat"])), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise Unauthenticated("The bearer token carries an unknown role, subject, version or time.") from exc
    return TokenClaims(
        user_id=user_id,
        role=role,
        token_type=expected_type,
        expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
        version=version,
        jti=str(payload.get("jti", "")),
        issued_at=issued_at,
        authenticated_at=authenticated_at,
    )


def _article(word: str) -> str:
    """ "an" before a vowel ("an access token"), "a" otherwise ("a refresh token")."""
    return "an" if word[:1].lower() in ("a", "e", "i", "o", "u") else "a"
