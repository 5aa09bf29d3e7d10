"""Request budgets: 60/min by default (including /health), shared through Redis across workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from email_engine.auth import service as auth_service
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.config import Settings, generate_secret
from tests.conftest import make_settings
from tests.support.databases import REDIS_URL
from tests.support.factories import free_port


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    """This module's app enforces the budgets (the shared fixtures switch them off)."""
    return make_settings(database_url, redis_url, RATE_LIMIT_ENABLED=True, RATE_LIMIT_LOGIN="3/minute")


def test_health_budget_is_sixty_per_minute(client: TestClient) -> None:
    statuses = Counter()
    last = None
    for _ in range(70):
        last = client.get("/health")
        statuses[last.status_code] += 1
    assert statuses == {200: 60, 429: 10}
    assert last is not None
    assert int(last.headers["Retry-After"]) >= 1
    assert last.json()["error"] == "rate_limited"


def test_spoofed_forwarded_for_does_not_buy_a_new_budget(client: TestClient) -> None:
    codes = [
        client.get("/health", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(65)
    ]
    assert codes.count(429) == 5


def test_failed_logins_are_limited(client: TestClient) -> None:
    app = client.app
    with app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        auth_service.create_user(
            session,
            email="u@example.org",
            username="u",
            password="right password here",
            role=Role.VIEWER,
            now=utcnow(),
        )
        session.commit()
    for _ in range(3):
        wrong = client.post(
            "/api/v1/auth/login", json={"email": "u@example.org", "password": "wrong guess 1"}
        )
        assert wrong.status_code == 401
    blocked = client.post(
        "/api/v1/auth/login", json={"email": "u@example.org", "password": "right password here"}
    )
    assert blocked.status_code == 429
    assert "login attempts" in blocked.json()["detail"]


@pytest.mark.slow
def test_two_workers_share_one_budget_through_redis(database_url: str, tmp_path: Path) -> None:
    """Two real `serve` worker processes behind one port: 70 requests give exactly 10 refusals."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"ee-test-{port}:",
        "API_KEY": generate_secret(),
        "JWT_SECRET_KEY": generate_secret(),
        "ENVIRONMENT": "test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    log_path = tmp_path / "serve.log"
    log_file = log_path.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "email_engine",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-migrate",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/metrics", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("serve did not start: " + log_path.read_text(errors="replace")[-2000:])
                time.sleep(0.2)
        time.sleep(1)  # let the second worker finish booting too
        with httpx.Client(base_url=base, timeout=5) as http:
            codes = Counter(http.get("/health").status_code for _ in range(70))
            assert codes == {200: 60, 429: 10}
            metrics = http.get("/metrics").text
        counted = [
            line for line in metrics.splitlines() if line.startswith("email_engine_http_requests_total{")
        ]

        def total(*needles: str) -> float:
            return sum(float(line.rsplit(" ", 1)[1]) for line in counted if all(n in line for n in needles))

        # Both workers' counts are merged: 60 answered on /health, 10 refused before routing.
        assert total('route="/health"', 'status="200"') == 60
        assert total('status="429"') == 10
    finally:
        server.terminate()
        server.wait(timeout=20)
        log_file.close()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"ee-test-{port}:*"))
        if keys:
            client.delete(*keys)
        client.close()
