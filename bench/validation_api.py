"""10,000 addresses over 2,000 domains through POST /api/v1/validation/emails: cold and warm cache.

    .venv/bin/python bench/validation_api.py [--redis]

Runs three processes: the loopback DNS server (bench/support/validation_dnsd.py), the API under uvicorn
(one worker, SQLite, DNS_NAMESERVERS pointing at the server) and this client. The first request
finds the cache cold (2,000 MX + 50 A lookups); the second, with the same domains, finds it warm.
--redis keeps the cache in Redis (REDIS_URL, default redis://127.0.0.1:6379/0) instead of in process.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from email_engine.migrate import upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from validation_dnsd import domain_name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_dns(domains: int) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve().parent / "support" / "validation_dnsd.py"),
            "--domains",
            str(domains),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ee-bench-api-"))
    database = f"sqlite:///{workdir / 'bench.db'}"
    upgrade_database(database)
    dns, dns_port = start_dns(args.domains)
    api_key = secrets.token_urlsafe(32)
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database,
        "API_KEY": api_key,
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DNS_NAMESERVERS": f"127.0.0.1:{dns_port}",
        "RATE_LIMIT_ENABLED": "false",
        "VALIDATION_ALLOW_TEST_DOMAINS": "true",
        "LOG_LEVEL": "WARNING",
        "REDIS_KEY_PREFIX": f"ee-bench-{secrets.token_hex(4)}:",
    }
    if args.redis:
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    else:
        env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "email_engine.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=workdir,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=60) as client:
            for _ in range(200):
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            per_domain = max(1, args.addresses // args.domains)
            emails = [f"user{j}@{domain_name(i)}" for i in range(args.domains) for j in range(per_domain)]
            emails = emails[: args.addresses]
            for label in ("cold", "warm", "warm"):
                api_cpu, dns_cpu = cpu_seconds(server.pid), cpu_seconds(dns.pid)
                started = time.perf_counter()
                response = client.post("/api/v1/validation/emails", json={"emails": emails})
                seconds = time.perf_counter() - started
                api_cpu, dns_cpu = cpu_seconds(server.pid) - api_cpu, cpu_seconds(dns.pid) - dns_cpu
                body = response.json()
                assert response.status_code == 200, body
                counts = {k: body[k] for k in ("valid", "invalid", "risky", "unknown")}
                print(
                    f"{label}: {len(emails):,} addresses over {args.domains:,} domains in {seconds:.3f} s wall "
                    f"(API process {api_cpu:.2f} s CPU, DNS server {dns_cpu:.2f} s CPU) {counts}"
                )
    finally:
        server.terminate()
        dns.terminate()
        server.wait(10)
        dns.wait(10)


if __name__ == "__main__":
    main()
