"""Console page times with 1,000 IPs and 30 days of statistics.

    .venv/bin/python bench/console_pages.py [--database postgresql|sqlite] [--ips 1000] [--days 30] [--rounds 20]

Builds a throwaway database (PostgreSQL at 127.0.0.1 by default, as in production; or a SQLite file),
fills it with ``--ips`` sending IPs (half of them warming under a running plan, a few listed) and
``--days`` days of hourly statistics buckets (every IP, six providers, the totals and bounce categories),
serves the real app on a real uvicorn on loopback, logs in through the login form, and times each
console page as the browser asks for it (p50/p95 of ``--rounds`` requests after one warm-up request).
The time is measured at the client on loopback: wall time (the server's time plus a loopback round trip;
on a shared machine it includes waiting for a core) and the CPU time of the process (server and client
run in it; the client's part is a small HTTP request).
The Overview shows the last preflight result and refreshes it in a background thread once it is a
minute old: only the process's first Overview waits for a run (its time is printed apart). A second
Overview series finds the result stale at every request (each starts a background refresh, one at a
time), the worst case for the page; "Run preflight again" (inline by design) is timed once. No targets are asserted: these are measurements (README "Benchmarks": target < 200 ms).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from email_engine.auth import service as auth_service  # noqa: E402
from email_engine.auth.roles import Role  # noqa: E402
from email_engine.config import Settings  # noqa: E402
from email_engine.console.preflight_cache import EXTRAS_KEY, PreflightCache  # noqa: E402
from email_engine.context import build_context  # noqa: E402
from email_engine.feedback.models import StatBucket  # noqa: E402
from email_engine.ips import service as ip_service  # noqa: E402
from email_engine.logging import configure_logging  # noqa: E402
from email_engine.main import create_app  # noqa: E402
from email_engine.migrate import upgrade_database  # noqa: E402
from email_engine.platform.preflight import PreflightSettings  # noqa: E402
from email_engine.plugins import import_all_models  # noqa: E402
from email_engine.preflight.runner import run_preflight  # noqa: E402
from email_engine.reputation.dnsbl import ZoneResult  # noqa: E402
from email_engine.reputation.service import record_dnsbl_results  # noqa: E402
from email_engine.warmup import service as warmup_service  # noqa: E402

PASSWORD = "bench password for the console"
PROVIDERS = ("gmail", "microsoft", "yahoo", "apple", "gmx", "other")
CATEGORIES = ("bad-mailbox", "spam-related", "quota-issues", "policy-related")


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"ee_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(ctx: Any, *, ips: int, days: int, now: datetime) -> int:
    """The inventory, plans, listings and statistics; returns the id of a warming IP."""
    start = time.perf_counter()
    with ctx.session_factory() as session:
        auth_service.create_user(
            session, email="bench@example.org", username="bench", password=PASSWORD, role=Role.ADMIN, now=now
        )
        addresses = [f"10.{i // 250}.{i % 250}.{1 + i % 7}" for i in range(ips)]
        created = []
        for index, address in enumerate(addresses):
            ip = ip_service.create_ip(
                session,
                address=address,
                hostname=f"mta{index}.example.com",
                purpose="marketing",
                vmta_name=f"vmta-{index}",
                actor="bench",
                now=now - timedelta(days=days + 1),
            )
            created.append(ip.id)
        for ip_id in created[: ips // 2]:
            plan = warmup_service.create_plan(
                session, ip_id=ip_id, preset="standard", actor="bench", now=now - timedelta(days=days)
            )
            warmup_service.start_plan(
                session, plan_id=plan.id, actor="bench", now=now - timedelta(days=days), mailwizz=None
            )
        for address in addresses[-10:]:
            record_dnsbl_results(
                session,
                target=address,
                results=[ZoneResult(zone="zen.spamhaus.org", status="listed", codes=("127.0.0.2",))],
                now=now,
            )
        session.commit()
        first_hour = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        rows: list[dict[str, Any]] = []
        count = 0

        def bucket(hour: datetime, dimension: str, key: str, sent: int) -> dict[str, Any]:
            return {
                "hour": hour,
                "dimension": dimension,
                "key": key,
                "sent": sent,
                "delivered": sent - sent // 50,
                "bounced": sent // 50,
                "hard": sent // 100,
                "soft": sent // 200,
                "block": sent // 400,
                "complaints": sent // 2000,
                "deferred": sent // 20,
            }

        for step in range(days * 24):
            hour = first_hour + timedelta(hours=step)
            rows.extend(bucket(hour, "ip", address, 40 + step % 17) for address in addresses)
            rows.extend(bucket(hour, "provider", name, 800 + step % 31) for name in PROVIDERS)
            rows.append(bucket(hour, "all", "*", 40 * ips))
            rows.extend(bucket(hour, "category", name, 30) for name in CATEGORIES)
            if len(rows) >= 20_000:
                session.execute(insert(StatBucket), rows)
                count += len(rows)
                rows = []
        if rows:
            session.execute(insert(StatBucket), rows)
            count += len(rows)
        session.commit()
    print(
        f"seeded {ips:,} IPs ({ips // 2:,} warming), {count:,} hourly buckets in {time.perf_counter() - start:.1f} s"
    )
    return created[0]


class Server:
    def __init__(self, app: Any) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _cookie(answer: httpx.Response, name: str) -> str:
    for header in answer.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie")


def login(client: httpx.Client) -> None:
    """Log in through the form. The cookies are Secure, which httpx keeps to HTTPS; on loopback the
    benchmark sends them itself, as a browser does for 127.0.0.1."""
    page = client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token
    answer = client.post(
        "/ui/login",
        data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": f"ee_csrf={_cookie(page, 'ee_csrf')}"},
    )
    assert answer.status_code == 303, answer.text
    client.headers["Cookie"] = (
        f"ee_session={_cookie(answer, 'ee_session')}; ee_csrf={_cookie(answer, 'ee_csrf')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--ips", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    import_all_models()
    now = datetime.now(UTC)
    with database(args.database) as url:
        upgrade_database(url)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            ENVIRONMENT="test",
            API_KEY=secrets.token_urlsafe(32),
            JWT_SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=url,
            RATE_LIMIT_ENABLED=False,
            LOG_LEVEL="WARNING",
        )
        configure_logging(settings)
        ctx = build_context(settings)
        ip_id = seed(ctx, ips=args.ips, days=args.days, now=now)
        with ctx.session_factory() as session:
            plan_id = warmup_service.list_plans(session, ip_id=ip_id)[1][0].id
        pages = {
            "overview /ui/": "/ui/",
            "IPs /ui/ips (first 100 of 1,000)": "/ui/ips",
            "IP page /ui/ips/{id} (chart, history)": f"/ui/ips/{ip_id}",
            "Warmup /ui/warmup": "/ui/warmup",
            "plan /ui/warmup/{id} (chart, days)": f"/ui/warmup/{plan_id}",
            "Validation /ui/validation": "/ui/validation",
        }
        with Server(create_app(ctx=ctx)) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            login(client)
            cold = time.perf_counter()
            first = client.get("/ui/")
            print(
                f"{'overview, first request (runs preflight)':<44} {(time.perf_counter() - cold) * 1000:8.1f} ms"
            )
            assert first.status_code == 200, first.status_code
            print(f"database: {args.database}; {args.rounds} requests per page after one warm-up")
            for label, path in pages.items():
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                samples, cpu = [], []
                for _ in range(args.rounds):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    answer = client.get(path)
                    samples.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    assert answer.status_code == 200
                samples.sort()
                p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
                print(
                    f"{label:<40} wall p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms  "
                    f"CPU p50 {statistics.median(cpu):6.1f} ms  {len(answer.content) // 1024:4d} KiB"
                )
            # Every result stale: each request starts a background refresh (one at a time) and is
            # answered with the last result.
            stale = PreflightCache(lambda at: run_preflight(ctx, PreflightSettings(), at), max_age=0)
            ctx.extras[EXTRAS_KEY] = stale
            client.get("/ui/")
            samples = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                assert client.get("/ui/").status_code == 200
                samples.append((time.perf_counter() - started) * 1000)
            stale.wait(60)
            samples.sort()
            p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
            label = "overview, preflight stale at every request"
            print(f"{label:<40} wall p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms")
            started = time.perf_counter()
            assert client.get("/ui/?preflight=run").status_code == 200
            print(
                f"{'overview, Run preflight again (inline)':<40} {(time.perf_counter() - started) * 1000:8.1f} ms"
            )
            print(f"load average while measured: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        ctx.close()


if __name__ == "__main__":
    main()
