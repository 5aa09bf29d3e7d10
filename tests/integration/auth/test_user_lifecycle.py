"""Closing accounts against the real server: disable, role change, password resets and rotated refresh
tokens end a user's tokens at once; the CLI does the same; every change is audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from email_engine.auth import service as auth_service
from email_engine.auth.models import AuditEntry, User
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from tests.support.cli_runner import run_cli
from tests.support.live_server import LiveServer

PASSWORD = "first password of the operator"


@pytest.fixture
def http(app: FastAPI) -> Iterator[httpx.Client]:
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def user_id(ctx: AppContext) -> int:
    with ctx.session_factory() as session:
        user = auth_service.create_user(
            session,
            email="op@example.org",
            username="op",
            password=PASSWORD,
            role=Role.OPERATOR,
            now=utcnow(),
        )
        session.commit()
        return user.id


def _login(http: httpx.Client, password: str = PASSWORD) -> dict[str, Any]:
    response = http.post("/api/v1/auth/login", json={"email": "op@example.org", "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _works(http: httpx.Client, tokens: dict[str, Any]) -> tuple[int, int]:
    """(status of a read with the access token, status of a refresh with the refresh token)."""
    read = http.get("/api/v1/ips", headers=_bearer(tokens)).status_code
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code
    return read, refreshed


def test_disable_ends_access_and_refresh_tokens_at_once(
    http: httpx.Client, admin_headers: dict[str, str], user_id: int, ctx: AppContext
) -> None:
    tokens = _login(http)
    assert http.get("/api/v1/ips", headers=_bearer(tokens)).status_code == 200
    disabled = http.patch(f"/api/v1/users/{user_id}", json={"disabled": True}, headers=admin_headers)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert _works(http, tokens) == (401, 401)
    assert (
        http.post("/api/v1/auth/login", json={"email": "op@example.org", "password": PASSWORD}).status_code
        == 401
    )
    enabled = http.patch(f"/api/v1/users/{user_id}", json={"disabled": False}, headers=admin_headers)
    assert enabled.json()["disabled"] is False
    assert _works(http, tokens) == (401, 401)  # old tokens stay dead
    assert http.get("/api/v1/ips", headers=_bearer(_login(http))).status_code == 200
    with ctx.session_factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "PATCH").order_by(AuditEntry.id)
        ).all()
    assert [entry.details for entry in entries] == [
        {"user_id": user_id, "changes": {"disabled": True}},
        {"user_id": user_id, "changes": {"disabled": False}},
    ]
    assert {entry.actor for entry in entries} == {"bootstrap-api-key"}


def test_role_change_and_password_reset_end_tokens(
    http: httpx.Client, admin_headers: dict[str, str], user_id: int
) -> None:
    tokens = _login(http)
    demoted = http.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"}, headers=admin_headers)
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    assert _works(http, tokens) == (401, 401)
    tokens = _login(http)
    assert http.post("/api/v1/ips", json={}, headers=_bearer(tokens)).status_code == 403  # a viewer now
    reset = http.post(
        f"/api/v1/users/{user_id}/password", json={"password": "a brand new password"}, headers=admin_headers
    )
    assert reset.status_code == 200
    assert _works(http, tokens) == (401, 401)
    assert (
        http.post("/api/v1/auth/login", json={"email": "op@example.org", "password": PASSWORD}).status_code
        == 401
    )
    _login(http, "a brand new password")
    short = http.post(f"/api/v1/users/{user_id}/password", json={"password": "short"}, headers=admin_headers)
    assert short.status_code == 422
    assert http.patch(f"/api/v1/users/{user_id}", json={}, headers=admin_headers).status_code == 422
    assert (
        http.patch("/api/v1/users/999999", json={"disabled": True}, headers=admin_headers).status_code == 404
    )


def test_refresh_tokens_rotate_and_a_reused_one_signs_everything_out(
    http: httpx.Client, user_id: int
) -> None:
    first = _login(http)
    second = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    third = http.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert third.status_code == 200
    latest = third.json()
    # The first token again: someone holds a copy. Everything of the account ends.
    reused = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and "used already" in reused.json()["detail"]
    assert _works(http, latest) == (401, 401)
    assert http.get("/api/v1/ips", headers=_bearer(_login(http))).status_code == 200


def test_self_service_password_change(http: httpx.Client, user_id: int, ctx: AppContext) -> None:
    other_session = _login(http)
    mine = _login(http)
    wrong = http.post(
        "/api/v1/auth/password",
        json={"current_password": "not my password", "new_password": "my next long password"},
        headers=_bearer(mine),
    )
    assert wrong.status_code == 401
    changed = http.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "my next long password"},
        headers=_bearer(mine),
    )
    assert changed.status_code == 200, changed.text
    assert _works(http, other_session) == (401, 401)
    assert http.get("/api/v1/ips", headers=_bearer(changed.json())).status_code == 200
    assert (
        http.post(
            "/api/v1/auth/password", json={"current_password": "x", "new_password": "y" * 12}
        ).status_code
        == 401
    )
    with ctx.session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.target == "/api/v1/auth/password", AuditEntry.status_code == 200
            )
        ).one()
    assert entry.actor == "op" and entry.details == {"event": "password_changed", "user_id": user_id}


def test_the_last_admin_stays(http: httpx.Client, admin_headers: dict[str, str], ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        admin = auth_service.create_user(
            session,
            email="root@example.org",
            username="root",
            password=PASSWORD,
            role=Role.ADMIN,
            now=utcnow(),
        )
        session.commit()
    for change in ({"disabled": True}, {"role": "operator"}):
        refused = http.patch(f"/api/v1/users/{admin.id}", json=change, headers=admin_headers)
        assert refused.status_code == 409 and "last active admin" in refused.json()["detail"]


@pytest.mark.slow
def test_cli_user_commands(database_url: str, user_id: int, ctx: AppContext, http: httpx.Client) -> None:
    tokens = _login(http)
    done = run_cli("users", "disable", "op@example.org", "--json", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert '"disabled": true' in done.stdout
    assert _works(http, tokens) == (401, 401)
    assert run_cli("users", "enable", "op", database_url=database_url).returncode == 0
    tokens = _login(http)
    done = run_cli(
        "users", "set-password", str(user_id), "--password", "cli chosen password", database_url=database_url
    )
    assert done.returncode == 0, done.stderr
    assert _works(http, tokens) == (401, 401)
    tokens = _login(http, "cli chosen password")
    assert run_cli("users", "revoke-tokens", "op", database_url=database_url).returncode == 0
    assert _works(http, tokens) == (401, 401)
    missing = run_cli("users", "disable", "nobody@example.org", database_url=database_url)
    assert missing.returncode != 0 and "No user is" in missing.stderr
    with ctx.session_factory() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_kind == "cli").order_by(AuditEntry.id)
        ).all()
        assert session.get(User, user_id) is not None
    assert actions == ["disable", "enable", "set-password", "revoke-tokens"]
