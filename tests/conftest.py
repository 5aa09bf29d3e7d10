"""Shared fixtures. The backend is chosen by TEST_DATABASE (sqlite | postgresql); see scripts/test.sh."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from email_engine.auth import service as auth_service
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import AppContext, build_context
from email_engine.main import create_app
from email_engine.migrate import upgrade_database
from email_engine.plugins import import_all_models
from tests.support.databases import REDIS_URL, backend, empty_all_tables, throwaway_database
from tests.support.dns_server import DnsServer
from tests.support.factories import USER_PASSWORD
from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db
from tests.support.validation_zones import validation_dns_server

import_all_models()

# Fixture files carry fixed dates (2026-11-24…): without this they would fall behind the replay
# horizon (14 days) as the calendar moves on. Tests of the horizon install their own settings;
# subprocesses (the pipe) inherit this.
os.environ.setdefault("ACCOUNTING_REPLAY_HORIZON_DAYS", "36499")
os.environ.setdefault("ACCOUNTING_RETENTION_DAYS", "36500")
# Erasure keeps a keyed pseudonym; a key per test run (subprocesses inherit it).
os.environ.setdefault("PRIVACY_HASH_KEY", secrets.token_urlsafe(32))

# The session ends by comparing every observed response status with the OpenAPI description; a test that
# starts a process must be marked slow.
pytest_plugins = ["tests.support.openapi_truth", "tests.support.slow_marks"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(tmp_path_factory.mktemp("db")) as url:
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    """PostgreSQL runs are the production shape (Redis shared); SQLite runs the embedded default."""
    return REDIS_URL if backend() == "postgresql" else None


def make_settings(database_url: str, redis_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "API_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"ee-test-{uuid.uuid4().hex[:10]}:",
        "RATE_LIMIT_ENABLED": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """The validation zones (tests/support/validation_zones.py) on a loopback DNS server."""
    with validation_dns_server() as server:
        yield server


@pytest.fixture
def dns_settings(database_url: str, redis_url: str | None, dns_server: DnsServer) -> Settings:
    """``settings`` whose resolver asks ``dns_server``; a module or folder takes them as its ``settings``
    with ``settings = dns_settings`` (imported from here)."""
    return make_settings(database_url, redis_url, DNS_NAMESERVERS=dns_server.nameserver)


@pytest.fixture(scope="module")
def mw_database() -> Iterator[MailwizzTestDb]:
    """A MailWizz-shaped database on the local MariaDB (tests/support/mailwizz_db.py), one per module."""
    with throwaway_mailwizz_db() as db:
        yield db


@pytest.fixture
def mw(mw_database: MailwizzTestDb) -> Iterator[MailwizzTestDb]:
    """``mw_database``, emptied after each test."""
    yield mw_database
    with mw_database.connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM `{mw_database.prefix}campaign`")  # cascades to the delivery log
        cursor.execute(f"DELETE FROM {mw_database.table}")


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = build_context(settings)
    try:
        yield context
    finally:
        if context.redis is not None:
            keys = list(context.redis.scan_iter(match=f"{settings.redis_key_prefix}*"))
            if keys:
                context.redis.delete(*keys)
        empty_all_tables(context.engine)
        context.close()


@pytest.fixture
def engine(ctx: AppContext) -> Engine:
    return ctx.engine


@pytest.fixture
def session(ctx: AppContext) -> Iterator[Session]:
    with ctx.session_factory() as db_session:
        yield db_session


@pytest.fixture
def app(ctx: AppContext) -> FastAPI:
    return create_app(ctx=ctx)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin_headers(settings: Settings) -> dict[str, str]:
    assert settings.api_key is not None
    return {"X-API-Key": settings.api_key.get_secret_value()}


@pytest.fixture
def make_key(ctx: AppContext) -> Any:
    """Create a named API key with a role; returns headers that use it."""

    def _make(role: Role, name: str | None = None) -> dict[str, str]:
        with ctx.session_factory() as db_session:
            _record, key = auth_service.create_api_key(
                db_session,
                name=name or f"{role.value}-{uuid.uuid4().hex[:6]}",
                role=role,
                expires_at=None,
                now=utcnow(),
            )
            db_session.commit()
        return {"X-API-Key": key}

    return _make


@pytest.fixture
def make_user(ctx: AppContext) -> Callable[[Role], str]:
    """Create a user named after a role, with that role and ``USER_PASSWORD``; returns its email."""

    def _make(role: Role) -> str:
        email = f"{role.value}@example.org"
        with ctx.session_factory() as db_session:
            auth_service.create_user(
                db_session, email=email, username=role.value, password=USER_PASSWORD, role=role, now=utcnow()
            )
            db_session.commit()
        return email

    return _make


@pytest.fixture
def operator_headers(make_key: Any) -> dict[str, str]:
    headers: dict[str, str] = make_key(Role.OPERATOR)
    return headers


@pytest.fixture
def viewer_headers(make_key: Any) -> dict[str, str]:
    headers: dict[str, str] = make_key(Role.VIEWER)
    return headers


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def shared_data() -> Path:
    """tests/data: the test data (bounce corpus and the rest) lives in the repository, licences beside it."""
    return Path(__file__).resolve().parent / "data"
