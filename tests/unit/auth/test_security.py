from datetime import UTC, datetime, timedelta

import jwt
import pytest

from email_engine.auth.roles import Role, role_allows
from email_engine.auth.security import (
    decode_token,
    encode_token,
    hash_api_key,
    hash_password,
    key_prefix,
    new_api_key,
    verify_password,
)
from email_engine.errors import Unauthenticated

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "k" * 48 + "Q7v!x9Zr2Lm4Np8T"  # 64 bytes, long enough for HS512 too


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        (Role.ADMIN, Role.OPERATOR, True),
        (Role.ADMIN, Role.INGEST, True),
        (Role.OPERATOR, Role.ADMIN, False),
        (Role.OPERATOR, Role.VIEWER, True),
        (Role.VIEWER, Role.OPERATOR, False),
        (Role.VIEWER, Role.INGEST, False),
        (Role.INGEST, Role.VIEWER, False),
        (Role.INGEST, Role.INGEST, True),
    ],
)
def test_role_allows(held: Role, needed: Role, allowed: bool) -> None:
    assert role_allows(held, needed) is allowed


def test_password_hash_round_trip() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong horse battery", hashed)


def test_api_keys_are_unique_and_carry_their_prefix() -> None:
    key, prefix = new_api_key()
    other, _ = new_api_key()
    assert key != other
    assert key_prefix(key) == prefix
    assert key_prefix("not-a-key") is None
    assert key_prefix("ee_short_x") is None
    assert len(hash_api_key(key)) == 64


def test_token_round_trip() -> None:
    token = encode_token(
        user_id=7, role=Role.OPERATOR, token_type="access", secret=SECRET, now=NOW, ttl=timedelta(minutes=5)
    )
    claims = decode_token(token, secret=SECRET, expected_type="access", now=NOW + timedelta(minutes=4))
    assert (claims.user_id, claims.role) == (7, Role.OPERATOR)


@pytest.mark.parametrize(
    ("token_factory", "message"),
    [
        (
            lambda: encode_token(
                user_id=1,
                role=Role.ADMIN,
                token_type="access",
                secret="another" * 8,
                now=NOW,
                ttl=timedelta(minutes=5),
            ),
            "not signed by this server",
        ),
        (
            lambda: encode_token(
                user_id=1,
                role=Role.ADMIN,
                token_type="access",
                secret=SECRET,
                now=NOW - timedelta(hours=1),
                ttl=timedelta(minutes=5),
            ),
            "expired",
        ),
        (
            lambda: encode_token(
                user_id=1,
                role=Role.ADMIN,
                token_type="refresh",
                secret=SECRET,
                now=NOW,
                ttl=timedelta(days=1),
            ),
            "refresh token was given",
        ),
        (
            lambda: jwt.encode(
                {"sub": "1", "role": "admin", "typ": "access", "iat": 0, "exp": 9999999999},
                SECRET,
                algorithm="HS512",
            ),
            "invalid",
        ),
        (
            lambda: jwt.encode(
                {"sub": "1", "role": "root", "typ": "access", "iat": 0, "exp": 9999999999},
                SECRET,
                algorithm="HS256",
            ),
            "unknown role",
        ),
        (lambda: "not.a.jwt", "invalid"),
        (
            lambda: jwt.encode(
                {"sub": "1", "role": "admin", "typ": "access", "iat": 0, "exp": 9999999999},
                "",
                algorithm="none",
            ),
            "invalid",
        ),
    ],
)
def test_bad_tokens_are_refused(token_factory: object, message: str) -> None:
    token = token_factory()  # type: ignore[operator]
    with pytest.raises(Unauthenticated, match=message):
        decode_token(token, secret=SECRET, expected_type="access", now=NOW)


def test_a_token_of_the_wrong_type_is_named_with_its_article() -> None:
    def token(kind: str) -> str:
        return encode_token(
            user_id=1,
            role=Role.ADMIN,
            token_type=kind,
            secret=SECRET,
            now=NOW,
            ttl=timedelta(minutes=5),  # type: ignore[arg-type]
        )

    with pytest.raises(Unauthenticated) as refresh_as_access:
        decode_token(token("refresh"), secret=SECRET, expected_type="access", now=NOW)
    assert refresh_as_access.value.detail == "A refresh token was given where an access token is needed."
    with pytest.raises(Unauthenticated) as access_as_refresh:
        decode_token(token("access"), secret=SECRET, expected_type="refresh", now=NOW)
    assert access_as_refresh.value.detail == "An access token was given where a refresh token is needed."
