"""Login protection against the real server: concurrent bursts stay within the budget, and an attacker's
burst does not lock the account's owner out from another address (Redis on PostgreSQL runs, the database
counters on SQLite runs)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from redis.backoff import NoBackoff
from redis.retry import Retry

from email_engine.auth import service as auth_service
from email_engine.auth.login_guard import DatabaseThrottleStore, LoginGuard, RedisThrottleStore, login_guard
from email_engine.auth.roles import Role
from email_engine.auth.throttle import Policy
from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.errors import RateLimited
from tests.conftest import make_settings
from tests.support.live_server import LiveServer

EMAIL = "owner@example.org"
PASSWORD = "the owner's long password"
BUDGET = 10  # RATE_LIMIT_LOGIN's default, 10 a minute


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    # Login protection follows RATE_LIMIT_ENABLED; the request budget is raised so only login counters speak.
    return make_settings(database_url, redis_url, RATE_LIMIT_ENABLED=True, RATE_LIMIT_DEFAULT="10000/minute")


@pytest.fixture
def owner(ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        auth_service.create_user(
            session, email=EMAIL, username="owner", password=PASSWORD, role=Role.VIEWER, now=utcnow()
        )
        session.commit()


@pytest.fixture
def server(app: FastAPI) -> Any:
    with LiveServer(app) as live:
        yield live


def _login(base: str, password: str, address: str) -> int:
    response = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": EMAIL, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=60,
    )
    return response.status_code


def _burst(base: str, address: str, attempts: int = 60) -> Counter[int]:
    start = threading.Barrier(attempts)

    def attempt(index: int) -> int:
        start.wait()
        return _login(base, f"wrong guess number {index}", address)

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return Counter(pool.map(attempt, range(attempts)))


@pytest.mark.usefixtures("owner")
def test_sixty_concurrent_wrong_passwords_get_at_most_the_budget_of_401s(server: LiveServer) -> None:
    codes = _burst(server.url, "198.51.100.7")
    assert set(codes) <= {401, 429}, codes
    assert 1 <= codes[401] <= BUDGET, codes
    assert codes[401] + codes[429] == 60


@pytest.mark.usefixtures("owner")
def test_the_owner_logs_in_from_another_address_after_a_burst(server: LiveServer) -> None:
    burst = _burst(server.url, "198.51.100.7")
    assert burst[429] > 0
    # The attacker's address is slowed down even with the right password …
    assert _login(server.url, PASSWORD, "198.51.100.7") == 429
    # … the owner, elsewhere, is not.
    assert _login(server.url, PASSWORD, "203.0.113.9") == 200
    # A success gives its attempt back: the owner can keep logging in.
    assert [_login(server.url, PASSWORD, "203.0.113.9") for _ in range(BUDGET + 2)] == [200] * (BUDGET + 2)


@pytest.mark.usefixtures("owner")
def test_typos_are_slowed_down_not_locked_out(server: LiveServer, ctx: AppContext) -> None:
    from email_engine.auth.settings import AuthSettings

    ctx.settings.install(
        AuthSettings(_env_file=None, LOGIN_BACKOFF_FREE_ATTEMPTS=2, LOGIN_BACKOFF_BASE_SECONDS=30),  # type: ignore[call-arg]
    )
    address = "192.0.2.44"
    assert [_login(server.url, "typo typo typo", address) for _ in range(2)] == [401, 401]
    blocked = httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-Forwarded-For": address},
    )
    # The next attempt waits for the first backoff step (then 60 s, 120 s … up to LOGIN_BACKOFF_MAX_SECONDS).
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 30
    assert "for this account from this address" in blocked.json()["detail"]


def test_a_distributed_attack_meets_the_account_ceiling(ctx: AppContext) -> None:
    """Many addresses each within their own budget: the per-account ceiling stops the total."""
    guard = login_guard(ctx)
    ceiling = Policy.rate("account", amount=25, window_seconds=3600)
    guard.account_policy = ceiling
    guard.enabled = True
    admitted = refused = 0
    for index in range(60):
        try:
            guard.admit(client=f"10.0.{index}.1", account=EMAIL, now_ms=1_000_000 + index)
            admitted += 1
        except RateLimited:
            refused += 1
    assert (admitted, refused) == (25, 35)


@pytest.mark.parametrize("store_kind", ["database", "redis"])
def test_counters_are_atomic_under_concurrency(ctx: AppContext, store_kind: str) -> None:
    """60 threads claim one counter at once; exactly the threshold is admitted (either store)."""
    if store_kind == "redis" and ctx.redis is None:
        pytest.skip("Redis is configured only on PostgreSQL runs")
    store = (
        RedisThrottleStore(ctx.redis, prefix=ctx.settings.redis_key_prefix)  # type: ignore[arg-type]
        if store_kind == "redis"
        else DatabaseThrottleStore(ctx.session_factory)
    )
    policy = Policy.rate("client", amount=7, window_seconds=60)
    guard = LoginGuard(
        policies=(policy, Policy.rate("pair", amount=999, window_seconds=60), policy), store=store
    )
    guard.account_policy = Policy.rate("account", amount=999, window_seconds=60)
    start = threading.Barrier(60)

    def attempt(index: int) -> bool:
        start.wait()
        try:
            guard.admit(client="198.51.100.99", account=f"user{index}@example.org", now_ms=5_000_000)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(max_workers=60) as pool:
        outcomes = list(pool.map(attempt, range(60)))
    assert outcomes.count(True) == 7


def test_redis_failure_falls_back_to_the_database(ctx: AppContext) -> None:
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    policy = Policy.rate("client", amount=2, window_seconds=60)
    guard = LoginGuard(
        policies=(policy, policy, policy),
        store=RedisThrottleStore(dead, prefix="unused:"),
        fallback=DatabaseThrottleStore(ctx.session_factory),
    )
    guard.admit(client="192.0.2.1", account=EMAIL, now_ms=0)
    guard.admit(client="192.0.2.1", account=EMAIL, now_ms=1)
    with pytest.raises(RateLimited):
        guard.admit(client="192.0.2.1", account=EMAIL, now_ms=2)
