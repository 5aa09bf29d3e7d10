"""Authentication, roles, audit and hostile input, through the real HTTP app."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.auth import security
from email_engine.auth import service as auth_service
from email_engine.auth.models import ApiKey, AuditEntry, User
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import AppContext

PASSWORD = "correct horse battery staple"


@pytest.fixture
def operator_user(ctx: AppContext) -> dict[str, str]:
    with ctx.session_factory() as session:
        auth_service.create_user(
            session,
            email="op@example.org",
            username="op",
            password=PASSWORD,
            role=Role.OPERATOR,
            now=utcnow(),
        )
        session.commit()
    return {"email": "op@example.org", "password": PASSWORD}


def login(client: TestClient, credentials: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_api_route_needs_credentials(client: TestClient) -> None:
    for path in ("/api/v1/users", "/api/v1/keys", "/api/v1/audit"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"


def test_login_refresh_and_bearer_access(client: TestClient, operator_user: dict[str, str]) -> None:
    tokens = login(client, operator_user)
    assert tokens["token_type"] == "bearer"
    # operators may not manage keys (admin), but are authenticated
    assert client.get("/api/v1/keys", headers=bearer(tokens["access_token"])).status_code == 403
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    # an access token is not a refresh token, and vice versa
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}).status_code == 401
    )
    assert client.get("/api/v1/keys", headers=bearer(tokens["refresh_token"])).status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(
    client: TestClient, operator_user: dict[str, str]
) -> None:
    wrong = client.post("/api/v1/auth/login", json={**operator_user, "password": "not the password"})
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "ghost@example.org", "password": "whatever12345"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_forged_and_expired_tokens_are_refused(
    client: TestClient, settings: Settings, operator_user: dict[str, str], session: Session
) -> None:
    user_id = session.scalar(select(User.id))
    assert user_id is not None
    forged = security.encode_token(
        user_id=user_id,
        role=Role.ADMIN,
        token_type="access",
        secret="f" * 64,
        now=utcnow(),
        ttl=timedelta(minutes=5),
    )
    assert settings.jwt_secret_key is not None
    expired = security.encode_token(
        user_id=user_id,
        role=Role.ADMIN,
        token_type="access",
        secret=settings.jwt_secret_key.get_secret_value(),
        now=utcnow() - timedelta(hours=2),
        ttl=timedelta(minutes=5),
    )
    for token in (forged, expired, "garbage"):
        response = client.get("/api/v1/audit", headers=bearer(token))
        assert response.status_code == 401
        assert "Traceback" not in response.text


def test_token_role_follows_the_database(
    client: TestClient, ctx: AppContext, operator_user: dict[str, str]
) -> None:
    tokens = login(client, operator_user)
    with ctx.session_factory() as session:
        user = session.scalar(select(User))
        assert user is not None
        user.is_active = False
        session.commit()
    assert client.get("/api/v1/audit", headers=bearer(tokens["access_token"])).status_code == 401


def test_key_lifecycle_and_roles(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/keys", json={"name": "viewer-1", "role": "viewer"}, headers=admin_headers)
    assert created.status_code == 201
    key = created.json()["key"]
    viewer = {"X-API-Key": key}
    assert client.get("/api/v1/audit", headers=viewer).status_code == 403  # audit is admin-only
    assert client.get("/api/v1/keys", headers=viewer).status_code == 403
    refused = client.post("/api/v1/keys", json={"name": "sneaky", "role": "admin"}, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["error"] == "permission_denied"
    listed = client.get("/api/v1/keys", headers=admin_headers).json()
    assert [k["name"] for k in listed] == ["viewer-1"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert client.post("/api/v1/keys", json={"name": "viewer-1"}, headers=admin_headers).status_code == 409
    assert client.delete("/api/v1/keys/viewer-1", headers=admin_headers).status_code == 200
    revoked = client.get("/api/v1/users", headers=viewer)
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


def test_expired_key_is_refused(client: TestClient, ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        record, key = auth_service.create_api_key(
            session,
            name="short-lived",
            role=Role.ADMIN,
            expires_at=utcnow() + timedelta(seconds=60),
            now=utcnow(),
        )
        record.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    response = client.get("/api/v1/users", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_ingest_keys_only_ingest(client: TestClient, make_key: Any) -> None:
    ingest = make_key(Role.INGEST)
    assert client.get("/api/v1/users", headers=ingest).status_code == 403
    assert client.post("/api/v1/keys", json={"name": "x"}, headers=ingest).status_code == 403


def test_writes_are_audited_with_actor_and_client(client: TestClient, admin_headers: dict[str, str]) -> None:
    client.post("/api/v1/keys", json={"name": "pipe", "role": "ingest"}, headers=admin_headers)
    client.post("/api/v1/keys", json={"name": "bad name!"}, headers=admin_headers)
    entries = client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    assert [(e["action"], e["target"], e["status_code"]) for e in entries] == [
        ("POST", "/api/v1/keys", 422),
        ("POST", "/api/v1/keys", 201),
    ]
    assert {e["actor"] for e in entries} == {"bootstrap-api-key"}
    assert all(e["client_address"] for e in entries)


HOSTILE = ['\'; DROP TABLE "user"; --', "admin' OR '1'='1", "x\nInjected: header", "{{7*7}}", "a" * 5000]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_is_refused_and_nothing_written(
    client: TestClient, admin_headers: dict[str, str], session: Session, value: str
) -> None:
    for body in ({"name": value, "role": "viewer"},):
        assert client.post("/api/v1/keys", json=body, headers=admin_headers).status_code == 422
    user = {"email": "new@example.org", "username": value, "password": "long enough password"}
    assert client.post("/api/v1/users", json=user, headers=admin_headers).status_code == 422
    assert client.post("/api/v1/auth/login", json={"email": value, "password": value}).status_code in (
        401,
        422,
    )
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
    assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"email": 5, "password": []}', 422, "validation_error"),
        (b'{"email": "a@example.org", "password": "x", "admin": true}', 422, "validation_error"),
        (b"[]", 422, "validation_error"),
        (b"", 422, "validation_error"),
    ],
)
def test_malformed_bodies_get_clear_4xx(client: TestClient, content: bytes, status: int, error: str) -> None:
    response = client.post(
        "/api/v1/auth/login", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["detail"]


def test_ten_megabyte_body_is_refused_before_reading(
    client: TestClient, admin_headers: dict[str, str], session: Session
) -> None:
    big = b'{"name": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/keys", content=big, headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    missing = client.get("/api/v1/nope")
    assert missing.status_code in (401, 404)
    assert client.get("/nope").json()["error"] == "not_found"
    assert client.put("/health").json()["error"] == "method_not_allowed"


def test_audit_entries_count_only_writes(
    client: TestClient, admin_headers: dict[str, str], session: Session
) -> None:
    client.get("/api/v1/keys", headers=admin_headers)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_ips_route_with_each_kind_of_credential(
    client: TestClient,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    operator_user: dict[str, str],
) -> None:
    """The foundation's acceptance check: 401 bare, 200 with a key, 200 with a bearer token, viewers cannot write."""
    assert client.get("/api/v1/ips").status_code == 401
    assert client.get("/api/v1/ips", headers=admin_headers).status_code == 200
    token = login(client, operator_user)["access_token"]
    assert client.get("/api/v1/ips", headers=bearer(token)).status_code == 200
    refused = client.post("/api/v1/ips", json={"address": "192.0.2.10"}, headers=viewer_headers)
    assert refused.status_code == 403
    assert client.get("/api/v1/ips", headers=admin_headers).json()["total"] == 0
