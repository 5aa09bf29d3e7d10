"""Feedback freshness end to end: a hard bounce written into a live ``email-engine pipe`` → scraper-pro.

    .venv/bin/python bench/outbox_freshness.py [--records 120] [--rate 4] [--mode wake|poll|both]

Runs what production runs, on this machine: a throwaway PostgreSQL database (TEST_POSTGRES_ADMIN_URL) and
Redis, ``email-engine serve`` (one worker, scheduler on: it takes the leader lease and runs the ``outbox``
job every 10 s), a live ``email-engine pipe`` fed through its stdin like PowerMTA's accounting pipe, and a
local scraper-pro receiver (tests/support/scraper_pro_receiver.py: it verifies every signature). Hard
bounces are written one at a time at ``--rate`` per second; the latency of each is the time from its line
being written to the pipe to its event arriving, signed, at the receiver.

``--mode wake`` is the default configuration (commits wake the deliverer through PostgreSQL
LISTEN/NOTIFY); ``--mode poll`` sets OUTBOX_WAKE_ON_COMMIT=false, the baseline of polling every 10 s.
Prints one JSON line per mode: p50, p90, p99, max in seconds, and how many arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.databases import REDIS_URL, throwaway_postgres  # noqa: E402
from tests.support.scraper_pro_receiver import ScraperProReceiver  # noqa: E402

from email_engine.config import generate_secret  # noqa: E402
from email_engine.migrate import upgrade_database  # noqa: E402

EMAIL_ENGINE = str(Path(sys.executable).parent / "email-engine")
SECRET = generate_secret()
HEADER = "type,timeLogged,rcpt,dsnStatus,dsnDiag,dlvSourceIp,vmta\n"


class TimedReceiver(ScraperProReceiver):
    """The receiver, noting when each address first arrived."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.arrived: dict[str, float] = {}
        self.refusals: list[str] = []
        handle = self.peer.handler

        def timed(request: Any) -> Any:
            answer = handle(request)
            now = time.monotonic()
            if answer[0] < 300:
                for item in json.loads(request.body).get("events", []):
                    self.arrived.setdefault(str(item.get("email")), now)
            else:
                self.refusals.append(f"{request.method} {request.path} -> {answer[0]} {answer[1]}")
            return answer

        self.peer.handler = timed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(mode: str, records: int, rate: float) -> dict[str, Any]:
    with (
        throwaway_postgres() as database_url,
        tempfile.TemporaryDirectory() as scratch,
        TimedReceiver(SECRET) as receiver,
    ):
        upgrade_database(database_url)
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": f"bench-fresh-{port}:",
            "API_KEY": generate_secret(),
            "JWT_SECRET_KEY": generate_secret(),
            "ENVIRONMENT": "development",
            "SCHEDULER_ENABLED": "true",
            "SCRAPER_PRO_BOUNCE_URL": receiver.bounce_url,
            "SCRAPER_PRO_HMAC_SECRET": SECRET,
            "OUTBOX_WAKE_ON_COMMIT": "true" if mode == "wake" else "false",
            "PIPE_SPOOL_DIR": str(Path(scratch) / "spool"),
            "PROMETHEUS_MULTIPROC_DIR": scratch,
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [EMAIL_ENGINE, "serve", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=scratch,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pipe = subprocess.Popen(
            [EMAIL_ENGINE, "pipe"], env=env, cwd=scratch, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        assert pipe.stdin is not None
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (
                        httpx.get(
                            f"http://127.0.0.1:{port}/api/v1/jobs", headers={"X-API-Key": env["API_KEY"]}
                        ).status_code
                        == 200
                    ):
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not start")
                time.sleep(0.2)
            time.sleep(3)  # the scheduler takes the lease and the outbox job's first run passes
            pipe.stdin.write(HEADER.encode())
            pipe.stdin.flush()
            written: dict[str, float] = {}
            for index in range(records):
                address = f"gone{index}@fresh.example"
                stamp = time.strftime("%Y-%m-%d %H:%M:%S+0000", time.gmtime())
                line = (
                    f"b,{stamp},{address},5.1.1,smtp;550 5.1.1 <{address}>: user unknown,192.0.2.1,vmta-a\n"
                )
                pipe.stdin.write(line.encode())
                pipe.stdin.flush()
                written[address] = time.monotonic()
                time.sleep(1 / rate)
            deadline = time.monotonic() + 60
            while len(receiver.arrived) < records and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            pipe.stdin.close()
            pipe.wait(timeout=60)
            server.terminate()
            server.wait(timeout=30)
        latencies = [receiver.arrived[a] - t for a, t in written.items() if a in receiver.arrived]
        return {
            "mode": mode,
            "records": records,
            "arrived": len(latencies),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p90_s": round(_percentile(latencies, 0.90), 3) if latencies else None,
            "p99_s": round(_percentile(latencies, 0.99), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None,
            "bad_signatures": receiver.bad_signatures,
            "duplicates": receiver.duplicates,
            "refusals": receiver.refusals[:5],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=120)
    parser.add_argument("--rate", type=float, default=4.0, help="bounces written per second")
    parser.add_argument("--mode", choices=["wake", "poll", "both"], default="both")
    args = parser.parse_args()
    modes = ["wake", "poll"] if args.mode == "both" else [args.mode]
    for mode in modes:
        print(json.dumps(run(mode, args.records, args.rate)), flush=True)


if __name__ == "__main__":
    main()
