"""Load and soak test: the engine under gunicorn (4 uvicorn workers) on PostgreSQL and Redis, driven from
this separate process over loopback.

    .venv/bin/python bench/load/run_load.py [--soak-seconds 600] [--workers 4] [--json]

Phases: (1) accounting ingestion throughput through POST /api/v1/webhooks/pmta-batch; (2) read latency
p50/p99 of GET /api/v1/stats/summary, /api/v1/stats/ips and /api/v1/ips; (3) the default rate limit shared
by all workers through Redis; (4) a soak of mixed traffic, sampling the RSS of every gunicorn process.
Everything runs against a throwaway database and Redis key prefix, bounded in count and time, and stops by
itself. Figures print at the end (README "Benchmarks").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HEADER = "type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def csv_batch(batch: int, size: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+0000")
    rows = []
    for i in range(size):
        n = batch * size + i
        ip = f"192.0.2.{10 + n % 5}"
        if n % 10 == 0:
            rows.append(
                f'b,{stamp},news@example.com,u{n}@example.net,5.1.1,"smtp;550 5.1.1 user unknown",'
                f"bad-mailbox,{ip},vmta-{n % 5}"
            )
        else:
            rows.append(f"d,{stamp},news@example.com,u{n}@example.org,2.0.0,smtp;250 ok,,{ip},vmta-{n % 5}")
    return HEADER + "\n".join(rows) + "\n"


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def gunicorn_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    kids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    return [master, *kids]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def ingest(
    base: str, headers: dict[str, str], batches: int, size: int, concurrency: int
) -> dict[str, Any]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for b in range(batches):
        queue.put_nowait(b)
    accepted = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            b = queue.get_nowait()
            response = await client.post(
                f"{base}/api/v1/webhooks/pmta-batch",
                content=csv_batch(b, size),
                headers={**headers, "Content-Type": "text/csv"},
            )
            response.raise_for_status()
            accepted += response.json()["accepted"]

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "records": accepted,
        "seconds": round(elapsed, 2),
        "records_per_second": round(accepted / elapsed),
    }


async def read_latency(base: str, headers: dict[str, str], requests: int, concurrency: int) -> dict[str, Any]:
    paths = ["/api/v1/stats/summary", "/api/v1/stats/ips", "/api/v1/ips"]
    timings: dict[str, list[float]] = {path: [] for path in paths}
    statuses: Counter[int] = Counter()
    sem = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, path: str) -> None:
        async with sem:
            t0 = time.perf_counter()
            response = await client.get(f"{base}{path}", headers=headers)
            timings[path].append(time.perf_counter() - t0)
            statuses[response.status_code] += 1

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(one(client, paths[i % len(paths)]) for i in range(requests)))
    return {
        "statuses": dict(statuses),
        **{
            path: {
                "p50_ms": round(percentile(t, 0.5) * 1000, 1),
                "p99_ms": round(percentile(t, 0.99) * 1000, 1),
            }
            for path, t in timings.items()
        },
    }


async def shared_limit(base: str, requests: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        responses = await asyncio.gather(*(client.get(f"{base}/health") for _ in range(requests)))
    statuses = Counter(r.status_code for r in responses)
    return {
        "requests": requests,
        "allowed": statuses.get(200, 0) + statuses.get(503, 0),
        "refused_429": statuses.get(429, 0),
    }


async def soak(base: str, headers: dict[str, str], seconds: int, master: int) -> dict[str, Any]:
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + seconds
    batch = 10_000
    sent = 0
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < deadline:
            round_end = time.monotonic() + 10
            while time.monotonic() < min(round_end, deadline):
                await client.post(
                    f"{base}/api/v1/webhooks/pmta-batch",
                    content=csv_batch(batch, 200),
                    headers={**headers, "Content-Type": "text/csv"},
                )
                batch += 1
                sent += 200
                await client.get(f"{base}/api/v1/stats/summary", headers=headers)
            samples.append((round(seconds - (deadline - time.monotonic())), rss_kib(gunicorn_pids(master))))
    first, last = samples[0][1], samples[-1][1]
    return {
        "seconds": seconds,
        "records": sent,
        "rss_first_mib": round(first / 1024, 1),
        "rss_last_mib": round(last / 1024, 1),
        "rss_max_mib": round(max(s[1] for s in samples) / 1024, 1),
        "samples": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batches", type=int, default=100, help="ingestion batches of --batch-size records")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--soak-seconds", type=int, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    db = f"ee_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    database_url = f"postgresql://{ADMIN_URL.split('://', 1)[1].rsplit('/', 1)[0]}/{db}"
    port = free_port()
    prefix = f"ee-load-{port}:"
    api_key = secrets.token_urlsafe(40)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        "API_KEY": api_key,
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_ENABLED": "false",
        # the load phases measure throughput; the rate-limit phase uses its own server below
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_WEBHOOK": "1000000/minute",
    }
    results: dict[str, Any] = {"workers": args.workers, "machine": f"{os.cpu_count()} cores"}
    subprocess.run(
        [str(ROOT / ".venv/bin/email-engine"), "db", "upgrade"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )

    def start(extra: dict[str, str], bind_port: int) -> tuple[subprocess.Popen[bytes], str]:
        metrics_dir = tempfile.mkdtemp(prefix="ee-load-metrics-")
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--config",
                str(ROOT / "deploy/gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{bind_port}",
                "--workers",
                str(args.workers),
                "--access-logfile",
                "/dev/null",
                "email_engine.main:create_app()",
            ],
            env={**env, **extra, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{bind_port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/metrics", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(2)
        return server, base

    server, base = start({}, port)
    headers = {"X-API-Key": api_key}
    try:
        results["ingest"] = asyncio.run(ingest(base, headers, args.batches, args.batch_size, concurrency=8))
        results["reads"] = asyncio.run(read_latency(base, headers, args.reads, concurrency=32))
        if args.soak_seconds:
            results["soak"] = asyncio.run(soak(base, headers, args.soak_seconds, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    limit_port = free_port()
    limited, limited_base = start(
        {"RATE_LIMIT_DEFAULT": "60/minute", "REDIS_KEY_PREFIX": prefix + "rl:"}, limit_port
    )
    try:
        results["shared_rate_limit"] = asyncio.run(shared_limit(limited_base, 200))
    finally:
        limited.terminate()
        limited.wait(timeout=30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    print(json.dumps(results, indent=None if args.json else 2))


if __name__ == "__main__":
    sys.exit(main())
