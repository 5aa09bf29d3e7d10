"""A 1,000,000-row CSV through `email-engine validate` with a warm DNS cache: time and peak memory.

    .venv/bin/python bench/validation_csv.py [--rows 1000000] [--progress]

--progress times the command as an operator sees it without a terminal (progress lines, which keep chunks at
1,000 rows) instead of --json (chunks of VALIDATION_JOB_CHUNK_ROWS, 10,000 by default).

The loopback DNS server (bench/support/validation_dnsd.py) serves 2,000 domains; a first small run warms
the cache, which lives in Redis (REDIS_URL, default redis://127.0.0.1:6379/0) so that it outlives
a process, as it does for the API workers. The timed run is a separate process; its peak RSS comes
from wait4(). The suppression check (SQLite) is on.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from email_engine.migrate import upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from validation_dnsd import domain_name

from validation_api import start_dns


def write_csv(path: Path, rows: int, domains: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "first_name", "last_name", "email", "city", "signup_date"])
        for i in range(rows):
            local = ("info" if i % 50 == 0 else f"user.{i}") + ("" if i % 200 else "..bad")
            writer.writerow([i, "Jane", "Doe", f"{local}@{domain_name(i % domains)}", "Paris", "2026-01-02"])


def run(
    source: Path, output: Path, env: dict[str, str], *, progress: bool = False
) -> tuple[float, float, int, dict[str, object]]:
    command = [
        sys.executable,
        "-c",
        "from email_engine.cli import main; main()",
        "validate",
        str(source),
        "-o",
        str(output),
        *(["--progress-interval", "5"] if progress else ["--json"]),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"validate failed ({process.returncode}): {err}")
    summary = {"progress_lines": err.count("validating: ")} if progress else json.loads(out)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument(
        "--progress", action="store_true", help="time it with progress lines instead of --json"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ee-bench-csv-"))
    database = f"sqlite:///{workdir / 'bench.db'}"
    upgrade_database(database)
    dns, port = start_dns(args.domains)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DNS_NAMESERVERS": f"127.0.0.1:{port}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_KEY_PREFIX": f"ee-bench-{secrets.token_hex(4)}:",
        "VALIDATION_ALLOW_TEST_DOMAINS": "true",
        "LOG_LEVEL": "WARNING",
    }
    try:
        warm_source = workdir / "warm.csv"
        write_csv(warm_source, args.domains, args.domains)
        seconds, _cpu, _rss, _summary = run(warm_source, workdir / "warm-out.csv", env)
        print(f"warm-up: {args.domains:,} rows (every domain once) in {seconds:.1f} s")
        source = workdir / "list.csv"
        write_csv(source, args.rows, args.domains)
        size = source.stat().st_size
        seconds, cpu, rss, summary = run(source, workdir / "out.csv", env, progress=args.progress)
        keys = ("progress_lines",) if args.progress else ("rows", "valid", "invalid", "risky", "unknown")
        counts = {k: summary[k] for k in keys}
        print(
            f"validate: {args.rows:,} rows ({size / 1e6:.0f} MB) in {seconds:.1f} s wall = {args.rows / seconds:,.0f} "
            f"rows/s; {cpu:.1f} s CPU (process start included); peak RSS {rss / 1e6:.0f} MB {counts}"
        )
    finally:
        dns.terminate()
        dns.wait(10)
        for path in workdir.glob("*.csv"):
            path.unlink()


if __name__ == "__main__":
    main()
